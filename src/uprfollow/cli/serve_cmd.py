"""`upr serve`: browse the store in Datasette, read-only, on this machine only."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UsageError
from ._app import DbOption, app, err


@app.command("serve")
def serve_cmd(
    port: Annotated[int | None, typer.Option("--port", metavar="N", help="Port on 127.0.0.1 (default: a free one).", min=1, max=65535,
                                             show_default=False)] = None,
    db: DbOption = None,
) -> None:
    """Browse the store in Datasette: read-only, on 127.0.0.1 only, with facets on the eight
    categories and the level, full-text search, and canned queries (implementation by issue,
    contested recommendations, one State's recommendations with every voice). Ctrl-C stops it.
    """
    from .. import serve
    from ..store import default_db_path, open_store

    path = Path(db) if db else default_db_path()
    if not serve.datasette_available():
        raise UsageError("upr serve needs Datasette, which is not installed", hint="pip install 'uprfollow[serve]' (or pip install datasette)")
    with open_store(path, readonly=True) as store:  # a clear error when there is no store (read-only: never creates or migrates it)
        if not store.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'recommendations_browse'").fetchone():
            err("note: this store predates the browse view; any writing upr command (e.g. upr import) upgrades it")
    port = port or serve.free_port()
    with tempfile.TemporaryDirectory(prefix="upr-serve-") as tmp:
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(serve.metadata(path.stem), indent=2), encoding="utf-8")
        err(f"serving {path} read-only at http://{serve.HOST}:{port}/{path.stem} (Ctrl-C stops)")
        try:
            rc = subprocess.call(serve.command(path, meta, port))
        except KeyboardInterrupt:
            rc = 0
    if rc not in (0, -2, 130):
        raise typer.Exit(1)
