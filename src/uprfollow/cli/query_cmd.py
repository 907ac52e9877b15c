"""`upr search` and `upr stats`: the eight-category filters, full-text search, tallies, exports, charts."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from ..errors import UsageError, counted
from ._app import DbOption, app, err


class DataFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


class IssueMode(str, Enum):
    any = "any"
    all = "all"


class Pledges(str, Enum):
    exclude = "exclude"
    include = "include"
    only = "only"


class Sort(str, Enum):
    auto = "auto"
    count = "count"
    value = "value"


_C = "Several values: any of them."
SurOpt = Annotated[
    list[str] | None, typer.Option("--sur", metavar="STATE", help=f"State under review: ISO3 code or name (HTI, Haiti). {_C}", show_default=False)
]
RsOpt = Annotated[
    list[str] | None, typer.Option("--rs", metavar="STATE", help=f"Recommending State (any of a joint recommendation's). {_C}", show_default=False)
]
SurGroupOpt = Annotated[
    list[str] | None, typer.Option("--sur-group", metavar="GROUP", help="Regional group of the SuR: Africa, Asia, EEG, GRULAC, WEOG.", show_default=False)
]
RsGroupOpt = Annotated[list[str] | None, typer.Option("--rs-group", metavar="GROUP", help="Regional group of the RS (also Observer).", show_default=False)]
SurOrgOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sur-org", metavar="ORG", help="Organisation of the SuR: ACS, AL, AU, ASEAN, CIS, Commonwealth, EU, OAS, OEI, OIC, OIF, PIF.", show_default=False
    ),
]
RsOrgOpt = Annotated[list[str] | None, typer.Option("--rs-org", metavar="ORG", help="Organisation of the RS.", show_default=False)]
ResponseOpt = Annotated[
    list[str] | None,
    typer.Option("--response", metavar="RESPONSE", help="Response: Accepted, Noted, Pending, Voluntary Pledge (OHCHR words too).", show_default=False),
]
ActionOpt = Annotated[list[str] | None, typer.Option("--action", metavar="1-5", help="Action category 1-5.", show_default=False)]
IssueOpt = Annotated[
    list[str] | None, typer.Option("--issue", metavar="ISSUE", help="Issue, as in `upr vocab issues`; several: see --issue-mode.", show_default=False)
]
IssueModeOpt = Annotated[IssueMode, typer.Option("--issue-mode", help="With several --issue: any of them, or all of them.", case_sensitive=False)]
SessionOpt = Annotated[list[str] | None, typer.Option("--session", metavar="N", help="UPR session number.", show_default=False)]
CycleOpt = Annotated[list[str] | None, typer.Option("--cycle", metavar="N", help="UPR cycle 1-4.", show_default=False)]
YearOpt = Annotated[list[str] | None, typer.Option("--year", metavar="YEAR", help="Year of the review.", show_default=False)]
LevelOpt = Annotated[
    list[str] | None, typer.Option("--level", metavar="LEVEL", help="Implementation level: fully, partially, not, no_data, not_assessed.", show_default=False)
]
PledgesOpt = Annotated[Pledges, typer.Option("--pledges", help="Voluntary pledges: left out (as UPR Info's figures), included, or only them.",
    case_sensitive=False)]
FormatOpt = Annotated[DataFormat, typer.Option("--format", "-f", help="table (for people), csv, json, or xlsx (needs -o).", case_sensitive=False)]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output (required for xlsx).", dir_okay=False, show_default=False)
]


def _filters(**kw: Any):
    from ..query import make_filters

    kw["issue_mode"] = kw["issue_mode"].value
    kw["pledges"] = kw["pledges"].value
    return make_filters(**kw)


def _open(db: Path | None):
    from ..stats import MMAP_BYTES
    from ..store import open_store

    store = open_store(db, readonly=True)
    store.map_file(MMAP_BYTES)  # these commands only read
    return store


@app.command("search")
def search_cmd(
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help='Full-text search: words (all must occur; stemmed, so "discriminate" finds "discrimination"), "quoted phrases", '
            "prefix*, AND, OR, NOT (upper case), -word, parentheses.",
            show_default=False,
        ),
    ] = None,
    sur: SurOpt = None,
    rs: RsOpt = None,
    sur_group: SurGroupOpt = None,
    rs_group: RsGroupOpt = None,
    sur_org: SurOrgOpt = None,
    rs_org: RsOrgOpt = None,
    response: ResponseOpt = None,
    action: ActionOpt = None,
    issue: IssueOpt = None,
    issue_mode: IssueModeOpt = IssueMode.any,
    session: SessionOpt = None,
    cycle: CycleOpt = None,
    year: YearOpt = None,
    level: LevelOpt = None,
    pledges: PledgesOpt = Pledges.exclude,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching recommendations.")] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", help="At most this many rows (table: 100 unless given; other formats: all).", min=0, show_default=False),
    ] = None,
    format: FormatOpt = DataFormat.table,
    output: OutputOpt = None,
    db: DbOption = None,
) -> None:
    """Find recommendations by text and by the eight categories.

    Filters combine with AND; several values of one filter match any of them. Filter values
    accept ISO3 codes and the names people type ("Haiti", "haiti", "HTI"). Voluntary pledges
    are left out unless --pledges include|only. csv, json and xlsx carry every field, with
    no row cap; the table shows the first 100 rows unless --limit says otherwise.
    """
    from .. import query

    f = _filters(
        sur=sur,
        rs=rs,
        sur_group=sur_group,
        rs_group=rs_group,
        sur_org=sur_org,
        rs_org=rs_org,
        response=response,
        action=action,
        issue=issue,
        issue_mode=issue_mode,
        session=session,
        cycle=cycle,
        year=year,
        level=level,
        pledges=pledges,
        text=text,
    )
    format, output = _check_output(format, output, infer=not count)
    with _open(db) as store:
        if count:
            n = query.count(store.conn, f)
            # a bare number, for scripts: $(upr search ... --count)
            _write_text(json.dumps({"count": n}) if format == DataFormat.json else str(n), output)
            return
        cap = limit if limit is not None else (100 if format == DataFormat.table else None)
        rows = query.search(store.conn, f, limit=cap)
        if format == DataFormat.table:
            shown = list(rows)
            if not shown:
                err("no recommendations match" + (f" ({f.describe()})" if f.describe() else ""))
                return
            total = query.count(store.conn, f) if len(shown) == cap else len(shown)
            _search_table(shown)
            if total > len(shown):
                err(f"showing {len(shown):,} of {total:,} recommendations; use --limit N, or --format csv|json|xlsx for all of them")
            else:
                err(counted(total, "recommendation"))
            return
        n = _export(rows, format, output, sheet="recommendations")
        if n == 0 and format != DataFormat.json:  # JSON says it with []
            err("no recommendations match")


@app.command("stats")
def stats_cmd(
    by: Annotated[
        list[str],
        typer.Option(
            "--by",
            metavar="CATEGORY",
            help="Category, once or twice (cross-tab): sur, rs, sur-group, rs-group, sur-org, rs-org, response, action, issue, session, cycle, year, level.",
            show_default=False,
        ),
    ],
    text: Annotated[
        str | None,
        typer.Option("--text", metavar="TEXT", help="Count only recommendations matching this full-text search (as upr search TEXT).", show_default=False),
    ] = None,
    sur: SurOpt = None,
    rs: RsOpt = None,
    sur_group: SurGroupOpt = None,
    rs_group: RsGroupOpt = None,
    sur_org: SurOrgOpt = None,
    rs_org: RsOrgOpt = None,
    response: ResponseOpt = None,
    action: ActionOpt = None,
    issue: IssueOpt = None,
    issue_mode: IssueModeOpt = IssueMode.any,
    session: SessionOpt = None,
    cycle: CycleOpt = None,
    year: YearOpt = None,
    level: LevelOpt = None,
    pledges: PledgesOpt = Pledges.exclude,
    top: Annotated[int | None, typer.Option("--top", metavar="N", help="Only the N most frequent values of the first --by.", min=1, show_default=False)] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="auto: natural order for action, session, cycle, year, level, response; by count for the rest.", case_sensitive=False)
    ] = Sort.auto,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write the chart as a vector image (FILE.svg).", dir_okay=False, show_default=False)
    ] = None,
    format: FormatOpt = DataFormat.table,
    output: OutputOpt = None,
    db: DbOption = None,
) -> None:
    """Count recommendations by one category, or cross two, with percentages.

    Counting rule: each matching recommendation counts once in each value it has.
    Multi-valued categories (issue, sur-org, and rs, rs-group, rs-org of joint
    recommendations) count a recommendation once per value, so their counts add up to more
    than the total; percentages are always of the total number of matching
    recommendations. No value: "(none)"; an RS the file could not identify: "(unknown)".
    --by level adds "triggered action" (fully + partially) and each level's share of the
    assessed recommendations. Filters are those of upr search; pledges are left out
    unless --pledges include|only.
    """
    from .. import stats

    f = _filters(
        sur=sur,
        rs=rs,
        sur_group=sur_group,
        rs_group=rs_group,
        sur_org=sur_org,
        rs_org=rs_org,
        response=response,
        action=action,
        issue=issue,
        issue_mode=issue_mode,
        session=session,
        cycle=cycle,
        year=year,
        level=level,
        pledges=pledges,
        text=text,
    )
    format, output = _check_output(format, output)
    if chart is not None:
        if chart.suffix.lower() != ".svg":
            raise UsageError(f"--chart writes SVG: {chart} does not end in .svg", hint="e.g. --chart issues.svg")
        chart = _safe_output(chart)
    with _open(db) as store:
        t = stats.tally(store.conn, f, by, top=top, sort=sort.value)
    if chart is not None and t.total:
        with _text_output(chart) as f:
            f.write(stats.svg_chart(t))
        err(f"chart written to {chart}")
    if format == DataFormat.table:
        if t.total == 0:
            err("no recommendations match" + (f" ({f.describe()})" if f.describe() else ""))
            return
        _stats_table(t)
        return
    _export(iter(t.rows), format, output, sheet="stats")
    if t.total == 0 and format != DataFormat.json:
        err("no recommendations match")


# --- output ------------------------------------------------------------------------------------


def _check_output(format: DataFormat, output: Path | None, *, infer: bool = True) -> tuple[DataFormat, Path | None]:
    """The format and the checked output file; `-o FILE.csv|.json|.xlsx` without --format takes the file's format."""
    if format == DataFormat.xlsx and output is None:
        raise UsageError("--format xlsx needs a file: -o FILE.xlsx", hint="or use --format csv to print to standard output")
    if output is None:
        return format, None
    if format == DataFormat.table and infer:
        by_suffix = {".csv": DataFormat.csv, ".json": DataFormat.json, ".xlsx": DataFormat.xlsx}
        if output.suffix.lower() not in by_suffix:
            raise UsageError(f"-o {output}: which format? name the file .csv, .json or .xlsx, or pass --format",
                             hint="the table format is for the terminal; files are csv, json or xlsx")
        format = by_suffix[output.suffix.lower()]
    return format, _safe_output(output)


