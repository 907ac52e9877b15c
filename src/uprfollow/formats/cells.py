"""Cells that came from users, written so that no spreadsheet runs them: the one formula neutraliser.

A text starting with = + - @ (or a tab or carriage return) could be taken for a formula by
Excel or LibreOffice (CSV injection). Workbooks keep the text as it is, typed as text with the
quote prefix (`looks_like_formula` tells when); CSV cells get a leading apostrophe (`neutral`).
"""

from __future__ import annotations

FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """True when a spreadsheet could take the text for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_LEADERS)


def neutral(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula: such a text gets a leading apostrophe; other values pass."""
    return "'" + value if looks_like_formula(value) else value  # type: ignore[operator]
