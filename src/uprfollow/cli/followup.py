"""`upr sheet`, `upr ingest`, `upr status`: the follow-up round trip and the implementation index."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import counted
from ._app import DbOption, app, err, print_json
from .output import Format, check_format, progress, rows_written, write_rows


class Lang(str, Enum):
    en = "en"
    fr = "fr"
    es = "es"


class StakeholderType(str, Enum):
    state = "state"
    ngo = "ngo"
    nhri = "nhri"
    un = "un"
    academic = "academic"
    other = "other"


SessionOption = Annotated[int | None, typer.Option("--session", help="Only this UPR session.", show_default=False)]
CycleOption = Annotated[int | None, typer.Option("--cycle", help="Only this UPR cycle (1-4).", show_default=False)]


def _one_scope(session: int | None, cycle: int | None) -> None:
    from ..errors import UsageError

    if session is not None and cycle is not None:
        raise UsageError("--session and --cycle cannot be used together", hint="choose one")


@app.command("sheet")
def sheet_cmd(
    state: Annotated[str, typer.Argument(help="The State under review (ISO3 code or name).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="The workbook to write (FILE.xlsx).", dir_okay=False, show_default=False)],
    session: SessionOption = None,
    cycle: CycleOption = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the headers, instructions and level drop-down.", case_sensitive=False)] = Lang.en,
    prefill: Annotated[
        str | None,
        typer.Option("--prefill", help="Fill in this stakeholder's current assessments, for the next round.", show_default=False),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the response sheet for one State: one row per recommendation, to be filled by a stakeholder.

    The sheet has an instruction block, cells for the stakeholder's name, type, label and
    date, and per recommendation its ID, paragraph, text, recommending State(s), response,
    issues, a drop-down for the level of implementation, a comment and a sources column.
    Only the input cells can be edited.
    """
    from ..sheets import write_sheet
    from ..store import open_store
    from ..vocab import resolve_state

    _one_scope(session, cycle)
    code = resolve_state(state)
    with open_store(db, readonly=True) as store:
        info = write_sheet(store, code, output, session=session, cycle=cycle, lang=lang.value, prefill=prefill)
    extra = f", {info.prefilled} prefilled from {prefill!r}" if prefill else ""
    rows_written(info.rows, output)
    err(f"the sheet lists {info.rows} recommendations to {code} ({info.lang}){extra}")


@app.command("ingest")
def ingest_cmd(
    files: Annotated[list[Path], typer.Argument(help="Filled response sheets: .xlsx, .xls, .ods or .csv.", show_default=False)],
    stakeholder: Annotated[str | None, typer.Option("--stakeholder", help="Who assessed (overrides the sheet's cell).", show_default=False)] = None,
    type: Annotated[StakeholderType | None, typer.Option("--type", help="Stakeholder type (overrides the sheet's cell).", show_default=False,
        case_sensitive=False)] = None,
    label: Annotated[str | None, typer.Option("--label", help="Short label, such as JS1 for a joint submission.", show_default=False)] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date of the assessment, YYYY-MM-DD (default: the sheet's cell, else today).", show_default=False)
    ] = None,
    sur: Annotated[str | None, typer.Option("--sur", help="State under review, for sheets that do not say (ISO3 or name).", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check, match and count; write nothing.")] = False,
    keep_valid: Annotated[bool, typer.Option("--keep-valid", help="Store the rows without problems even when other rows or files have some.")] = False,
    show_matches: Annotated[bool, typer.Option("--show-matches", help="List every row matched by a fuzzy text match (row, ID, score, "
                                               "the sheet's text and the stored one), to check them before publishing.")] = False,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="table|json",
        help="table (for people) or json (for scripts).", case_sensitive=False)] = Format.table,
    db: DbOption = None,
) -> None:
    """Read filled response sheets and store each row's level, comment and sources.

    Rows are matched to recommendations by ID, else paragraph, else text (exact, then
    fuzzy). Every problem is reported with its file, row and cell, and then nothing is
    written unless --keep-valid. Re-ingesting a file changes nothing; a newer sheet from
    the same stakeholder replaces its current assessments and keeps the old ones as history.
    """
    from ..ingest import ingest_files
    from ..store import open_store

    check_format(format, (Format.table, Format.json), "ingest")
    # a dry run reads only: it needs a store and never makes one
    with open_store(db, readonly=dry_run) as store, progress("reading", len(files), show=format == Format.table and len(files) > 1) as advance:
        result = ingest_files(store, files, stakeholder=stakeholder, type=type.value if type else None, label=label, as_of=as_of, sur=sur,
                              dry_run=dry_run, keep_valid=keep_valid, progress=advance)
    if format == Format.json:
        print_json([r.as_dict() for r in result.reports])
        return
    for r in result.reports:
        who = f"{r.stakeholder} ({r.stakeholder_type})" if r.stakeholder else "?"
        how = ", ".join(f"{n} by {m}" for m, n in sorted(r.matched.items()))
        head = f"{Path(r.file).name}: {r.sur or '?'}, {who}, as of {r.as_of or '?'}"
        if r.status == "refused":
            err(f"{head}: not stored ({counted(len(r.problems), 'problem')})")
            continue
        body = f"{counted(r.rows_read, 'row')}, {len(r.assessments)} assessed" + (f" ({how})" if how else "") + f", {r.blank} blank"
        if r.status == "already ingested":
            err(f"{head}: {body}; already ingested, nothing to do")
        elif r.status == "unchanged":
            err(f"{head}: {body}; same as the stored assessments, nothing to do")
        else:
            err(f"{head}: {body}; {_changes(r)}")
        for w in r.warnings:
            err(f"  note: {w}")
        if show_matches:
            for m in r.fuzzy:
                err(f"  fuzzy match: row {m['row']} -> {m['id']} ({m['score']:.1f}/100)\n    sheet:  {_clip(m['sheet_text'], 110)}\n"
                    f"    stored: {_clip(m['stored_text'], 110)}")
        elif r.fuzzy:
            err(f"  {counted(len(r.fuzzy), 'row')} matched by a fuzzy text match: check them with --show-matches")
    for p in result.problems:
        err(f"  - skipped: {p}")
    if dry_run:
        err("dry run: nothing written")


