"""The Typer application, shared options, output helpers and the error-to-exit-code mapping."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
import typer.core

from ..errors import UprError
from .output import Format, table_or_json

# What a placeholder reads as in --help when a parameter names none (Typer's own are <str>, {files}...).
_PLACEHOLDERS = {"str": "TEXT", "int": "N", "float": "NUMBER", "file": "FILE", "path": "PATH", "dir": "DIR", "directory": "DIR"}

# Examples shown at the end of each command's --help, by command name (one home for all of them).
EXAMPLES: dict[str, list[str]] = {
    "import": ["upr import exports/*.csv", "upr import --sur HTI --session 26 my-list.xlsx --dry-run"],
    "search": ['upr search "death penalty" --sur-group Africa --response noted', "upr search women --issue \"Women's rights\" --count"],
    "stats": ["upr stats --by issue --top 10", "upr stats --by session --by response --percent row --chart accepted-share.svg"],
    "sheet": ["upr sheet HTI -o HTI-response-sheet.xlsx"],
    "ingest": ["upr ingest filled/*.xlsx", "upr ingest ngo-sheet.xlsx --dry-run --format json"],
    "status": ["upr status HTI", "upr status HTI --level not --format csv"],
    "mia": ["upr mia HTI", "upr mia --all --out-dir digests"],
    "serve": ["upr serve", "upr serve --port 8001 --db team.db"],
    "sample": ["upr sample demo/input"],
    "vocab": ["upr vocab countries", "upr vocab issues --format json"],
    "check": ["upr db check"],
    "backup": ["upr db backup upr-$(date +%F).db"],
    "history": ["upr db history"],
}


def examples_epilog(name: str | None) -> str | None:
    lines = EXAMPLES.get(name or "")
    if not lines:
        return None
    return "Examples:\n\n\b\n" + "\n".join("  " + line for line in lines)


def _tidy_params(params: list) -> None:
    """Usage lines and help without Typer's internal placeholders: `FILE...`, `STATE`, `--encoding TEXT`."""
    from typer.core import TyperArgument, TyperOption

    for p in params:
        if isinstance(p, TyperArgument):
            name = (p.metavar or p.name or "ARG").upper().removesuffix("...")
            if p.nargs != 1 and p.metavar is None and name.endswith("S"):
                name = name[:-1]  # files -> FILE...
            shown = name + ("..." if p.nargs != 1 else "")
            usage = shown if p.required else f"[{shown}]"
            p.get_usage_pieces = lambda ctx, u=usage: [u]
            p._rich_display_name = lambda n=shown: n
            p.get_error_hint = lambda *_, n=shown: f"'{n}'"
            if not p.type_descriptor.is_choice:  # choices stay listed: NAME <countries|issues|...>
                p.display_type_rich = lambda ctx: None
        elif isinstance(p, TyperOption) and p.metavar is None and not p.is_flag and not p.count:
            label = p.display_type(None) if not p.type_descriptor.is_choice else None
            if label and label.startswith("<") and label[1:-1] in _PLACEHOLDERS:
                p.metavar = _PLACEHOLDERS[label[1:-1]]


