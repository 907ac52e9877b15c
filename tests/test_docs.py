"""Every command has help text and a page (or a section) in docs/ that names it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from uprfollow.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            names.extend(f"{name} {s}" for s in sub)
        else:
            names.append(name)
    return sorted(names)


def test_there_are_commands():
    assert {"import", "vocab"} <= set(command_names())


@pytest.mark.parametrize("name", command_names())
def test_command_has_help(runner, name):
    result = runner.invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    group = typer.main.get_command(app)
    cmd = group
    for part in name.split():
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"`upr {name}` has no help text"


@pytest.mark.parametrize("name", command_names())
def test_command_is_documented(name):
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    assert f"upr {name}" in text, f"`upr {name}` is not documented in docs/"


def test_help_lists_commands_in_the_order_of_the_work(runner):
    """`upr --help` reads as the workflow: import, search, stats; sheet, ingest, status; mia; then the tools."""
    import re

    out = runner.invoke(app, ["--help"]).output
    listed = re.findall(r"^  ([a-z]+)\s{2,}", out.split("Commands:")[1], flags=re.M)
    assert listed == ["import", "search", "stats", "classify", "sheet", "ingest", "status", "mia", "serve", "sample", "vocab", "db"]


def test_cli_reference_is_what_the_code_prints():
    """docs/cli-reference.md is written by cog from the CLI; it must not drift (`make cog` rewrites it)."""
    import contextlib
    import io

    from cogapp import Cog

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = Cog().main(["cog", "--check", str(DOCS / "cli-reference.md")])
    assert status == 0, "docs/cli-reference.md differs from the CLI's --help: run `make cog`\n" + out.getvalue()
