"""`upr db check | backup | history`: keep the store healthy, safe and accountable."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from ..errors import counted
from ._app import App, DbOption, FormatOption, OutputFormat, app, err, log, print_json

db_app = App(
    name="db",
    help="Store maintenance: check its health, back it up, list every import and ingest.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(db_app, name="db")


def _store_path(db: Path | None) -> Path:
    from ..store import default_db_path

    return Path(db) if db else default_db_path()


@db_app.command("check")
def check_cmd(db: DbOption = None, format: FormatOption = OutputFormat.table) -> None:
    """Check the store: SQLite integrity and foreign keys, rows pointing at nothing, values outside the vocabularies.

    Reads only; changes nothing. Prints one line per problem with where it is (table,
    rowid, recommendation ID). Exit 0 when the store is healthy, 1 when anything is wrong.
    """
    from ..maintenance import check_store

    report = check_store(_store_path(db))
    if format == OutputFormat.json:
        print_json(report.as_dict())
    else:
        for f in report.findings:
            typer.echo(str(f))
        for check, n in report.truncated.items():
            typer.echo(f"[{check}] ... and {n:,} more")
    for note in report.notes:
        err(f"note: {note}")
    counts = ", ".join(f"{n:,} {t.replace('_', ' ')}" for t, n in report.counts.items())
    if report.ok:
        _verdict(f"ok: the store {report.path} is healthy ({counts})")
        return
    total = len(report.findings) + sum(report.truncated.values())
    _verdict(f"{counted(total, 'problem')} in the store {report.path}")
    _verdict("Hint: restore a backup (`upr db backup` makes one), or re-import the files named by `upr db history`")
    raise typer.Exit(1)


def _verdict(message: str) -> None:
    """The check's summary: on stderr even with --quiet (a cron job that checks the store mails what it says)."""
    log(message)
    typer.echo(message, err=True)


@db_app.command("migrate")
def migrate_cmd(db: DbOption = None, format: FormatOption = OutputFormat.table) -> None:
    """Bring the store up to this version of upr: apply pending schema updates and refresh the vocabularies.

    Every command that writes does this by itself; commands that only read refuse an
    out-of-date store and point here. Refuses a store written by a newer upr.
    """
    from ..store import migrate_existing

    done = migrate_existing(_store_path(db))
    if format == OutputFormat.json:
        print_json(done)
        return
    applied = done["applied"]
    what = f"applied {', '.join(applied)}" if applied else "no schema update needed"
    vocab = "vocabularies refreshed" if done["vocab_refreshed"] else "vocabularies up to date"
    err(f"{done['path']}: {what}; {vocab}; schema version {done['schema_version']}")


@db_app.command("backup")
def backup_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write the copy (a new file; never through a symbolic link).", show_default=False)],
    db: DbOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists (a symbolic link is still refused).")] = False,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Copy the store to FILE through SQLite's backup API.

    The copy is a consistent snapshot even while another upr process writes, is checked,
    and appears at FILE only when complete. Refuses to overwrite FILE unless --force.
    """
    from ..maintenance import backup

    report = backup(_store_path(db), file, force=force)
    if format == OutputFormat.json:
        print_json(report.as_dict())
        return
    counts = ", ".join(f"{n:,} {t}" for t, n in report.counts.items())
    err(f"backed up {report.source} to {report.path}: {report.bytes:,} bytes, {counts} ({report.seconds:.2f} s)")
    err(f"sha256 {report.sha256}")


@db_app.command("history")
def history_cmd(db: DbOption = None, format: FormatOption = OutputFormat.table) -> None:
    """List every import and ingest: when, which file and its SHA-256, what it added or replaced, tool version."""
    from ..maintenance import history
    from ..store import open_store

    with open_store(db, readonly=True) as store:
        rows = history(store.conn)
    if format == OutputFormat.json:
        print_json(rows)
        return
    if not rows:
        err("nothing imported yet")
        return
    from .output import print_table

    columns = [(col, {"overflow": "fold"}) for col in ("when", "kind", "file", "sha256", "format", "rows", "added", "replaced", "unchanged", "by", "version")]
    print_table(columns, ([  # times to the second here; the JSON keeps the microseconds
        re.sub(r"\.\d+", "", str(r["finished_at"] or "")), r["kind"], str(r["file"] or ""), (r["sha256"] or "")[:12], str(r["format"] or ""),
        f"{r['rows_read'] or 0:,}", f"{r['added'] or 0:,}", f"{r['replaced'] or 0:,}", f"{r['unchanged'] or 0:,}",
        " ".join(x for x in (r["stakeholder"], r["sur"]) if x), str(r["tool_version"] or "")] for r in rows), pipe_width=200)
