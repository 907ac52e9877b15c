"""`upr sample`: write a fictional set of input files (for the demo, tests and benchmarks)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, err


@app.command("sample")
def sample_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder to write the files into (created if needed).", file_okay=False, show_default=False)],
    size: Annotated[int, typer.Option("--size", min=10, help="Rows of the sample UPR Info export; the other files grow with it.")] = 400,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed writes the same files.")] = 2011,
    synthetic: Annotated[
        int | None,
        typer.Option("--synthetic", min=1, help="Instead, write only one large UPR Info-format CSV of this many rows (for benchmarks)."),
    ] = None,
    fill_sheet: Annotated[
        Path | None,
        typer.Option("--fill-sheet", exists=True, dir_okay=False,
                     help="Instead, fill copies of this response sheet (from `upr sheet`) as four fictional stakeholders would."),
    ] = None,
) -> None:
    """Write a FICTIONAL sample set of input files into FOLDER.

    Real State names and vocabularies, invented recommendation texts (each ends with
    "[fictional]"): a UPR Info export as .csv (MacRoman, CR line endings) and .xlsx, an
    OHCHR matrix (.docx) and a hand-made list with French headers (.xlsx), plus a
    README.txt. Haiti (HTI, session 12) has enough recommendations for a demo digest.
    The paths written are printed on stdout, one per line.
    """
    from .. import sample

    if fill_sheet is not None:
        for path in sample.fill_sheets(fill_sheet, folder, seed=seed):
            typer.echo(str(path))
        err(f"filled 4 copies of {fill_sheet.name} as FICTIONAL stakeholders (State, JS1, NHRI, UNCT) in {folder}")
        err(f"next: upr ingest {folder}/*.xlsx")
        return
    if synthetic is not None:
        path = sample.synthetic_export_csv(folder / f"synthetic-{synthetic}.csv", synthetic, seed)
        typer.echo(str(path))
        err(f"wrote {synthetic:,} fictional rows in the UPR Info CSV format")
        return
    written = sample.write_sample(folder, size=size, seed=seed)
    for path in written.files:
        typer.echo(str(path))
    err(
        f"wrote {len(written.files)} FICTIONAL sample files to {folder}: {written.export_rows:,} export rows "
        f"({written.demo_rows} for Haiti, session 12), {written.matrix_recommendations} matrix and "
        f"{written.list_recommendations} list recommendations"
    )
    err(f"next: upr import {folder}/*.csv {folder}/*.xlsx {folder}/*.docx")
