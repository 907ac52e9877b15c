"""UPR Info database exports: the .xls/.xlsx originals and the .csv copies.

Both have 11 columns in a fixed order. The spreadsheets' header repeats names
(`SuR, Rgrp, Org, Recommendation, RS, Rgrp, Org, Response, Action, Issue, Session`);
the CSV copies re-saved by Excel for Mac say
`To, To-Rgrp, To-Org, Text, From, From-Rgrp, From-Org, Response, Action, Issue, Session`
and come in MacRoman with CR line endings. One row per (recommendation, recommending
State). Issues and organisations are comma-joined; Action and Session may be floats;
some values are HTML-escaped (`&#40;Unknown&#41;`).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

from .base import ReadResult, Record
from .sniff import cell_text, column_letter

NAME = "upr-info"
HEADERS = (
    ("sur", "rgrp", "org", "recommendation", "rs", "rgrp", "org", "response", "action", "issue", "session"),
    ("to", "to-rgrp", "to-org", "text", "from", "from-rgrp", "from-org", "response", "action", "issue", "session"),
)
FIELDS = ("sur", "sur_group", "sur_orgs", "text", "rs", "rs_group", "rs_orgs", "response", "action", "issues", "session")
USED = frozenset((0, 3, 4, 7, 8, 9, 10))
UNUSED = (1, 2, 5, 6)
LABELS = ("SuR", "Rgrp", "Org", "Recommendation", "RS", "Rgrp", "Org", "Response", "Action", "Issue", "Session")


def header_index(rows: list[list[object]], scan: int = 20) -> int | None:
    """Index of the UPR Info header row among the first rows, or None."""
    for i, row in enumerate(rows[:scan]):
        cells = tuple(cell_text(c).strip().lower() for c in row[:11])
        if cells in HEADERS:
            return i
    return None


def clean(value: object) -> str:
    text = value if type(value) is str else cell_text(value)
    if "&" in text:
        text = html.unescape(text)
    return text.strip()


def numbered(rows: list[list[object]], start: int, rest: Iterator[list[Any]] | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(0-based index, row) of the rows after the header: those of `rows`, then those still to come in `rest`."""
    for i in range(start + 1, len(rows)):
        yield i, rows[i]
    if rest is not None:
        yield from enumerate(rest, start=len(rows))


def records(rows: list[list[object]], start: int, sheet: str | None, style: int, rest: Iterator[list[Any]] | None = None) -> Iterator[Record]:
    # column labels as the file writes them ("To", "SuR"), for error messages
    labels = [clean(c) or LABELS[i] for i, c in enumerate(rows[start][:11])]
    columns = {f: f"{column_letter(i)} ({labels[i]})" for i, f in enumerate(FIELDS)}
    for i, raw in numbered(rows, start, rest):
        raw = raw[:11]
        raw += [""] * (11 - len(raw))
        # only the columns a record uses are cleaned; groups and organisations come from the vocabularies
        row = [clean(raw[j]) if j in USED else "" for j in range(11)]
        if not any(row) and not any(clean(raw[j]) for j in UNUSED):
            continue
        rs = row[4]
        yield Record(
            sur=row[0] or None,
            text=row[3] or None,
            rs=[rs] if rs else [],
            response=row[7] or None,
            action=row[8] or None,
            issues=[x.strip() for x in row[9].split(",") if x.strip()],
            session=row[10] or None,
            row=i + 1,
            sheet=sheet,
            columns=columns,
        )


def read_rows(rows: list[list[object]], sheet: str | None, fmt: str, rest: Iterator[list[Any]] | None = None) -> ReadResult | None:
    """Records of a UPR Info export whose header is among `rows`; `rest` streams the rows after them."""
    h = header_index(rows)
    if h is None:
        return None
    style = HEADERS.index(tuple(cell_text(c).strip().lower() for c in rows[h][:11]))
    total = len(rows) - h - 1 if rest is None else None
    return ReadResult(format=fmt, records=records(rows, h, sheet, style, rest), total=total)
