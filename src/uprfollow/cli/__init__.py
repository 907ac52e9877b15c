"""The `upr` command line: a thin face over the library (one module per command group)."""

from __future__ import annotations

from . import importing, vocab_cmd  # noqa: F401  (register commands)
from ._app import app


def main() -> None:
    app(prog_name="upr")


__all__ = ["app", "main"]
