"""The Typer application, shared options, output helpers and the error-to-exit-code mapping."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UprError


class App(typer.Typer):
    """A Typer app whose commands turn UprError into a message on stderr and an exit code."""

    def command(self, *args: Any, **kwargs: Any) -> Callable:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def wrap(fn: Callable) -> Callable:
            @functools.wraps(fn)
            def run(*a: Any, **k: Any) -> Any:
                try:
                    return fn(*a, **k)
                except UprError as e:
                    if os.environ.get("UPR_DEBUG"):
                        raise
                    fmt = k.get("format")
                    report_error(e, as_json=getattr(fmt, "value", fmt) == "json")
                    raise typer.Exit(e.exit_code) from None
                except KeyboardInterrupt:
                    err("interrupted: nothing was written by the unfinished step")
                    raise typer.Exit(130) from None

            return register(run)

        return wrap


def err(message: str) -> None:
    """A line on stderr (never stdout: stdout is for data)."""
    if not os.environ.get("UPR_QUIET"):
        typer.echo(message, err=True)


def report_error(e: UprError, *, as_json: bool = False) -> None:
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


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


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

FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table (for people) or json (for scripts).")]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()


app = App(
    name="upr",
    help="Follow up UN Universal Periodic Review recommendations from a local SQLite store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    """Follow up UN Universal Periodic Review recommendations from a local SQLite store.

    Exit codes: 0 ok, 1 bad data or runtime error (nothing written), 2 usage error.
    """
    if version:
        from .. import __version__

        typer.echo(__version__)
        raise typer.Exit(0)
