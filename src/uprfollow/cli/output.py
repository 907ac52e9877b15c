"""The one output module of the command line: formats, `-o` files, writers, tables and progress.

* `Format`: the one format enum (table for people; csv, json, xlsx for files and scripts); a command
  that offers fewer formats says which with `check_format`.
* `resolve_output`: `-o FILE.csv|.json|.xlsx` without --format takes the file's format (once, here);
  xlsx needs a file; the output file is checked before any work (never a symbolic link).
* `write_rows`: csv, json or xlsx, to standard output or a file, every text cell through the one
  formula neutraliser (`formats.cells`); CSV with `bom=True` starts with a byte-order mark so Excel on
  Windows reads "Réseau" right. Every `-o` write ends with the same line: "N rows written to FILE".
* xlsx exports read like the response sheet: a title row (what was asked and the date), a frozen bold
  header, a filter, column widths from the content, and the long text columns wrapped.
* `print_table`: the one rich table renderer; `progress`: the one transient progress bar on stderr.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

import typer

from ..errors import UsageError, counted
from ..formats.cells import looks_like_formula, neutral

BOM = "\ufeff"
WRAPPED = ("text", "comment", "recommendation")  # long text columns: wrapped, and wider
WIDTH_SAMPLE = 500  # rows looked at to size the xlsx columns


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


SUFFIXES = {".csv": Format.csv, ".json": Format.json, ".xlsx": Format.xlsx}


def table_or_json(value: Format) -> Format:
    """Option callback for the commands that print a table or JSON only (import, vocab, db): csv/xlsx exit 2."""
    if value not in (Format.table, Format.json):
        raise typer.BadParameter(f"{value.value!r}: use table or json")
    return value


def check_format(fmt: Format, allowed: Iterable[Format], command: str) -> None:
    """A command that offers only some formats refuses the others (exit 2)."""
    allowed = tuple(allowed)
    if fmt not in allowed:
        raise UsageError(f"--format {fmt.value}: not available for upr {command}", hint="use " + " or ".join(f.value for f in allowed))


def resolve_output(fmt: Format, output: Path | None, *, infer: bool = True) -> tuple[Format, Path | None]:
    """The format and the checked output file; `-o FILE.csv|.json|.xlsx` without --format takes the file's format."""
    if fmt == Format.xlsx and output is None:
        raise UsageError("--format xlsx needs a file: -o FILE.xlsx", hint="or use --format csv to print to standard output")
    if output is None:
        return fmt, None
    if fmt == Format.table and infer:
        if output.suffix.lower() not in SUFFIXES:
            raise UsageError(f"-o {output}: which format? name the file .csv, .json or .xlsx, or pass --format",
                             hint="the table format is for the terminal; files are csv, json or xlsx")
        fmt = SUFFIXES[output.suffix.lower()]
    return fmt, safe_output(output)


def safe_output(path: Path) -> Path:
    """An output file checked before any work: never a symbolic link (exit 1); an existing file is replaced."""
    from ..paths import safe_output_path

    return safe_output_path(path, force=True)


@contextmanager
def binary_output(path: Path) -> Iterator[IO[bytes]]:
    """Write `path` through a fresh temporary file renamed into place: no link followed, no partial file left."""
    from ..errors import UprError
    from ..paths import replace_atomically

    try:
        with replace_atomically(path) as f:
            yield f
    except OSError as e:
        raise UprError(f"cannot write {path}: {e.strerror or e}", hint="check the folder exists and is writable") from None


