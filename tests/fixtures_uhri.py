"""Build UHRI-format .xlsx fixtures (fictional content) for the reader tests.

The layout follows DOMAIN.md section 3: 16 columns with OHCHR's spelling "Reccomending",
every value prefixed "- ", multi-values newline-separated, dates as Excel serial numbers,
"UPR Session" as "- 36th Session" and the text starting with its paragraph number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook

HEADER: list[str] = [
    "Text",
    "Countries Concerned",
    "Reccomending Body",
    "Document Symbol",
    "Themes",
    "Affected Persons",
    "Sdgs",
    "Document Publication Date",
    "UPR Reccomending States",
    "UPR Position",
    "Type",
    "OHCHR Annotation Id",
    "UPR Session",
    "Regions Concerned",
    "Recommending Regions",
    "Date of publication on UHRI",
]

# Fictional recommendations; keys are the friendly names accepted by make_uhri_xlsx.
SAMPLE_ROWS: list[dict[str, object]] = [
    {
        "paragraph": "115.12",
        "text": "Ratify the Optional Protocol to the Convention against Torture (Norway);",
        "sur": "Freedonia",
        "rs": ["Norway"],
        "position": "Supported",
        "session": 36,
        "themes": [
            "A12 Acceptance of international norms",
            "D25 Prohibition of torture and cruel, inhuman or degrading treatment",
        ],
        "affected": ["persons deprived of their liberty"],
        "document": "A/HRC/99/1",
    },
    {
        "paragraph": "115.40",
        "text": "Establish a moratorium on executions with a view to abolishing the death penalty "
        "(Bolivia (Plurinational State of)) (United Kingdom of Great Britain and Northern Ireland);",
        "sur": "Freedonia",
        "rs": ["Bolivia (Plurinational State of)", "United Kingdom of Great Britain and Northern Ireland"],
        "position": "Noted",
        "session": 36,
        "themes": ["D23 Death penalty"],
        "affected": ["general"],
        "document": "A/HRC/99/1",
    },
    {
        "paragraph": "115.77",
        "text": "Adopt a national plan of action on the rights of persons with disabilities for 2030 (Trinidad and Tobago);",
        "sur": "Freedonia",
        "rs": ["Trinidad and Tobago"],
        "position": "Supported/Noted",
        "session": 36,
        "themes": ["F4 Persons with disabilities", "A46 National Plans of Action on Human Rights (or specific areas)"],
        "affected": ["persons with disabilities"],
        "document": "A/HRC/99/1",
    },
]


def _dash(values: object) -> str | None:
    """"- a\\n- b" from a value or a list of values; None when empty."""
    if values is None:
        return None
    raw: list[object] = [values] if isinstance(values, str | int | float) else list(values)  # type: ignore[call-overload]
    items = [str(v) for v in raw if str(v).strip()]
    return "\n".join(f"- {v}" for v in items) if items else None


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def uhri_row(row: Mapping[str, object], index: int = 0) -> list[object]:
    """One UHRI data row (16 cells) from a friendly dict.

    Keys: paragraph, text, sur, rs (list), position, session (int), themes (list),
    affected (list), document, body (default "UPR"), type (default "Recommendation").
    """
    text = str(row.get("text") or "")
    if row.get("paragraph"):
        text = f"{row['paragraph']} {text}"
    session = row.get("session")
    return [
        f"- {text}" if text else None,
        _dash(row.get("sur")),
        _dash(row.get("body", "UPR")),
        _dash(row.get("document")),
        _dash(row.get("themes")),
        _dash(row.get("affected")),
        _dash(row.get("sdgs", ["16.3 Promote the rule of law and ensure equal access to justice"])),
        row.get("doc_date", 44256 + index),  # Excel serial
        _dash(row.get("rs")),
        _dash(row.get("position")),
        _dash(row.get("type", "Recommendation")),
        _dash(row.get("annotation", f"f{index:04d}-fict-0000-0000-annotation")),
        f"- {_ordinal(int(session))} Session" if session is not None else None,
        _dash(row.get("regions", "Fictional Region")),
        _dash(row.get("rs_regions", "Western European and Others")),
        row.get("uhri_date", 44300 + index),  # Excel serial
    ]


def make_uhri_xlsx(
    path: Path,
    rows: Iterable[Mapping[str, object]] | None = None,
    *,
    drop_columns: Sequence[str] = (),
    title_rows: Sequence[str] = (),
    header: Sequence[str] | None = None,
    sheet_title: str = "Export",
) -> Path:
    """Write a UHRI-style export to `path` and return it.

    rows: friendly dicts (see `uhri_row`); defaults to SAMPLE_ROWS.
    drop_columns: header labels to leave out (to build malformed files).
    title_rows: lines written above the header (the header is then not on row 1).
    header: replace the header labels (e.g. with the correct spelling "Recommending").
    """
    labels = list(header or HEADER)
    keep = [i for i, label in enumerate(HEADER) if label not in drop_columns]
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    for line in title_rows:
        ws.append([line])
    ws.append([labels[i] for i in keep])
    for n, row in enumerate(SAMPLE_ROWS if rows is None else rows):
        cells = uhri_row(row, n)
        ws.append([cells[i] for i in keep])
    path = Path(path)
    wb.save(path)
    return path