class UprCommand(typer.core.TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy_params(self.params)


class UprGroup(typer.core.TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy_params(self.params)


class App(typer.Typer):
    """A Typer app whose commands turn UprError into a message on stderr and an exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cls", UprGroup)
        super().__init__(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable:  # type: ignore[override]
        kwargs.setdefault("cls", UprCommand)
        kwargs.setdefault("epilog", examples_epilog(args[0] if args else kwargs.get("name")))
        register = super().command(*args, **kwargs)

        def wrap(fn: Callable) -> Callable:
            @functools.wraps(fn)
            def run(*a: Any, **k: Any) -> Any:
                try:
                    try:
                        result = fn(*a, **k)
                    except sqlite3.DatabaseError as e:  # damaged pages, a medium gone read-only: one clean message
                        if os.environ.get("UPR_DEBUG"):
                            raise
                        from ..store import damaged, default_db_path

                        raise damaged(k.get("db") or default_db_path(), e) from e
                except UprError as e:
                    if os.environ.get("UPR_DEBUG"):
                        raise
                    fmt = k.get("format")
                    report_error(e, as_json=getattr(fmt, "value", fmt) == "json")
                    log(f"exit {e.exit_code}")
                    raise typer.Exit(e.exit_code) from None
                except KeyboardInterrupt:
                    err("interrupted: nothing was written by the unfinished step")
                    log("exit 130")
                    raise typer.Exit(130) from None
                except typer.Exit as e:
                    log(f"exit {e.exit_code}")
                    raise
                log("exit 0")
                return result

            return register(run)

        return wrap


@dataclass
class _RunOptions:
    """Set by the global options (`upr --quiet --log-file FILE ...`), read by err(), log() and report_error()."""

    log_file: Path | None = None
    quiet_set_here: bool = False  # UPR_QUIET was set by --quiet in this process, not by the user


RUN = _RunOptions()


def quiet() -> bool:
    """True with `upr --quiet` or UPR_QUIET=1: only errors reach stderr."""
    return os.environ.get("UPR_QUIET", "") not in ("", "0")


def log(message: str) -> None:
    """Append a timestamped line to the --log-file, if one was given (never fails the command)."""
    path = RUN.log_file
    if path is None:
        return
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    lines = "".join(f"{stamp} upr[{os.getpid()}] {line}\n" for line in message.splitlines() or [""])
    try:
        with _open_log(path) as f:
            f.write(lines)
    except OSError:
        pass


def _open_log(path: Path) -> TextIO:
    """The log file opened for appending, never through a symbolic link."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    return os.fdopen(fd, "a", encoding="utf-8")


def err(message: str) -> None:
    """A line on stderr (never stdout: stdout is for data); silent with --quiet; copied to --log-file."""
    log(message)
    if not quiet():
        typer.echo(message, err=True)


def confirm(question: str, *, hint: str) -> bool:
    """Ask a yes/no question only when a person is at the terminal; never prompt from cron or a pipe."""
    if not sys.stdin.isatty():
        from ..errors import UsageError

        raise UsageError(f"{question} (no terminal to ask on)", hint=hint)
    return typer.confirm(question, default=False)


def report_error(e: UprError, *, as_json: bool = False) -> None:
    """Errors always reach stderr, even with --quiet (cron mails what a job prints on stderr)."""
    log("\n".join([f"Error: {e.message}", *(f"  - {p}" for p in e.problems[:50])] + ([f"Hint: {e.hint}"] if e.hint else [])))
    if as_json:
        payload = {
            "error": e.message,
            "hint": e.hint,
            "problems": [p.as_dict() for p in e.problems],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    typer.echo(f"Error: {e.message}", err=True)
    shown = e.problems[:50]
    for p in shown:
        typer.echo(f"  - {p}", err=True)
    if len(e.problems) > len(shown):
        typer.echo(f"  ... and {len(e.problems) - len(shown)} more (use --format json for the full list)", err=True)
    if e.hint:
        typer.echo(f"Hint: {e.hint}", err=True)


OutputFormat = Format  # the one format enum (cli/output.py); these commands take table or json


DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="UPR_DB",
        help="The store (SQLite file). Default: $UPR_DB, else ~/.local/share/uprfollow/upr.db.",
        dir_okay=False,
        show_default=False,
    ),
]

FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", metavar="table|json", help="table (for people) or json (for scripts).",
                                                    case_sensitive=False, callback=table_or_json)]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


app = App(
    name="upr",
    help="Follow up UN Universal Periodic Review recommendations from a local SQLite store.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    epilog="Exit codes: 0 ok; 1 bad data or runtime error (nothing written); 2 usage error; 130 interrupted. "
    "upr never prompts when stdin is not a terminal; for cron see docs/cron.md.",
)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", help="Show the version and exit.", is_eager=True, callback=_show_version)
    ] = False,
    quiet_: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print only errors (on stderr); for cron. Env: UPR_QUIET=1."),
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            envvar="UPR_LOG_FILE",
            dir_okay=False,
            help="Append timestamped lines of messages and errors to FILE (never through a symbolic link). Env: UPR_LOG_FILE.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Follow up UN Universal Periodic Review recommendations from a local SQLite store.

    Exit codes: 0 ok; 1 bad data or runtime error (nothing written); 2 usage error;
    130 interrupted (nothing written by the unfinished step). `upr` never prompts when
    stdin is not a terminal. For cron: `upr --quiet --log-file FILE ...` (see docs/cron.md).
    """
    if quiet_:
        RUN.quiet_set_here = RUN.quiet_set_here or not quiet()
        os.environ["UPR_QUIET"] = "1"  # what err() reads, also seen by child processes
    elif RUN.quiet_set_here:
        os.environ.pop("UPR_QUIET", None)  # left by an earlier in-process run (tests), not by the user
        RUN.quiet_set_here = False
    RUN.log_file = None
    if log_file is not None:
        try:
            _open_log(log_file).close()
        except OSError as e:
            reason = "it is a symbolic link" if log_file.is_symlink() else (e.strerror or str(e))
            typer.echo(f"Error: cannot write the log file {log_file}: {reason}", err=True)
            typer.echo("Hint: give a writable file path that is not a link", err=True)
            raise typer.Exit(1) from None
        RUN.log_file = log_file
        prog = Path(sys.argv[0])
        from_shell = prog.name == "upr" or (prog.name == "__main__.py" and prog.parent.name == "uprfollow")
        argv = sys.argv[1:] if from_shell else [ctx.invoked_subcommand or ""]
        log("start: upr " + " ".join(argv))
