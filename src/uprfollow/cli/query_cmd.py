"""`upr search` and `upr stats`: the eight-category filters, full-text search, tallies, exports, charts."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError, counted
from ._app import DbOption, app, err
from .output import Format, print_table, resolve_output, safe_output, text_output, title_line, write_rows, write_text


class IssueMode(str, Enum):
    any = "any"
    all = "all"


class Pledges(str, Enum):
    exclude = "exclude"
    include = "include"
    only = "only"


class Unit(str, Enum):
    pairs = "pairs"
    paragraphs = "paragraphs"
class Coding(str, Enum):
    all = "all"
    human = "human"


class Sort(str, Enum):
    auto = "auto"
    count = "count"
    value = "value"


class Percent(str, Enum):
    row = "row"
    column = "column"
    total = "total"


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
ThemeOpt = Annotated[
    list[str] | None,
    typer.Option("--theme", metavar="THEME", help="OHCHR theme: code (A12), name or both, any case.", show_default=False),
]
SdgOpt = Annotated[list[str] | None, typer.Option("--sdg", metavar="SDG", help="Sustainable Development Goal: 1-17 or its name.", show_default=False)]
GroupOpt = Annotated[
    list[str] | None,
    typer.Option("--group", metavar="GROUP", help="Affected persons / group of persons (children, women, ...), any case.", show_default=False),
]
PledgesOpt = Annotated[Pledges, typer.Option("--pledges", help="Voluntary pledges: left out (as UPR Info's figures), included, or only them.",
    case_sensitive=False)]
CodingOpt = Annotated[
    Coding,
    typer.Option("--coding", help="Action categories and issues: all (UPR Info's, else those `upr classify` predicted, marked *) or human (UPR Info's only).",
                 case_sensitive=False),
]
ParagraphOpt = Annotated[
    list[str] | None, typer.Option("--paragraph", metavar="N.N", help="Paragraph number in the report (186.23), as OHCHR lists give it.", show_default=False)
]
UnitOpt = Annotated[
    Unit,
    typer.Option("--unit", help="What counts as one: pairs (recommendation x recommending State, UPR Info's unit) or paragraphs (OHCHR's).",
                 case_sensitive=False),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table (for people), csv, json, or xlsx (needs -o).", case_sensitive=False)]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file instead of standard output (required for xlsx); its suffix (.csv, .json, .xlsx) "
                 "sets the format.", dir_okay=False, show_default=False),
]
BomOpt = Annotated[bool, typer.Option("--bom", help="CSV: start with a byte-order mark, so Excel on Windows opens accented names right.")]


def _filters(db: Path | None = None, **kw: Any):
    from .. import vocab
    from ..query import added_issues, make_filters

    if any(vocab.issue_name(i) is None for i in kw.get("issue") or ()):  # perhaps one a UPR Info export added to the store
        kw["added_issues"] = added_issues(db)
    kw["issue_mode"] = kw["issue_mode"].value
    kw["pledges"] = kw["pledges"].value
    kw["unit"] = kw["unit"].value
    kw["coding"] = kw["coding"].value
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
            help='Full-text search: words (all must occur; stemmed and lemmatised, so "discriminate" finds "discrimination", '
            '"woman" finds "women", "enfant" finds "enfants" in French texts), "quoted phrases", '
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
    theme: ThemeOpt = None,
    sdg: SdgOpt = None,
    group: GroupOpt = None,
    pledges: PledgesOpt = Pledges.exclude,
    paragraph: ParagraphOpt = None,
    unit: UnitOpt = Unit.pairs,
    coding: CodingOpt = Coding.all,
    count: Annotated[bool, typer.Option("--count", help="Print only the number of matching recommendations.")] = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", help="At most this many rows (table: 100 unless given; other formats: all).", min=0, show_default=False),
    ] = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    bom: BomOpt = False,
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
        db=db,
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
        theme=theme,
        sdg=sdg,
        group=group,
        pledges=pledges,
        text=text,
        paragraph=paragraph,
        unit=unit,
        coding=coding,
    )
    format, output = resolve_output(format, output, infer=not count)
    with _open(db) as store:
        if count:
            n = query.count(store.conn, f)
            # a bare number, for scripts: $(upr search ... --count)
            write_text(json.dumps({"count": n, "unit": f.unit}) if format == Format.json else str(n), output)
            for note in query.variant_notes(store.conn, f, n):
                err(note)
            return
        cap = limit if limit is not None else (100 if format == Format.table else None)
        rows = query.search(store.conn, f, limit=cap, with_sources=format == Format.json)
        if format == Format.table:
            shown = list(rows)
            if not shown:
                err("no recommendations match" + (f" ({f.describe()})" if f.describe() else ""))
                for note in query.variant_notes(store.conn, f, 0):
                    err(note)
                return
            total = query.count(store.conn, f) if len(shown) == cap else len(shown)
            _search_table(shown, f.unit)
            predicted = sum(r.get("action_source") not in (None, "upr-info") for r in shown)
            if predicted or any(r.get("issues_source") not in (None, "upr-info") for r in shown):
                err(f"* predicted by `upr classify` ({predicted} of {sum(r['action'] is not None for r in shown)} action categories shown are predicted); "
                    "--coding human shows UPR Info's coding only")
            for note in query.variant_notes(store.conn, f, total):
                err(note)
            if total > len(shown):
                err(f"showing {len(shown):,} of {total:,} recommendations ({f.unit}); use --limit N, or --format csv|json|xlsx for all of them")
            else:
                err(counted(total, "recommendation") if f.unit == "pairs" else f"{counted(total, 'paragraph')} (one row per paragraph)")
            return
        n = write_rows(rows, format, output, sheet="recommendations", title=title_line("upr search", f.describe()), bom=bom)
        if n == 0 and format != Format.json:  # JSON says it with []
            err("no recommendations match")


@app.command("stats")
def stats_cmd(
    by: Annotated[
        list[str],
        typer.Option(
            "--by",
            metavar="CATEGORY",
            help="Category, once or twice (cross-tab): sur, rs, sur-group, rs-group, sur-org, rs-org, response, action, issue, session, cycle, year, level, "
            "theme, sdg, group.",
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
    theme: ThemeOpt = None,
    sdg: SdgOpt = None,
    group: GroupOpt = None,
    pledges: PledgesOpt = Pledges.exclude,
    coding: CodingOpt = Coding.all,
    paragraph: ParagraphOpt = None,
    unit: UnitOpt = Unit.pairs,
    top: Annotated[
        int | None,
        typer.Option("--top", metavar="N", help="Only the N most frequent values of the first --by (and any tied with the Nth).", min=1, show_default=False),
    ] = None,
    percent: Annotated[
        Percent | None,
        typer.Option(
            "--percent",
            help="In a cross-tab, percentages of each row's recommendations (row: the accepted share of each session), "
            "of each column's, or of the total; the table then shows percentages. Default: of the total (csv, json, xlsx).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        Sort, typer.Option("--sort", help="auto: natural order for action, session, cycle, year, level, response; by count for the rest.", case_sensitive=False)
    ] = Sort.auto,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write the chart as a vector image (FILE.svg).", dir_okay=False, show_default=False)
    ] = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    bom: BomOpt = False,
    db: DbOption = None,
) -> None:
    """Count recommendations by one category, or cross two, with percentages.

    Counting rule: each matching recommendation counts once in each value it has.
    Multi-valued categories (issue, sur-org, and rs, rs-group, rs-org of joint
    recommendations) count a recommendation once per value, so their counts add up to more
    than the total; percentages are of the total number of matching recommendations, or
    in a cross-tab with --percent row|column, of each row's or column's recommendations
    (each counted once). No value: "(none)"; an RS the file could not identify: "(unknown)".
    --by level adds "triggered action" (fully + partially) and each level's share of the
    assessed recommendations. Filters are those of upr search; pledges are left out
    unless --pledges include|only.
    """
    from .. import stats

    f = _filters(
        db=db,
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
        theme=theme,
        sdg=sdg,
        group=group,
        pledges=pledges,
        text=text,
        paragraph=paragraph,
        unit=unit,
        coding=coding,
    )
    format, output = resolve_output(format, output)
    if chart is not None:
        if chart.suffix.lower() != ".svg":
            raise UsageError(f"--chart writes SVG: {chart} does not end in .svg", hint="e.g. --chart issues.svg")
        chart = safe_output(chart)
    with _open(db) as store:
        t = stats.tally(store.conn, f, by, top=top, sort=sort.value, percent=percent.value if percent else "total")
    if t.tied:
        err(f"--top {top}: {counted(t.tied, 'more value')} tied with the {top}th ({t.tie_count:,} each) "
            f"{'is' if t.tied == 1 else 'are'} kept, {top + t.tied} values in all")
    if chart is not None and t.total:
        with text_output(chart) as f:
            f.write(stats.svg_chart(t))
        err(f"chart written to {chart}")
    if format == Format.table:
        if t.total == 0:
            err("no recommendations match" + (f" ({f.describe()})" if f.describe() else ""))
            return
        _stats_table(t, shares=percent is not None)
        return
    rows = t.rows
    if format != Format.json and t.unit == "pairs":
        # CSV and XLSX keep their columns for the default unit (scripts read them); a `unit` column says "paragraphs"
        rows = [{k: v for k, v in r.items() if k != "unit"} for r in rows]
    write_rows(iter(rows), format, output, sheet="stats" if t.unit == "pairs" else "stats (paragraphs)",
               title=title_line("upr stats --by " + " --by ".join(by), f.describe()), bom=bom)
    if t.total == 0 and format != Format.json:
        err("no recommendations match")


# --- tables ------------------------------------------------------------------------------------


def _search_table(rows: list[dict], unit: str = "pairs") -> None:
    caption = "one row per recommendation and recommending State (pairs)" if unit == "pairs" else "one row per paragraph"
    columns = [
        ("SuR", {"no_wrap": True}),
        ("Session", {"justify": "right"}),
        ("Para.", {"no_wrap": True}),
        ("Recommendation", {"ratio": 6}),
        ("RS", {"min_width": 5}),
        ("Response", {}),
        ("Action", {"justify": "right"}),
        ("Issues", {"ratio": 2, "min_width": 14}),
    ]
    print_table(columns, ([r["sur"], "" if r["session"] is None else str(r["session"]), r["paragraph"] or "", r["text"], r["rs"] or "",
                           r["response"] or "",
                           "" if r["action"] is None else str(r["action"]) + ("*" if r.get("action_source") not in (None, "upr-info") else ""),
                           (r["issues"] or "") + (" *" if r["issues"] and r.get("issues_source") not in (None, "upr-info") else "")]
                          for r in rows),
                lines=True, expand=True, caption=caption)


def _bar(value: int, biggest: int, width: int = 24) -> str:
    if biggest <= 0 or value <= 0:
        return ""
    eighths = round(8 * width * value / biggest)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def _stats_table(t, shares: bool = False) -> None:
    from ..stats import CATEGORIES, MULTI_VALUED, TRIGGERED

    rows: list[list[str]] = []
    ends: list[bool] = []
    if len(t.by) == 1:
        level = t.by[0] == "level"
        columns = [(t.by[0], {}), ("count", {"justify": "right"}), ("%", {"justify": "right"})]
        if level:
            columns.append(("% of assessed", {"justify": "right"}))
        if t.predicted:
            columns.append(("predicted", {"justify": "right"}))
        columns.append(("", {"no_wrap": True, "overflow": "crop", "min_width": 10}))
        biggest = max((r["count"] for r in t.rows if r[t.by[0].replace("-", "_")] != TRIGGERED), default=0)
        for r in t.rows:
            v = r[t.by[0].replace("-", "_")]
            cells = [t.label(0, v), f"{r['count']:,}", f"{100 * r['count'] / t.total:.1f}"]
            if level:
                p = r.get("percent_of_assessed")
                cells.append("" if p is None else f"{p:.1f}")
            if t.predicted:
                cells.append(f"{r['predicted']:,}*" if r.get("predicted") else "")
            cells.append(_bar(r["count"], biggest) if v != TRIGGERED else "")
            rows.append(cells)
            ends.append(v == "not_assessed")
        title = f"{CATEGORIES[t.by[0]]}, counted in {t.unit}"
    else:
        first, second = t.values
        columns = [(f"{t.by[0]} \\ {t.by[1]}", {})] + [(t.label(1, v), {"justify": "right"}) for v in second]
        sums = t.by[1] not in MULTI_VALUED
        if sums:
            columns.append(("total", {"justify": "right"}))
        trig = t.by[1] == "level"
        if trig:
            columns.append(("triggered\n% of assessed", {"justify": "right"}))
        if shares and t.percent == "row":
            sums = True  # the row's base: its recommendations, counted once each
        for a in first:
            counts = [t.counts.get((a, b), 0) for b in second]
            if shares:
                cells = [t.label(0, a)] + [_pct(t.share((a, b), c)) for b, c in zip(second, counts)]
            else:
                cells = [t.label(0, a)] + [f"{c:,}" for c in counts]
            if shares and t.percent == "row":
                cells.append(f"{t.bases[0].get(a, 0):,}")
            elif sums:
                cells.append(f"{sum(c for b, c in zip(second, counts) if b != TRIGGERED):,}")
            if trig:
                p = t.triggered.get((a,), {}).get("percent_of_assessed")
                cells.append("" if p is None else f"{p:.1f}")
            rows.append(cells)
            ends.append(False)
        if t.by[0] == "level":
            trig_counts = [t.triggered.get((b,), {}).get("count", 0) for b in second]
            rows.append([t.label(0, TRIGGERED), *(f"{c:,}" for c in trig_counts), *([f"{sum(trig_counts):,}"] if sums else [])])
            ends.append(True)
        if shares and t.percent == "column":
            rows.append(["recommendations", *(f"{t.bases[1].get(b, 0):,}" for b in second), *([""] if sums else []), *([""] if trig else [])])
            ends.append(True)
        title = f"{CATEGORIES[t.by[0]]} × {CATEGORIES[t.by[1]]}, counted in {t.unit}"
    print_table(columns, rows, title=title, sections=ends)
    multi = [b for b in t.by if b in MULTI_VALUED]
    from ..query import UNIT_NOTES

    note = f"{t.total:,} recommendations ({t.unit}: {UNIT_NOTES[t.unit]})"
    if multi:
        note += f"; {', '.join(multi)}: a recommendation counts once per value, so counts add up to more than {t.total:,}"
    if len(t.by) == 1:  # the cross-tab shows counts only (and the triggered share of each row's assessed)
        note += f"; percentages are of {t.total:,}"
    elif shares:
        note += {
            "row": f"; percentages are of each {t.by[0]}'s recommendations (the total column)",
            "column": f"; percentages are of each {t.by[1]}'s recommendations (the last row)",
            "total": f"; percentages are of {t.total:,}",
        }[t.percent]
    err(note)
    for cat, (n_pred, n_coded) in t.predicted.items():
        what = "action categories" if cat == "action" else "recommendations' issues"
        err(f"* {n_pred:,} of {n_coded:,} {what} are predicted by `upr classify` (--coding human: UPR Info's coding only)")
