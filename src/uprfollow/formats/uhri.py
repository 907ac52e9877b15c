"""Universal Human Rights Index (UHRI) export (.xlsx).

Sixteen columns (DOMAIN.md section 3)::

    Text | Countries Concerned | Reccomending Body | Document Symbol | Themes | Affected Persons |
    Sdgs | Document Publication Date | UPR Reccomending States | UPR Position | Type |
    OHCHR Annotation Id | UPR Session | Regions Concerned | Recommending Regions |
    Date of publication on UHRI

("Reccomending" is OHCHR's spelling; the correct spelling is accepted too.) Every value is
prefixed "- ", multi-values are newline-separated, dates are Excel serials, the session reads
"- 36th Session" and the text starts with its paragraph number. The header row is looked for
in the first 20 rows of each sheet.

Rows of other bodies (treaty bodies, special procedures) have no UPR columns filled and a
"Reccomending Body" that is not the UPR; they are left out and counted by body
(`ReadResult.skipped`), so `upr import` says how many rows of which bodies it did not take.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from python_calamine import CalamineError, CalamineWorkbook

from uprfollow.errors import FormatNotRecognised, InputError, Problem
from uprfollow.formats.base import ReadResult, Record
from uprfollow.formats.ohchr_matrix import split_paragraph, strip_states

if TYPE_CHECKING:
    from python_calamine import CalamineSheet

NAME = "uhri"

HEADER_SEARCH_ROWS = 20

# canonical key -> label as OHCHR writes it
COLUMNS: dict[str, str] = {
    "text": "Text",
    "countries": "Countries Concerned",
    "body": "Reccomending Body",
    "document": "Document Symbol",
    "themes": "Themes",
    "affected": "Affected Persons",
    "sdgs": "Sdgs",
    "doc_date": "Document Publication Date",
    "rs": "UPR Reccomending States",
    "position": "UPR Position",
    "type": "Type",
    "annotation": "OHCHR Annotation Id",
    "session": "UPR Session",
    "regions": "Regions Concerned",
    "rs_regions": "Recommending Regions",
    "uhri_date": "Date of publication on UHRI",
}
REQUIRED = ("text", "countries", "rs", "position")
_MARKERS = ("reccomending body", "upr reccomending states")


def _norm_label(value: object) -> str:
    text = re.sub(r"\s+", " ", str(value or "")).strip().lower()
    return text.replace("recommending", "reccomending")


_BY_LABEL = {_norm_label(label): key for key, label in COLUMNS.items()}


def _is_header(row: list[object]) -> bool:
    labels = {_norm_label(v) for v in row}
    return any(m in labels for m in _MARKERS)


def _sheets(path: Path) -> Iterator[tuple[str, CalamineSheet]]:
    workbook = CalamineWorkbook.from_path(str(path))
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        yield name, sheet


def sniff(path: Path, head: bytes) -> bool:
    """An .xlsx whose header row (first 20 rows) has "Reccomending Body" or "UPR Reccomending States"."""
    if not head.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            if "xl/workbook.xml" not in zf.namelist():
                return False
        for _name, sheet in _sheets(path):
            rows = sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
            if any(_is_header(r) for r in rows):
                return True
    except (CalamineError, OSError, ValueError, zipfile.BadZipFile):
        return False
    return False


def _values(cell: object) -> list[str]:
    """Split a UHRI cell into values: one per line, without the "- " prefix."""
    if cell is None:
        return []
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    out: list[str] = []
    for line in str(cell).replace("\r", "\n").split("\n"):
        line = re.sub(r"^\s*-\s*", "", line.replace("\u00a0", " ")).strip()
        if line:
            out.append(line)
    return out


def _single(cell: object) -> str | None:
    values = _values(cell)
    return "; ".join(values) if values else None


def _text(cell: object) -> str | None:
    """The text keeps its lines (joined by spaces); only the leading "- " goes."""
    if cell is None:
        return None
    text = re.sub(r"^\s*-\s+", "", str(cell).replace("\u00a0", " "))
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


def _session(cell: object) -> str | None:
    raw = _single(cell)
    if raw is None:
        return None
    m = re.search(r"\d+", raw)
    return m.group(0) if m else raw


def _is_upr(body: str | None, rs: list[str], position: str | None, session: str | None) -> bool:
    if rs or position or session:
        return True
    if body is None:
        return True
    low = body.lower()
    return "upr" in low or "universal periodic review" in low


def _find_header(sheets: list[tuple[str, CalamineSheet]]) -> tuple[str, list[list[object]], int] | None:
    """(sheet name, rows, 0-based header index) of the first sheet with a UHRI header row."""
    for name, sheet in sheets:
        rows = sheet.to_python(skip_empty_area=False)
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            if _is_header(row):
                return name, rows, i
    return None


def read(path: Path) -> ReadResult:
    try:
        sheets = list(_sheets(path))
    except (CalamineError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"{path.name}: cannot open as an Excel workbook ({exc})",
            hint="export the UHRI search results as .xlsx and try again",
            problems=[Problem("not a readable .xlsx file", file=str(path))],
        ) from exc

    found = _find_header(sheets)
    if found is None:
        raise FormatNotRecognised(
            f"{path.name}: no UHRI header row in the first {HEADER_SEARCH_ROWS} rows",
            hint="a UHRI export has a header row with 'Text', 'Countries Concerned', "
            "'Reccomending Body', 'UPR Reccomending States', 'UPR Position', ...",
            problems=[Problem("no UHRI header row", file=str(path))],
        )

    sheet_name, rows, header_idx = found
    header = rows[header_idx]
    col: dict[str, int] = {}
    labels: dict[str, str] = {}
    for j, value in enumerate(header):
        key = _BY_LABEL.get(_norm_label(value))
        if key and key not in col:
            col[key] = j
            labels[key] = str(value).strip()
    missing = [COLUMNS[k] for k in REQUIRED if k not in col]
    if missing:
        raise InputError(
            f"{path.name}: UHRI export lacks column(s) {', '.join(repr(m) for m in missing)}",
            hint="export all columns from the UHRI, or rename the header cells to the UHRI names",
            problems=[
                Problem("missing column", file=str(path), sheet=sheet_name, row=header_idx + 1, column=m)
                for m in missing
            ],
        )

    columns = {
        "text": labels["text"],
        "paragraph": labels["text"],
        "sur": labels["countries"],
        "rs": labels["rs"],
        "response": labels["position"],
    }
    for key, field in (("themes", "themes"), ("session", "session"), ("document", "document"), ("sdgs", "sdgs"), ("affected", "groups")):
        if key in labels:
            columns[field] = labels[key]

    def cell(r: list[object], key: str) -> object:
        j = col.get(key)
        if j is None or j >= len(r):
            return None
        value = r[j]
        return None if value == "" else value

    records: list[Record] = []
    other_bodies: Counter[str] = Counter()
    for i in range(header_idx + 1, len(rows)):
        r = rows[i]
        if not any(v not in ("", None) for v in r):
            continue
        rs = _values(cell(r, "rs"))
        position = _single(cell(r, "position"))
        session = _session(cell(r, "session"))
        body = _single(cell(r, "body"))
        if not _is_upr(body, rs, position, session):
            other_bodies[body or "no body named"] += 1
            continue
        text = _text(cell(r, "text"))
        paragraph = None
        if text:
            paragraph, text = split_paragraph(text)
            # the recommending States often close the text: "... (Tunisia);"
            stripped, named = strip_states(text)
            if named and set(named) <= set(rs):
                text = stripped
            text = text.strip() or None
        records.append(
            Record(
                sur=_single(cell(r, "countries")),
                text=text,
                rs=rs,
                response=position,
                themes=_values(cell(r, "themes")),
                sdgs=_values(cell(r, "sdgs")),
                groups=_values(cell(r, "affected")),
                session=session,
                paragraph=paragraph,
                document=_single(cell(r, "document")),
                row=i + 1,
                sheet=sheet_name,
                columns=dict(columns),
            )
        )
    skipped = {f"not UPR ({body})": n for body, n in sorted(other_bodies.items(), key=lambda kv: (-kv[1], kv[0]))}
    return ReadResult(format=NAME, records=iter(records), total=len(records), skipped=skipped)
