"""The `upr` command line: a thin face over the library (one module per command group).

Each module registers its commands on the shared `app`; heavy libraries are imported
inside the commands that need them so `upr --help` stays instant.
"""

from __future__ import annotations

# Importing a module registers its commands; `upr --help` lists them in this order, the order of the work:
# import, search, stats, classify; sheet, ingest, status; mia; serve; then sample, vocab, db.
# isort: off
from . import importing, query_cmd  # noqa: F401
from . import classify_cmd  # noqa: F401
from . import followup  # noqa: F401
from . import report_cmd  # noqa: F401
from . import serve_cmd  # noqa: F401
from . import sample_cmd, vocab_cmd  # noqa: F401
from . import db_cmd  # noqa: F401
from ._app import app
# isort: on


def main() -> None:
    app(prog_name="upr")


__all__ = ["app", "main"]
