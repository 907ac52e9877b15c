"""Hand-made recommendation lists (.csv, .xlsx, .xls, .ods) with headers matched by synonyms.

The header row is looked for in the first 20 rows; a column is recognised when its
header, folded (case, accents, punctuation), is in `data/header_synonyms.csv`.
A list needs at least a State-under-review column (or --sur) and a text column.
Multi-valued cells (recommending States, issues) are split on ';', '|' and new lines.

Researchers' lists: a "decision" column is the response, a "year" column the year of the
review, and a paragraph number leading the text ("96.1  Sign the ...") is the paragraph. A
team's own coded columns ("['share', 'harmonize']") are refused by name with the hint
`--ignore-column NAME`, which leaves the column out.

The UPR Info database's current export (HURIDOCS Uwazi, since 2020) names its columns after
its properties (Title, State under Review, Recommending State, Response, Action Category,
Issues, Session, Cycle, ...); it is read as format "upr-info-uwazi", whose issues unknown to
data/issues.csv are added to the store's vocabulary with a note instead of being refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import cache
from typing import Any

from .. import vocab
from ..errors import InputError, Problem
from .base import ReadResult, Record
from .sniff import cell_text, column_letter
from .upr_info import numbered

NAME = "table"


@cache
def synonyms() -> dict[str, str]:
    return {vocab.fold(r["synonym"]): r["field"] for r in vocab.read_csv("header_synonyms.csv")}


def header_field(label: str) -> str | None:
    """The field of a column header, tolerantly: folded, then without a plural or "(s)" ("Issues", "Recommending State(s)")."""
    key = vocab.fold(label)
    table = synonyms()
    if key in table:
        return table[key]
    for variant in (re.sub(r" s$", "", key), re.sub(r"s$", "", key), key + "s"):
        if variant in table:
            return table[variant]
    return None


def match_header(row: list[object], ignore: Collection[str] = ()) -> dict[str, int]:
    found: dict[str, int] = {}
    skip = {vocab.fold(n) for n in ignore}
    for i, c in enumerate(row):
        if vocab.fold(cell_text(c)) in skip:
            continue
        field = header_field(cell_text(c))
        if field and field not in found:
            found[field] = i
    if "text" not in found and "title" in found:  # Uwazi: the recommendation is the entity's title
        found["text"] = found.pop("title")
    found.pop("title", None)
    return found


def header_index(rows: list[list[object]], scan: int = 20, ignore: Collection[str] = ()) -> tuple[int, dict[str, int]] | None:
    for i, row in enumerate(rows[:scan]):
        found = match_header(row, ignore)
        if "text" in found and len(found) >= 2:
            return i, found
    return None


def split_multi(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;|\n]", value) if p.strip()]


_CODED = re.compile(r"""^\s*\[\s*(?:(['"])[^'"]*\1\s*,?\s*)*\]\s*$""")
CODED_FIELDS = ("sur", "rs", "response", "action", "issues", "session", "paragraph", "year")


def refuse_coded_columns(rows: list[list[object]], start: int, found: dict[str, int], header: list[object]) -> None:
    """A team's own coded column ("action": "['share', 'harmonize']") named by the header of a field: refuse it by name."""
    for field in CODED_FIELDS:
        i = found.get(field)
        if i is None:
            continue
        for n, row in enumerate(rows[start + 1 :], start=start + 2):
            value = cell_text(row[i]).strip() if i < len(row) else ""
            if value and _CODED.match(value):
                name = cell_text(header[i]).strip()
                raise InputError(
                    f"the column {name!r} holds a list of codes ({value[:60]!r} in row {n}), not {field.replace('_', ' ')} values upr knows",
                    hint=f"if it is your team's own coding, leave it out: --ignore-column {_quoted(name)}",
                    problems=[Problem("a column of the team's own codes", row=n, column=f"{column_letter(i)} ({name})", value=value[:200],
                                      hint=f"--ignore-column {_quoted(name)}")],
                )


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[\w.-]+", name) else f'"{name}"'


def is_uwazi(header: list[object], found: dict[str, int]) -> bool:
    """The UPR Info database's Uwazi export: Title plus State under Review, Recommending State and Issues/Action Category."""
    labels = {vocab.fold(cell_text(c)) for c in header}
    return "title" in labels and {"sur", "rs"} <= set(found) and bool({"issues", "action"} & set(found))


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

    from .ohchr_matrix import split_paragraph

    for i, row in numbered(rows, start, rest):
        if not any(cell_text(c).strip() for c in row):
            continue
        text, paragraph = get(row, "text"), get(row, "paragraph")
        if "paragraph" not in found and text:
            number, rest_of_text = split_paragraph(text)  # "96.1  Sign the ..." -> 96.1, "Sign the ..."
            if number and rest_of_text.strip():
                paragraph, text = number, rest_of_text.strip()
        yield Record(
            sur=get(row, "sur") or None,
            text=text or None,
            rs=split_multi(get(row, "rs")),
            response=get(row, "response") or None,
            action=get(row, "action") or None,
            issues=split_multi(get(row, "issues")),
            session=get(row, "session") or None,
            paragraph=paragraph or None,
            document=get(row, "document") or None,
            year=get(row, "year") or None,
            row=i + 1,
            sheet=sheet,
            columns=columns,
        )


def read_rows(
    rows: list[list[object]], sheet: str | None, fmt: str, rest: Iterator[list[Any]] | None = None, ignore: Collection[str] = (),
) -> ReadResult | None:
    """Records of a list whose header is among `rows`; `rest` streams the rows after them; `ignore`: column names left out."""
    hit = header_index(rows, ignore=ignore)
    if hit is None:
        return None
    h, found = hit
    refuse_coded_columns(rows, h, found, rows[h])
    total = len(rows) - h - 1 if rest is None else None
    result = ReadResult(format=fmt, records=records(rows, h, found, rows[h], sheet, rest), total=total)
    if is_uwazi(rows[h], found):
        result.format = "upr-info-uwazi"
        result.defaults["new_issues"] = "add"
    return result
