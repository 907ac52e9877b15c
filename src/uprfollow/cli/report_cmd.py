"""`upr mia`: the Mid-term Implementation Assessment digest of one State, or of every assessed State (`--all`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UprError, UsageError, counted
from ._app import DbOption, app, err, print_json, stderr_is_tty


class MiaFormat(str, Enum):
    pdf = "pdf"
    html = "html"
    json = "json"


class Lang(str, Enum):
    en = "en"
    fr = "fr"
    es = "es"


class BatchFailed(UprError):
    """Some States of `upr mia --all` failed (the others were written)."""


@app.command("mia")
def mia_cmd(
    state: Annotated[str | None, typer.Argument(help="The State under review: ISO3 code or name (HTI, Haiti).", show_default=False)] = None,
    all_states: Annotated[bool, typer.Option("--all", help="Every State that has assessments, one file each, into --out-dir.")] = False,
    session: Annotated[int | None, typer.Option(help="Only the recommendations of this UPR session.")] = None,
    cycle: Annotated[int | None, typer.Option(help="Only the recommendations of this cycle (default: the State's latest assessed cycle).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: MIA-ISO3-cycleN-LANG.pdf in the current folder).",
                                                dir_okay=False, show_default=False)] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Folder for the files (required with --all).", file_okay=False,
                                                 show_default=False)] = None,
    format: Annotated[MiaFormat, typer.Option("--format", "-f", help="pdf or html: what to write; json: write PDFs, print the files as JSON.",
        case_sensitive=False)] = MiaFormat.pdf,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the digest's fixed words, dates and numbers.", case_sensitive=False)] = Lang.en,
    template_dir: Annotated[Path | None, typer.Option("--template-dir", help="Folder of templates overriding the built-in ones (mia.css, partials/...).",
                                                      exists=True, file_okay=False, show_default=False)] = None,
    sample_notice: Annotated[bool | None, typer.Option("--sample-notice/--no-sample-notice",
                                                       help="Force the 'sample data' notice on or off (default: shown when the data are marked fictional).",
                                                       show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(help="With --all: processes to use (default: all cores).", min=1, show_default=False)] = None,
    data: Annotated[bool, typer.Option("--data", help="Also write the digest's data (the CSV attached to the PDF) beside it, same name with .csv.")] = False,
    db: DbOption = None,
) -> None:
    """Write the Mid-term Implementation Assessment digest of a State (PDF or HTML).

    Cover, contents, methodology, sources, the implementation index with charts (also by
    response and by action category), every assessed recommendation grouped by issue with
    every stakeholder's level and comment (disputes marked), and an annex of the
    recommendations nobody assessed. The PDF carries its data as an attached CSV file
    (--data writes it beside the PDF too). stdout gets only the path(s) written.

    File names: MIA-ISO3-cycleN-LANG.pdf (MIA-ISO3-sessionN-LANG.pdf with --session).
    With --all: exit 1 if any State failed; the others are still written.
    """
    from ..report import write_digest
    from ..store import open_store

    if session is not None and cycle is not None:
        raise UsageError("give --session or --cycle, not both")
    doc_format = "html" if format == MiaFormat.html else "pdf"
    if output is not None and output.suffix.lower() in (".html", ".htm", ".pdf"):
        wanted = "pdf" if output.suffix.lower() == ".pdf" else "html"
        if format == MiaFormat.pdf and wanted == "html":
            doc_format = "html"  # -o digest.html: the file name says which format
        elif wanted != doc_format:
            raise UsageError(f"-o {output.name} does not match --format {format.value}", hint=f"name the file .{doc_format}")
    elif output is not None:
        raise UsageError(f"-o {output.name}: a digest is a .pdf or .html file", hint="e.g. -o MIA-HTI.pdf")
    as_json = format == MiaFormat.json
    if all_states:
        if state:
            raise UsageError("give a State or --all, not both")
        if out_dir is None:
            raise UsageError("--all needs --out-dir DIR", hint="e.g. upr mia --all --out-dir digests/")
        if output is not None:
            raise UsageError("--output names one file; with --all use --out-dir")
        if data:
            raise UsageError("--data is for one State's digest", hint="the data file is attached to every PDF --all writes")
        _batch(db, out_dir, doc_format, lang.value, session, cycle, template_dir, sample_notice, workers, as_json)
        return
    if not state:
        raise UsageError("name a State (ISO3 code or name), or use --all", hint="e.g. upr mia HTI")
    from ..vocab import resolve_state

    resolve_state(state)  # before opening the store, like sheet and status
    with open_store(db, readonly=True) as store:
        path = write_digest(store, state, out=output, out_dir=out_dir, fmt=doc_format, lang=lang.value, session=session, cycle=cycle,
                            template_dir=template_dir, sample=sample_notice, data=data, command=_command_line(),
                            one_shot=_is_upr_process())
    if as_json:
        print_json([{"state": resolve_state(state), "file": str(path), "ok": True, "error": None}])
    else:
        typer.echo(str(path))


def _is_upr_process() -> bool:
    """True when this process is the `upr` program (it ends after the command), not Python calling the CLI in-process."""
    import sys

    program = Path(sys.argv[0]) if sys.argv else Path()
    return program.name == "upr" or (program.name == "__main__.py" and program.parent.name == "uprfollow")


def _command_line() -> str:
    """The command as typed (`upr mia HTI --lang fr ...`), recorded in the digest's data file."""
    import shlex
    import sys

    return "upr " + shlex.join(sys.argv[1:]) if _is_upr_process() else ""


def _batch(db, out_dir: Path, fmt: str, lang: str, session, cycle, template_dir, sample, workers, as_json: bool) -> None:
    from ..report.batch import render_all, states_to_render
    from ..store import default_db_path, open_store

    db_path = Path(db) if db else default_db_path()
    with open_store(db_path, readonly=True) as store:
        states = states_to_render(store, session=session, cycle=cycle)
    if not states:
        if as_json:
            print_json([])
        err("no State has assessments" + (f" in session {session}" if session else f" in cycle {cycle}" if cycle else "")
            + ": nothing to write (ingest response sheets with `upr ingest`)")
        return
    if stderr_is_tty() and not as_json:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("digests"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True,
                      console=Console(stderr=True)) as bar:
            task = bar.add_task("digests", total=len(states))
            results = render_all(db_path, out_dir, fmt=fmt, lang=lang, session=session, cycle=cycle, template_dir=template_dir,
                                 sample=sample, workers=workers, states=states, progress=lambda r: bar.advance(task))
    else:
        results = render_all(db_path, out_dir, fmt=fmt, lang=lang, session=session, cycle=cycle, template_dir=template_dir,
                             sample=sample, workers=workers, states=states)
    failed = [r for r in results if not r.ok]
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        for r in results:
            if r.ok:
                typer.echo(r.file)
    err(f"{len(results) - len(failed)} of {counted(len(results), 'digest')} written to {out_dir}")
    if failed:
        for r in failed:
            err(f"  failed: {r.state}: {r.error}")
        if as_json:
            raise typer.Exit(1)
        raise BatchFailed(f"{len(failed)} of {len(results)} digests failed: {', '.join(r.state for r in failed)}",
                          hint="each failure is listed above; the other digests were written")
