"""`upr import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import counted
from ._app import DbOption, FormatOption, OutputFormat, app, err, print_json
from .output import progress


@app.command("import")
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files to import: UPR Info exports (.xls/.xlsx/.csv, also the current database export), OHCHR matrices (.docx, .doc), "
            "UHRI exports (.xlsx), hand-made lists.",
            show_default=False,
        ),
    ],
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count, write nothing.")] = False,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of CSV files (default: detected: UTF-8, MacRoman or Windows-1252).")] = None,
    sur: Annotated[str | None, typer.Option(help="State under review for files that do not name it (ISO3 or name).")] = None,
    session: Annotated[str | None, typer.Option(help="UPR session for files that do not give it.")] = None,
    ignore_column: Annotated[
        list[str] | None,
        typer.Option("--ignore-column", metavar="NAME", help="Leave out a column of a hand-made list (a team's own coding), by its header.",
                     show_default=False),
    ] = None,
    no_link: Annotated[
        bool, typer.Option("--no-link", help="Keep every row a record of its own, even when another source of the review is in the store.")
    ] = False,
    format: FormatOption = OutputFormat.table,
) -> None:
    """Import recommendation files into the store.

    The format is detected from the content. Every file is checked whole before
    anything is written: one bad row and nothing is imported, and every problem is
    listed with its row and column. Re-importing a file adds nothing.

    A review already in the store from another source (UPR Info's export on one side, an
    OHCHR matrix or UHRI export on the other) is linked: each row joins the record it
    describes (same recommending State, close text) and adds its fields, so the review
    counts once. Rows left apart are listed by --format json with their closest candidate.
    """
    from ..importer import run_import

    # Files are recognised before the store is opened; their rows are checked and written as a stream in one
    # transaction: a failed import leaves the store as it was, and no store where there was none.
    with progress("importing", show=format == OutputFormat.table) as advance:
        reports, total = run_import(db, files, dry_run=dry_run, encoding=encoding, sur=sur, session=session, progress=advance,
                                    ignore_columns=ignore_column or (), link=not no_link)
    if format == OutputFormat.json:
        print_json([r.as_dict() for r in reports])
        return
    verb = "would add" if dry_run else "added"
    for r in reports:
        rows = counted(r.rows_in_file if r.rows_in_file is not None else r.rows_read, "row")
        pairs = f" ({r.rows_read:,} recommendation-State pairs, {r.added_pairs:,} new)" if r.rows_in_file not in (None, r.rows_read) else ""
        err(f"{Path(r.file).name}: {r.format}, {rows}: {r.added:,} new, {r.already_present:,} already present{pairs}")
        for note in r.notes:
            err(f"  {note}")
        if r.link and (r.link.linked or r.link.unlinked or r.link.absorbed):
            lk = r.link
            apart = sum(1 for u in lk.unlinked if not u.absorbed_into)
            err(f"  linked to records already in the store: {lk.linked:,}; kept apart (below the similarity threshold): {apart:,}"
                + (f"; kept only as part of a linked paragraph: {lk.absorbed:,}" if lk.absorbed else "")
                + ("; see them with --format json" if lk.unlinked else ""))
        if r.link and r.link.conflicts:
            err(f"  {counted(len(r.link.conflicts), 'conflict')} between sources (both values kept; shown: OHCHR's response, "
                f"UPR Info's action and issues): e.g. {r.link.conflicts[0]['id']} {r.link.conflicts[0]['field']} "
                + " vs ".join(f"{v!r} ({k})" for k, v in r.link.conflicts[0]["values"].items()))
        for c in (r.link.contradictions if r.link else []):
            err(f"  not linked: {c}")
        if r.skipped:
            left = ", ".join(f"{n:,} {reason}" for reason, n in r.skipped.items())
            err(f"  left out on purpose: {left}")
    if len(reports) > 1:
        err(f"total: {sum(r.added for r in reports):,} new, {sum(r.already_present for r in reports):,} already present")
    err(f"{'dry run, nothing written; ' if dry_run else ''}{verb} {sum(r.added_pairs for r in reports):,}; "
        f"the store holds {total:,} recommendations and pledges (recommendation-State pairs)")
