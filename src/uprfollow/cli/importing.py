"""`upr import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import counted
from ._app import DbOption, FormatOption, OutputFormat, app, err, print_json, stderr_is_tty


@app.command("import")
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files to import: UPR Info exports (.xls/.xlsx/.csv), OHCHR matrices (.docx), UHRI exports (.xlsx), hand-made lists.",
            show_default=False,
        ),
    ],
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing.")] = False,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of CSV files (default: detected: UTF-8, MacRoman or Windows-1252).")] = None,
    sur: Annotated[str | None, typer.Option(help="State under review for files that do not name it (ISO3 or name).")] = None,
    session: Annotated[str | None, typer.Option(help="UPR session for files that do not give it.")] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Import recommendation files into the store.

    The format is detected from the content. All files are imported in one
    transaction: one bad row and nothing is imported, and every problem is listed
    with its row and column. Re-importing a file adds nothing.
    """
    from ..importer import run_import

    # Files are recognised before the store is even opened, and a failed import leaves no trace,
    # not even an empty store where there was none.
    kwargs = dict(dry_run=dry_run, encoding=encoding, sur=sur, session=session)
    if stderr_is_tty() and format == OutputFormat.table:
        from rich.progress import Progress

        with Progress(transient=True, console=_stderr_console()) as bar:
            task = bar.add_task("importing", total=None)
            reports, total = run_import(db, files, progress=lambda n: bar.advance(task, n), **kwargs)  # type: ignore[arg-type]
    else:
        reports, total = run_import(db, files, **kwargs)  # type: ignore[arg-type]
    if format == OutputFormat.json:
        print_json([r.as_dict() for r in reports])
        return
    verb = "would add" if dry_run else "added"
    for r in reports:
        err(f"{Path(r.file).name}: {r.format}, {counted(r.rows_read, 'row')}: {r.added:,} new, {r.already_present:,} already present")
        if r.skipped:
            left = ", ".join(f"{n:,} {reason}" for reason, n in r.skipped.items())
            err(f"  left out on purpose: {left}")
    if len(reports) > 1:
        err(f"total: {sum(r.added for r in reports):,} new, {sum(r.already_present for r in reports):,} already present")
    err(f"{'dry run, nothing written; ' if dry_run else ''}{verb} {sum(r.added for r in reports):,}; the store holds {total:,} recommendations and pledges")


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)