def _safe_output(path: Path) -> Path:
    """An output file checked before any work: never a symbolic link (exit 1); an existing file is replaced."""
    from ..paths import safe_output_path

    return safe_output_path(path, force=True)


@contextmanager
def _binary_output(path: Path) -> Iterator[IO[bytes]]:
    """Write `path` through a fresh temporary file renamed into place: no link followed, no partial file left."""
    from ..errors import UprError
    from ..paths import replace_atomically

    try:
        with replace_atomically(path) as f:
            yield f
    except OSError as e:
        raise UprError(f"cannot write {path}: {e.strerror or e}", hint="check the folder exists and is writable") from None


@contextmanager
def _text_output(path: Path) -> Iterator[IO[str]]:
    with _binary_output(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
        finally:
            text.flush()
            text.detach()  # replace_atomically closes the file


def _write_text(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        with _text_output(output) as f:
            f.write(text + "\n")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text a spreadsheet would take as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _export(rows: Iterator[dict], format: DataFormat, output: Path | None, *, sheet: str) -> int:
    """Write rows as csv, json or xlsx with every field; return how many."""
    if format == DataFormat.xlsx:
        assert output is not None
        return _xlsx(rows, output, sheet)
    if output is None:
        try:
            return _write_rows(rows, format, sys.stdout)
        finally:
            sys.stdout.flush()
    with _text_output(output) as stream:
        return _write_rows(rows, format, stream)


def _write_rows(rows: Iterator[dict], format: DataFormat, stream: Any) -> int:
    n = 0
    if format == DataFormat.json:
        stream.write("[")
        for row in rows:
            stream.write(("\n  " if n == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False, default=str))
            n += 1
        stream.write("\n]\n" if n else "]\n")
    else:
        writer = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(row), lineterminator="\n", extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: int(v) if isinstance(v, bool) else safe_cell(v) for k, v in row.items()})
            n += 1
    return n


