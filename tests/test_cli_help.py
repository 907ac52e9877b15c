"""A command line that helps: completion, usage lines, examples in --help, clean "did you mean" lists,
encoding and header-only hints (issue 15). Files here are constructed by the tests."""

from __future__ import annotations

import re

import pytest

from uprfollow.cli import app

COMMANDS = [["import"], ["search"], ["stats"], ["sheet"], ["ingest"], ["status"], ["mia"], ["serve"], ["sample"], ["vocab"],
            ["db", "check"], ["db", "backup"], ["db", "history"]]


def test_shell_completion_is_offered(runner, monkeypatch):
    out = runner.invoke(app, ["--help"]).output
    assert "--install-completion" in out and "--show-completion" in out
    # Typer detects the shell from the parent processes, which a CI runner or cron may not have: say it is bash
    import typer.completion

    monkeypatch.setattr(typer.completion, "_get_shell_name", lambda: "bash")
    res = runner.invoke(app, ["--show-completion"], prog_name="upr")
    assert res.exit_code == 0, res.output
    assert "_UPR_COMPLETE" in res.output or "complete" in res.output


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_usage_and_help_have_no_internal_placeholders(runner, cmd):
    out = runner.invoke(app, [*cmd, "--help"], prog_name="upr").output
    usage = out.splitlines()[0]
    assert "{" not in usage and "<" not in usage, usage
    assert not re.search(r"<(str|int|float|path|file|dir|list\[[^]]*\])>", out), out
    if "Arguments:" in out:  # arguments are named in capitals, as in the usage line
        arguments = out.split("Arguments:")[1].split("Options:")[0]
        assert not re.search(r"^  [a-z_]+(\.\.\.)? ", arguments, flags=re.M), arguments


def test_usage_lines_read_as_documented(runner):
    first = {c: runner.invoke(app, [c, "--help"], prog_name="upr").output.splitlines()[0] for c in ("import", "ingest", "sheet", "mia")}
    assert first == {
        "import": "Usage: upr import [OPTIONS] FILE...",
        "ingest": "Usage: upr ingest [OPTIONS] FILE...",
        "sheet": "Usage: upr sheet [OPTIONS] STATE",
        "mia": "Usage: upr mia [OPTIONS] [STATE]",
    }
    res = runner.invoke(app, ["import"], prog_name="upr")
    assert res.exit_code == 2 and "Missing argument 'FILE...'" in res.output


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_help_ends_with_examples(runner, cmd):
    out = runner.invoke(app, [*cmd, "--help"], prog_name="upr").output
    tail = out.rstrip().split("Examples:")
    assert len(tail) == 2, out
    lines = [line.strip() for line in tail[1].strip().splitlines()]
    assert lines and all(line.startswith("upr " + " ".join(cmd)) for line in lines), lines


def test_did_you_mean_lists_each_value_once(runner, tmp_path):
    res = runner.invoke(app, ["search", "--response", "maybe", "--db", str(tmp_path / "x.db")])
    assert res.exit_code == 2
    hint = res.output.split("Hint:")[1]
    values = [v.strip().rstrip(".") for v in hint.split(":", 1)[1].split(",") if v.strip() not in ("...", "")]
    assert values[:4] == ["Accepted", "Noted", "Pending", "Voluntary Pledge"]
    assert len({v.lower() for v in values}) == len(values), values


def test_wrong_encoding_suggests_dropping_it(runner, tmp_path):
    path = tmp_path / "list.csv"
    text = "To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session\r" \
           "Haiti,GRULAC,,Protéger les défenseurs des droits de l’homme,France,WEOG,,Accepted,4,Justice,12\r"
    path.write_bytes(text.encode("mac_roman"))
    res = runner.invoke(app, ["import", str(path), "--encoding", "utf-8", "--db", str(tmp_path / "x.db")])
    assert res.exit_code == 1
    assert "Hint: drop --encoding: upr reads this file as mac_roman by itself" in res.output
    assert runner.invoke(app, ["import", str(path), "--db", str(tmp_path / "x.db")]).exit_code == 0


def test_header_only_csv_names_no_rows(runner, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session\n", encoding="utf-8")
    res = runner.invoke(app, ["import", str(path), "--db", str(tmp_path / "x.db")])
    assert res.exit_code == 1
    assert "the file has a header but no recommendation rows, nothing imported" in res.output
    assert "rows named above" not in res.output