@contextmanager
def text_output(path: Path) -> Iterator[IO[str]]:
    with binary_output(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
        finally:
            text.flush()
            text.detach()  # replace_atomically closes the file


def write_text(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        with text_output(output) as f:
            f.write(text + "\n")


def rows_written(n: int, path: Path | str) -> None:
    """The one line every `-o` write ends with."""
    from ._app import err

    err(f"{counted(n, 'row')} written to {path}")


def write_rows(rows: Iterable[dict], fmt: Format, output: Path | None, *, sheet: str = "data", title: str = "",
               bom: bool = False) -> int:
    """Write rows as csv, json or xlsx with every field (to standard output without `output`); return how many."""
    if fmt == Format.xlsx:
        assert output is not None
        n = _xlsx(rows, output, sheet, title)
    elif output is None:
        try:
            n = _stream_rows(rows, fmt, sys.stdout, bom=bom)
        finally:
            sys.stdout.flush()
        return n
    else:
        with text_output(output) as stream:
            n = _stream_rows(rows, fmt, stream, bom=bom)
    rows_written(n, output)
    return n


def _stream_rows(rows: Iterable[dict], fmt: Format, stream: Any, *, bom: bool = False) -> int:
    n = 0
    if fmt == Format.json:
        stream.write("[")
        for row in rows:
            stream.write(("\n  " if n == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False, default=str))
            n += 1
        stream.write("\n]\n" if n else "]\n")
        return n
    if bom:
        stream.write(BOM)
    writer = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(stream, fieldnames=list(row), lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: int(v) if isinstance(v, bool) else neutral(v) for k, v in row.items()})
        n += 1
    return n


def title_line(command: str, described: str) -> str:
    """'upr search: sur=HTI, cycle=1 (2026-12-01)': what the export holds, for its title row."""
    today = datetime.now(UTC).date().isoformat()
    return f"{command}: {described or 'all recommendations'} ({today})"


def _width(values: list[object], name: str) -> float:
    longest = max([len(name), *(len(str(v)) for v in values if v is not None)], default=len(name))
    cap = 70 if name in WRAPPED else 40
    return float(min(max(longest, 6), cap) + 2)


def _xlsx(rows: Iterable[dict], output: Path, sheet: str, title: str) -> int:
    """Title row, frozen bold header, filter, widths, wrapped text columns; text cells typed as text with the quote
    prefix when they look like a formula (never run, the value unchanged)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    it = iter(rows)
    head = list(islice(it, WIDTH_SAMPLE))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    header = list(head[0]) if head else []
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for i, h in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width([r.get(h) for r in head], h)
    ws.freeze_panes = "A3"
    t = WriteOnlyCell(ws, value=title or sheet)
    t.font = Font(bold=True, size=12)
    t.data_type = "s"
    ws.append([t])
    fill = PatternFill("solid", fgColor="DDEBF7")
    cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = Font(bold=True)
        c.fill = fill
        cells.append(c)
    ws.append(cells or ["no recommendations match"])
    n = 0
    for row in chain(head, it):
        out = []
        for h in header:
            v = row.get(h)
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                c.data_type = "s"  # openpyxl would otherwise store '=...' as a formula
                if looks_like_formula(v):
                    c.quotePrefix = True
            c.alignment = wrap if h in WRAPPED else top
            out.append(c)
        ws.append(out)
        n += 1
    if header:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(header))}{n + 2}"
    ws.print_title_rows = "2:2"
    with binary_output(output) as f:
        wb.save(f)
    return n


def console(width: int | None = None):
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False, width=width)


def print_table(columns: list[tuple[str, dict]], rows: Iterable[list[str]], *, title: str | None = None, lines: bool = False,
                expand: bool = False, sections: Iterable[bool] = (), pipe_width: int | None = None, caption: str | None = None) -> None:
    """The one table renderer: (header, rich column options) pairs and rows of text; `sections` ends a section after a row;
    `pipe_width`: the width when stdout is not a terminal (rich's default is 80)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=lines, expand=expand, caption=caption, caption_justify="left")
    for name, kw in columns:
        table.add_column(name, **kw)
    ends = iter(sections)
    for row in rows:
        table.add_row(*row, end_section=next(ends, False))
    out = console()
    if pipe_width and not out.is_terminal:
        out = console(pipe_width)
    out.print(table)


@contextmanager
def progress(label: str, total: int | None = None, *, show: bool = True) -> Iterator[Callable[[int], None] | None]:
    """A transient progress bar on stderr when a person watches (a terminal, table output); yields advance(n) or None."""
    from ._app import stderr_is_tty

    if not (show and stderr_is_tty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()] if total else []
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)