def _xlsx(rows: Iterable[dict], output: Path, sheet: str) -> int:
    """Text cells are written as text with Excel's quote prefix: never a formula, the value unchanged."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    n = 0
    header: list[str] | None = None
    for row in rows:
        if header is None:
            header = list(row)
            cells = []
            for h in header:
                c = WriteOnlyCell(ws, value=h)
                c.font = Font(bold=True)
                cells.append(c)
            ws.append(cells)
        out = []
        for h in header:
            v = row.get(h)
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                c.data_type = "s"  # openpyxl would otherwise store '=...' as a formula
                if v.startswith(FORMULA_START):
                    c.quotePrefix = True
            out.append(c)
        ws.append(out)
        n += 1
    if header is None:
        ws.append(["no recommendations match"])
    with _binary_output(output) as f:
        wb.save(f)
    err(f"{n:,} rows written to {output}")
    return n


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _search_table(rows: list[dict]) -> None:
    from rich.table import Table

    table = Table(show_lines=True, expand=True)
    for name, kw in (
        ("SuR", {"no_wrap": True}),
        ("Session", {"justify": "right"}),
        ("Recommendation", {"ratio": 6}),
        ("RS", {"min_width": 5}),
        ("Response", {}),
        ("Action", {"justify": "right"}),
        ("Issues", {"ratio": 2, "min_width": 14}),
    ):
        table.add_column(name, **kw)
    for r in rows:
        table.add_row(
            r["sur"],
            "" if r["session"] is None else str(r["session"]),
            r["text"],
            r["rs"] or "",
            r["response"] or "",
            "" if r["action"] is None else str(r["action"]),
            r["issues"] or "",
        )
    _console().print(table)


def _bar(value: int, biggest: int, width: int = 24) -> str:
    if biggest <= 0 or value <= 0:
        return ""
    eighths = round(8 * width * value / biggest)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def _stats_table(t) -> None:
    from rich.table import Table

    from ..stats import CATEGORIES, MULTI_VALUED, TRIGGERED

    console = _console()
    if len(t.by) == 1:
        table = Table(title=f"{CATEGORIES[t.by[0]]}", title_justify="left")
        table.add_column(t.by[0])
        table.add_column("count", justify="right")
        table.add_column("%", justify="right")
        level = t.by[0] == "level"
        if level:
            table.add_column("% of assessed", justify="right")
        table.add_column("", no_wrap=True, overflow="crop", min_width=10)
        biggest = max((r["count"] for r in t.rows if r[t.by[0].replace("-", "_")] != TRIGGERED), default=0)
        for r in t.rows:
            v = r[t.by[0].replace("-", "_")]
            cells = [t.label(0, v), f"{r['count']:,}", f"{100 * r['count'] / t.total:.1f}"]
            if level:
                p = r.get("percent_of_assessed")
                cells.append("" if p is None else f"{p:.1f}")
            cells.append(_bar(r["count"], biggest) if v != TRIGGERED else "")
            table.add_row(*cells, end_section=v == "not_assessed")
    else:
        first, second = t.values
        table = Table(title=f"{CATEGORIES[t.by[0]]} × {CATEGORIES[t.by[1]]}", title_justify="left")
        table.add_column(f"{t.by[0]} \\ {t.by[1]}")
        for v in second:
            table.add_column(t.label(1, v), justify="right")
        sums = t.by[1] not in MULTI_VALUED
        if sums:
            table.add_column("total", justify="right")
        trig = t.by[1] == "level"
        if trig:
            table.add_column("triggered\n% of assessed", justify="right")
        for a in first:
            counts = [t.counts.get((a, b), 0) for b in second]
            cells = [t.label(0, a)] + [f"{c:,}" for c in counts]
            if sums:
                cells.append(f"{sum(c for b, c in zip(second, counts) if b != TRIGGERED):,}")
            if trig:
                p = t.triggered.get((a,), {}).get("percent_of_assessed")
                cells.append("" if p is None else f"{p:.1f}")
            table.add_row(*cells)
        if t.by[0] == "level":
            trig_counts = [t.triggered.get((b,), {}).get("count", 0) for b in second]
            table.add_row(t.label(0, TRIGGERED), *(f"{c:,}" for c in trig_counts), *([f"{sum(trig_counts):,}"] if sums else []),
                          end_section=True)
    console.print(table)
    multi = [b for b in t.by if b in MULTI_VALUED]
    note = f"{t.total:,} recommendations"
    if multi:
        note += f"; {', '.join(multi)}: a recommendation counts once per value, so counts add up to more than {t.total:,}"
    if len(t.by) == 1:  # the cross-tab shows counts only (and the triggered share of each row's assessed)
        note += f"; percentages are of {t.total:,}"
    err(note)
