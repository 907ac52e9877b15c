"""Exception types carrying where a problem is (file, row, cell) and how to fix it.

The CLI turns these into messages and exit codes; the library never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One problem found in an input file, at a place, with a hint."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    cell: str | None = None
    value: str | None = None
    hint: str | None = None
    rows: list[int] | None = None  # one problem found identically in several rows (see group_problems)

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.cell:
            parts.append(f"cell {self.cell}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class UprError(Exception):
    """Base class: an error the user can act on. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems: list[Problem] = problems or []

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(UprError):
    """An input file cannot be read or holds bad data. Nothing was written."""


class FormatNotRecognised(InputError):
    """No reader recognises the file."""


class StoreError(UprError):
    """The store cannot be opened, is locked too long, or is damaged."""


class UsageError(UprError):
    """The command was called wrongly. Exit code 2."""

    exit_code = 2


@dataclass
class ProblemList:
    """Collects problems while reading a file, so all of them can be reported at once."""

    file: str | None = None
    problems: list[Problem] = field(default_factory=list)
    limit: int = 200

    def add(self, message: str, **where) -> None:
        where.setdefault("file", self.file)
        if len(self.problems) < self.limit:
            self.problems.append(Problem(message, **where))

    def __bool__(self) -> bool:
        return bool(self.problems)


def counted(n: int, word: str, plural: str | None = None) -> str:
    """'1 row', '2 rows', '1,204 problems': a count with its noun in the right number (for messages)."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def ranges(rows: list[int], most: int = 6) -> str:
    """'10-26, 30, 41-42': row numbers as runs (at most `most` runs, then '...')."""
    rows = sorted(set(rows))
    out: list[str] = []
    start = prev = rows[0]
    for r in [*rows[1:], None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if r is not None:
            start = prev = r
    return ", ".join(out[:most]) + (", ..." if len(out) > most else "")


def group_problems(problems: list[Problem]) -> list[Problem]:
    """Identical problems of several rows (same message, column and hint) become one: '17 rows (10-26): unknown level ...'."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.message, p.file, p.sheet, p.column, p.hint, p.row is None), []).append(p)
    out: list[Problem] = []
    done: set[tuple] = set()
    for p in problems:
        key = (p.message, p.file, p.sheet, p.column, p.hint, p.row is None)
        same = groups[key]
        if len(same) < 2 or p.row is None:
            out.append(p)
        elif key not in done:
            done.add(key)
            rows = [q.row for q in same if q.row is not None]
            out.append(Problem(f"{counted(len(rows), 'row')} ({ranges(rows)}): {p.message}", file=p.file, sheet=p.sheet,
                               column=p.column, value=p.value, hint=p.hint, rows=rows))
    return out