def _changes(r) -> str:
    """'3 changed, 116 unchanged' (and new, no longer assessed): what the sheet changes in the stakeholder's assessments."""
    parts = [f"added {r.new}" if r.new else "", f"{r.changed} changed" if r.changed else "",
             f"{r.unchanged} unchanged" if r.unchanged or not (r.new or r.changed) else "", f"{r.dropped} no longer assessed" if r.dropped else ""]
    text = ", ".join(p for p in parts if p)
    return f"dry run, if written: {text}" if r.status == "dry run" else text


@app.command("status")
def status_cmd(
    state: Annotated[str, typer.Argument(help="The State under review (ISO3 code or name).", show_default=False)],
    session: SessionOption = None,
    cycle: CycleOption = None,
    disputed: Annotated[bool, typer.Option("--disputed", help="Only recommendations whose stakeholders disagree.")] = False,
    level: Annotated[
        str | None,
        typer.Option("--level", help="Only this level: fully, partially, not, no_data or not_assessed.", show_default=False),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="table|json|csv",
        help="table, json or csv (one row per voice).", case_sensitive=False)] = Format.table,
    db: DbOption = None,
) -> None:
    """Show, per recommendation, every stakeholder's level and comment, the IRI and its level.

    The IRI averages fully = 1, partially = 0.5, not = 0 ('no data' left out), rounded to
    two decimals: 0-0.32 not implemented, 0.33-0.65 partially, 0.66-1 fully. Recommendations
    nobody assessed are 'not assessed'; disputed ones (different levels) are marked.
    """
    from .. import vocab
    from ..errors import InputError
    from ..iri import LEVEL_LABELS, received_any, statuses, summarise
    from ..store import open_store

    _one_scope(session, cycle)
    check_format(format, (Format.table, Format.json, Format.csv), "status")
    code = vocab.resolve_state(state)
    want = vocab.resolve_level(level, "--level") if level is not None else None
    with open_store(db, readonly=True) as store:
        items = statuses(store, code, session=session, cycle=cycle)
        if not items and not received_any(store, code):
            raise InputError(f"no recommendations to {vocab.countries()[code].name} ({code}) in the store",
                             hint="import them first with `upr import FILE`")
    total = summarise(items)
    shown = [s for s in items if (not disputed or s.disputed) and (want is None or s.level == want)]
    if format == Format.json:
        print_json([_status_dict(s) for s in shown])
    elif format == Format.csv:
        write_rows(_status_rows(shown), Format.csv, None)
    else:
        for s in shown:
            mark = "  DISPUTED" if s.disputed else ""
            value = "-" if s.iri is None else f"{s.iri:.2f}"
            typer.echo(f"{s.id}  IRI {value:>4}  {LEVEL_LABELS[s.level]}{mark}")
            typer.echo(f"    {_clip(s.text, 110)}")
            for v in s.voices:
                who = v.stakeholder + (f" [{v.label}]" if v.label else "")
                comment = f": {_clip(v.comment, 80)}" if v.comment else ""
                typer.echo(f"    - {who} ({v.type}): {LEVEL_LABELS[v.level]}{comment}")
    if format == Format.table:
        d = total.as_dict()
        err(f"{code}: {d['total']} recommendations, {d['assessed']} assessed; fully {d['fully']}, partially {d['partially']}, "
            f"not {d['not']}, no data {d['no_data']}, not assessed {d['not_assessed']}; triggered action {d['triggered_action']}; "
            f"disputed {d['disputed']}" + (f"; {len(shown)} shown" if len(shown) != len(items) else ""))


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _status_dict(s) -> dict:
    return {
        "id": s.id,
        "sur": s.sur,
        "session": s.session,
        "paragraph": s.paragraph,
        "text": s.text,
        "recommending_states": s.rs,
        "response": s.response,
        "action": s.action,
        "issues": s.issues,
        "iri": s.iri,
        "level": s.level,
        "disputed": s.disputed,
        "voices": [dict(v.__dict__) for v in s.voices],
    }


_STATUS_HEAD = ("id", "session", "paragraph", "text", "recommending_states", "response", "issues", "iri", "level", "disputed")
_STATUS_VOICE = ("stakeholder", "stakeholder_type", "label", "stakeholder_level", "level_raw", "comment", "sources", "as_of", "file", "row")


def _status_rows(shown):
    """One row per voice (a recommendation nobody assessed: one row with empty voice columns)."""
    for s in shown:
        head = [s.id, s.session, s.paragraph, s.text, "; ".join(s.rs), s.response, "; ".join(s.issues),
                "" if s.iri is None else f"{s.iri:.2f}", s.level, int(s.disputed)]
        for v in s.voices or [None]:
            tail = [v.stakeholder, v.type, v.label, v.level, v.level_raw, v.comment, v.sources, v.as_of, v.file, v.row] if v else [""] * 10
            yield {k: "" if x is None else x for k, x in zip(_STATUS_HEAD + _STATUS_VOICE, head + tail)}
