"""The `upr` command line: a thin face over the library (one module per command group).

Each module registers its commands on the shared `app`; heavy libraries are imported
inside the commands that need them so `upr --help` stays instant.
"""

from __future__ import annotations

from . import db_cmd, followup, importing, query_cmd, report_cmd, sample_cmd, vocab_cmd  # noqa: F401  (register commands)
from ._app import app


def main() -> None:
    app(prog_name="upr")


__all__ = ["app", "main"]
