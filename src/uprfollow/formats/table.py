"""Hand-made recommendation lists (.csv, .xlsx, .xls, .ods) with headers matched by synonyms.

The header row is looked for in the first 20 rows; a column is recognised when its
header, folded (case, accents, punctuation), is in `data/header_synonyms.csv`.
A list needs at least a State-under-review column (or --sur) and a text column.
Multi-valued cells (recommending States, issues) are split on ';' and new lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from .. import vocab
from .base import ReadResult, Record
from .sniff import cell_text, column_letter
from .upr_info import numbered

NAME = "table"


@cache
def synonyms() -> dict[str, str]:
    return {vocab.fold(r["synonym"]): r["field"] for r in vocab.read_csv("header_synonyms.csv")}


def match_header(row: list[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, c in enumerate(row):
        field = synonyms().get(vocab.fold(cell_text(c)))
        if field and field not in found:
            found[field] = i
    return found


def header_index(rows: list[list[object]], scan: int = 20) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:scan]):
        found = match_header(row)
        if "text" in found and len(found) >= 2:
            return i, found
    return None


def split_multi(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;\n]", value) if p.strip()]


def records(
    rows: list[list[object]], start: int, found: dict[str, int], header: list[object], sheet: str | None,
    rest: Iterator[list[Any]] | None = None,
) -> Iterator[Record]:
    columns = {f: f"{column_letter(i)} ({cell_text(header[i]).strip()})" for f, i in found.items()}

    def get(row: list[object], field: str) -> str:
        i = found.get(field)
        if i is None or i >= len(row):
            return ""
        return cell_text(row[i]).strip()

    for i, row in numbered(rows, start, rest):
        if not any(cell_text(c).strip() for c in row):
            continue
        yield Record(
            sur=get(row, "sur") or None,
            text=get(row, "text") or None,
            rs=split_multi(get(row, "rs")),
            response=get(row, "response") or None,
            action=get(row, "action") or None,
            issues=split_multi(get(row, "issues")),
            session=get(row, "session") or None,
            paragraph=get(row, "paragraph") or None,
            document=get(row, "document") or None,
            row=i + 1,
            sheet=sheet,
            columns=columns,
        )


def read_rows(rows: list[list[object]], sheet: str | None, fmt: str, rest: Iterator[list[Any]] | None = None) -> ReadResult | None:
    """Records of a list whose header is among `rows`; `rest` streams the rows after them."""
    hit = header_index(rows)
    if hit is None:
        return None
    h, found = hit
    total = len(rows) - h - 1 if rest is None else None
    return ReadResult(format=fmt, records=records(rows, h, found, rows[h], sheet, rest), total=total)
