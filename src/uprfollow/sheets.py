"""`upr sheet`: the response sheet a stakeholder fills in for one State's recommendations.

One .xlsx workbook, one sheet: a title and a short instruction block, cells for the
stakeholder's name, type, short label and date, then a header row and one row per
recommendation: ID, paragraph, text, recommending State(s), response, issues, and the
three input columns: level (a drop-down), comment, sources. Only the input cells are
unlocked (sheet protection, no password: it guards against accidents, not people).
Everything written from the store goes in as text with Excel's quote prefix when it
starts with = + - @, so no spreadsheet ever takes it for a formula.

The sheet's columns and words (English, French, Spanish) are those of the format module
`formats/response_sheet.py`, which also reads filled sheets back; level and stakeholder-type
words come from `vocab` (the same table the digest uses).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import vocab
from .errors import InputError, UsageError
from .formats.cells import looks_like_formula
from .formats.response_sheet import COLUMNS, FIRST_DATA_ROW, HEADER_ROW, INPUT_COLUMNS, TEXTS
from .iri import RecStatus, statuses
from .paths import replace_atomically, safe_output_path
from .store import Store

if TYPE_CHECKING:  # openpyxl is imported inside the functions that need it
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook import Workbook

WIDTHS = {"id": 19, "paragraph": 11, "text": 70, "rs": 26, "response": 12, "issues": 24, "level": 24, "comment": 50, "sources": 30}


@dataclass
class SheetInfo:
    path: str
    sur: str
    session: int | None
    cycle: int | None
    lang: str
    rows: int
    prefilled: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def put_text(cell: Cell, value: str | None) -> None:
    """Write text so that it stays text: string type always, quote prefix when it looks like a formula."""
    if value is None or value == "":
        cell.value = None
        return
    cell.value = value
    cell.data_type = "s"  # openpyxl made it a formula if it starts with '='; force text
    if looks_like_formula(value):
        cell.quotePrefix = True


def _row_height(values: dict[str, str]) -> float:
    """A height (points) that shows every wrapped cell of a row whole, from text length and column width."""
    lines = 1
    for col, text in values.items():
        if not text:
            continue
        per_line = max(4, int(WIDTHS[col] * 1.1))
        lines = max(lines, sum(len(textwrap.wrap(part, per_line)) or 1 for part in str(text).split("\n")))
    return 15.0 * min(lines, 27) + 2


def _title_scope(lang: str, items: list[RecStatus], session: int | None, cycle: int | None) -> str:
    sessions = sorted({s.session for s in items if s.session is not None})
    if session is not None or len(sessions) == 1:
        s = session if session is not None else sessions[0]
        known = vocab.sessions().get(s)
        return f"{s}" + (f" ({known.year})" if known else "")
    if cycle is not None:
        return TEXTS[lang]["cycle"].format(cycle=cycle)
    return ", ".join(str(s) for s in sessions)


def _prefill(store: Store, stakeholder: str, sur: str) -> tuple[dict[int, tuple[str, str | None, str | None]], dict[str, str | None]]:
    from .assessments import Assessments

    repo = Assessments(store)
    who = repo.stakeholder(stakeholder)
    if who is None:
        names = repo.stakeholder_names()
        raise InputError(
            f"--prefill {stakeholder!r}: no such stakeholder in the store",
            hint=("known stakeholders: " + ", ".join(names)) if names else "ingest a filled sheet first with `upr ingest`",
        )
    found = {pk: (c.level, c.comment, c.sources) for pk, c in repo.current(who.id, sur).items()}
    last, _ = repo.last_as_of(who.id, sur)
    return found, {"name": who.name, "type": who.type, "label": who.label, "as_of": last}


def build(
    store: Store,
    sur: str,
    *,
    session: int | None = None,
    cycle: int | None = None,
    lang: str = "en",
    prefill: str | None = None,
) -> tuple[Workbook, SheetInfo]:
    """The response sheet for one State (one session or cycle) as an openpyxl workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    lang = vocab.resolve_language(lang)
    if session is not None and cycle is not None:
        raise UsageError("--session and --cycle cannot be used together", hint="choose one")
    code = vocab.resolve_state(sur)
    items = statuses(store, code, session=session, cycle=cycle)
    if not items:
        scope = f" at session {session}" if session is not None else f" in cycle {cycle}" if cycle is not None else ""
        raise InputError(
            f"no recommendations to {vocab.countries()[code].name} ({code}){scope} in the store {store.path}",
            hint="import them first with `upr import FILE`, or check --session / --cycle",
        )
    t = TEXTS[lang]
    prefilled: dict[int, tuple[str, str | None, str | None]] = {}
    who: dict[str, str | None] = {}
    if prefill:
        prefilled, who = _prefill(store, prefill, code)

    wb = Workbook()
    ws = wb.active
    ws.title = t["sheet"]
    wb.properties.creator = "upr (uprfollow)"
    wb.properties.title = f"{t['title']}: {code}"

    thin = Side(style="thin", color="A6A6A6")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    unlocked = Protection(locked=False)
    last_col = len(COLUMNS)

    for i, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[_letter(i)].width = WIDTHS[col]

    # Title and instructions
    put_text(ws.cell(1, 1), t["title"])
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.row_dimensions[1].height = 22
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)
    put_text(ws.cell(2, 1), t["instructions"])
    ws.cell(2, 1).alignment = wrap_top
    ws.row_dimensions[2].height = 62

    # Who and what: label in A (merged A:B), value in C; second pair label in D, value in E (merged E:F)
    country = vocab.countries()[code]
    meta = t["meta"]
    pairs = [
        ((meta["sur"], f"{country.name} ({code})", False), (meta["session"], _title_scope(lang, items, session, cycle), False)),
        ((meta["stakeholder"], who.get("name"), True), (meta["stakeholder_type"], t["types"].get(who.get("type") or "", None), True)),
        ((meta["label"], who.get("label"), True), (t["date_hint"], who.get("as_of"), True)),
    ]
    for r, (left, right) in enumerate(pairs, start=3):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        ws.merge_cells(start_row=r, start_column=5, end_row=r, end_column=6)
        for (label, value, editable), (lc, vc) in ((left, (1, 3)), (right, (4, 5))):
            put_text(ws.cell(r, lc), label)
            ws.cell(r, lc).font = Font(bold=True)
            ws.cell(r, lc).alignment = Alignment(vertical="center")
            cell = ws.cell(r, vc)
            put_text(cell, value)
            cell.border = box
            cell.alignment = Alignment(vertical="center")
            if editable:
                cell.fill = input_fill
                cell.protection = unlocked
                if vc == 5:
                    ws.cell(r, 6).protection = unlocked
                    ws.cell(r, 6).fill = input_fill
        ws.row_dimensions[r].height = 18
    type_list = DataValidation(type="list", formula1='"' + ",".join(t["types"].values()) + '"', allow_blank=True,
                               errorStyle="warning", showErrorMessage=True)
    ws.add_data_validation(type_list)
    type_list.add("E4")

    # Header row
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(HEADER_ROW, i)
        put_text(cell, t["headers"][col])
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.border = box
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[HEADER_ROW].height = 32

    # One row per recommendation
    names = vocab.countries()
    for n, rec in enumerate(items):
        r = FIRST_DATA_ROW + n
        prior = prefilled.get(rec.pk)
        values = {
            "id": rec.id,
            "paragraph": rec.paragraph or "",
            "text": rec.text,
            "rs": "; ".join(names[c].name if c in names else c for c in rec.rs),
            "response": t["responses"].get(rec.response or "", rec.response or ""),
            "issues": "; ".join(rec.issues),
            "level": t["levels"][prior[0]] if prior else "",
            "comment": (prior[1] or "") if prior else "",
            "sources": (prior[2] or "") if prior else "",
        }
        for i, col in enumerate(COLUMNS, start=1):
            cell = ws.cell(r, i)
            put_text(cell, values[col])
            cell.alignment = wrap_top
            cell.border = box
            if col in INPUT_COLUMNS:
                cell.protection = unlocked
                cell.fill = input_fill
        ws.row_dimensions[r].height = _row_height({c: values[c] for c in ("text", "rs", "issues", "comment", "sources")})
    last_row = FIRST_DATA_ROW + len(items) - 1

    level_col = _letter(COLUMNS.index("level") + 1)
    levels = DataValidation(type="list", formula1='"' + ",".join(t["levels"].values()) + '"', allow_blank=True,
                            errorStyle="warning", showErrorMessage=True, showInputMessage=True,
                            promptTitle=t["headers"]["level"], prompt=t["level_prompt"], error=t["level_error"])
    ws.add_data_validation(levels)
    levels.add(f"{level_col}{FIRST_DATA_ROW}:{level_col}{last_row}")

    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{_letter(last_col)}{last_row}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False   # resizing columns and rows stays allowed
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    return wb, SheetInfo(path="", sur=code, session=session, cycle=cycle, lang=lang, rows=len(items),
                         prefilled=sum(1 for rec in items if rec.pk in prefilled))


def write_sheet(
    store: Store,
    sur: str,
    path: str | Path,
    *,
    session: int | None = None,
    cycle: int | None = None,
    lang: str = "en",
    prefill: str | None = None,
) -> SheetInfo:
    """Build the sheet and save it to `path`.

    `path` must not be a symbolic link (refused, exit 1); an existing file is replaced. The
    workbook is written to a fresh, unpredictable temporary file in the same folder
    (`paths.replace_atomically`), then renamed: no link is ever followed, no partial file left.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"-o {path}: the sheet is an Excel workbook", hint="name the output FILE.xlsx")
    path = safe_output_path(path, force=True)
    wb, info = build(store, sur, session=session, cycle=cycle, lang=lang, prefill=prefill)
    try:
        with replace_atomically(path) as f:
            wb.save(f)
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}", hint="check the folder exists and is writable") from None
    info.path = str(path)
    return info


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
