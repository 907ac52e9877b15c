"""`upr db check | backup | history`, the global --quiet / --log-file options, no prompts, the cron example."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hostile.make_corpus import upr_info_csv

from uprfollow.cli import app
from uprfollow.importer import import_files
from uprfollow.store import open_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store_with_rows(tmp_path, db_path) -> Path:
    with open_store(db_path) as store:
        import_files(store, [upr_info_csv(tmp_path / "recs.csv", 30, seed=5)])
    return db_path


def test_check_healthy_store(runner, store_with_rows):
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 0, result.output
    assert "ok: the store" in result.output and "is healthy" in result.output
    assert "30 recommendations" in result.output


def test_check_empty_store(runner, db_path):
    open_store(db_path).close()
    result = runner.invoke(app, ["db", "check", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["findings"] == []


def test_check_missing_store(runner, tmp_path):
    result = runner.invoke(app, ["db", "check", "--db", str(tmp_path / "nope.db")])
    assert result.exit_code == 1
    assert "no store at" in result.output


def corrupt(db: Path) -> dict[str, tuple[int, str]]:
    """Damage a healthy store by hand, the way the issue's 'Done when' describes; return what was damaged where."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT pk, id FROM recommendations ORDER BY pk LIMIT 6").fetchall()
    damaged = {}
    # 1. a deleted recommending-State row
    conn.execute("DELETE FROM recommending_states WHERE rec_pk = ?", (rows[0][0],))
    damaged["no_rs"] = rows[0]
    # 2. an issue outside the vocabulary (added to the issues table too, so the foreign key holds)
    conn.execute("INSERT INTO issues (name) VALUES ('Space exploration')")
    ri = conn.execute("SELECT rowid FROM recommendation_issues WHERE rec_pk = ? LIMIT 1", (rows[1][0],)).fetchone()[0]
    conn.execute("UPDATE recommendation_issues SET issue = 'Space exploration' WHERE rowid = ?", (ri,))
    damaged["issue"] = (ri, rows[1][1])
    # 3. values outside the vocabularies
    conn.execute("UPDATE recommendations SET response = 'Maybe' WHERE pk = ?", (rows[2][0],))
    damaged["response"] = rows[2]
    conn.execute("UPDATE recommendations SET session = 99 WHERE pk = ?", (rows[3][0],))
    damaged["session"] = rows[3]
    conn.execute("UPDATE recommending_states SET iso3 = 'XXX' WHERE rec_pk = ?", (rows[4][0],))
    damaged["rs_country"] = rows[4]
    # 4. a row pointing at nothing: an issue row of a recommendation that does not exist
    conn.execute("INSERT INTO recommendation_issues (rec_pk, issue) VALUES (999999, 'Justice')")
    conn.commit()
    conn.close()
    return damaged


def test_check_names_each_problem(runner, store_with_rows):
    damaged = corrupt(store_with_rows)
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 1
    out = result.stdout
    pk, rid = damaged["no_rs"]
    assert f"[missing_link] recommendations rowid {pk} ID {rid}: no recommending State" in out
    ri, rid = damaged["issue"]
    assert f"[vocabulary] recommendation_issues rowid {ri} ID {rid}: issue 'Space exploration' is not one of UPR Info's 54 issues" in out
    assert "[vocabulary] issues rowid" in out and "name 'Space exploration'" in out
    pk, rid = damaged["response"]
    assert f"recommendations rowid {pk} ID {rid}: response 'Maybe' is not a response" in out
    pk, rid = damaged["session"]
    assert f"recommendations rowid {pk} ID {rid}: session 99 is not a UPR session" in out
    assert "points at no row of sessions" in out  # the foreign key check sees it too
    pk, rid = damaged["rs_country"]
    assert f"ID {rid}: iso3 'XXX' is not a known country" in out
    assert "[foreign_key] recommendation_issues rowid" in out and "rec_pk = 999999 points at no row of recommendations" in out
    assert "problems in the store" in result.stderr


def test_check_json_lists_findings(runner, store_with_rows):
    corrupt(store_with_rows)
    result = runner.invoke(app, ["db", "check", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    checks = {f["check"] for f in data["findings"]}
    assert {"missing_link", "vocabulary", "foreign_key"} <= checks
    assert all({"table", "rowid", "id", "message"} <= set(f) for f in data["findings"])


def test_check_finds_damaged_pages(runner, store_with_rows):
    conn = sqlite3.connect(store_with_rows)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = store_with_rows.stat().st_size
    with open(store_with_rows, "r+b") as f:  # scribble over the middle of the file
        f.seek(size // 2)
        f.write(b"\xff" * 8192)
    result = runner.invoke(app, ["db", "check"])
    assert result.exit_code == 1
    # the integrity check names the damage, or (pages SQLite cannot even open) the one clean store error
    assert "[integrity]" in result.stdout or "cannot be used" in result.stderr, result.output


def test_check_does_not_write(runner, store_with_rows):
    corrupt(store_with_rows)
    before = store_with_rows.read_bytes()
    runner.invoke(app, ["db", "check"])
    assert store_with_rows.read_bytes() == before


def test_backup(runner, store_with_rows, tmp_path):
    dest = tmp_path / "copy.db"
    result = runner.invoke(app, ["db", "backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output and "30 recommendations" in result.output
    assert not Path(str(dest) + "-wal").exists()
    with sqlite3.connect(dest) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 30
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # refuses to overwrite, then overwrites with --force
    again = runner.invoke(app, ["db", "backup", str(dest)])
    assert again.exit_code == 1 and "already exists" in again.output and "--force" in again.output
    forced = runner.invoke(app, ["db", "backup", str(dest), "--force", "--format", "json"])
    assert forced.exit_code == 0
    report = json.loads(forced.stdout)
    assert report["counts"]["recommendations"] == 30 and len(report["sha256"]) == 64
    assert not list(tmp_path.glob(".copy.db.*"))  # no temporary file left behind


def test_backup_refuses_the_store_itself_and_folders(runner, store_with_rows, tmp_path):
    result = runner.invoke(app, ["db", "backup", str(store_with_rows), "--force"])
    assert result.exit_code == 1 and "is the store itself" in result.output
    result = runner.invoke(app, ["db", "backup", str(tmp_path)])
    assert result.exit_code == 1 and "is a folder" in result.output
    result = runner.invoke(app, ["db", "backup", str(tmp_path / "no" / "such" / "dir.db")])
    assert result.exit_code == 1 and "no such folder" in result.output


def test_history(runner, store_with_rows, tmp_path):
    second = upr_info_csv(tmp_path / "more.csv", 10, seed=6, tag="m")
    assert runner.invoke(app, ["import", str(second)]).exit_code == 0
    assert runner.invoke(app, ["import", str(second)]).exit_code == 0
    result = runner.invoke(app, ["db", "history", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["file"] for r in rows] == ["recs.csv", "more.csv", "more.csv"]
    assert [(r["added"], r["unchanged"]) for r in rows] == [(30, 0), (10, 0), (0, 10)]
    assert all(r["kind"] == "import" and len(r["sha256"]) == 64 and r["tool_version"] for r in rows)
    table = runner.invoke(app, ["db", "history"])
    assert table.exit_code == 0 and "more.csv" in table.stdout and "import" in table.stdout


def test_history_empty(runner, db_path):
    open_store(db_path).close()
    result = runner.invoke(app, ["db", "history", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


# --- unattended runs --------------------------------------------------------------------------

def test_quiet_prints_only_errors(runner, tmp_path):
    src = upr_info_csv(tmp_path / "a.csv", 5)
    result = runner.invoke(app, ["--quiet", "import", str(src)])
    assert result.exit_code == 0 and result.output == ""
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,to,see\n1,2,3\n")
    result = runner.invoke(app, ["--quiet", "import", str(bad)])
    assert result.exit_code == 1 and "Error:" in result.output
    # the next run without --quiet talks again
    result = runner.invoke(app, ["import", str(src)])
    assert "already present" in result.output


def test_log_file(runner, tmp_path):
    log = tmp_path / "upr.log"
    src = upr_info_csv(tmp_path / "a.csv", 5)
    assert runner.invoke(app, ["--quiet", "--log-file", str(log), "import", str(src)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,to,see\n1,2,3\n")
    assert runner.invoke(app, ["--log-file", str(log), "import", str(bad)]).exit_code == 1
    lines = log.read_text().splitlines()
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ upr\[\d+\] "
    assert all(re.match(stamp, line) for line in lines), lines
    text = "\n".join(lines)
    assert "a.csv: upr-info-csv, 5 rows: 5 new" in text  # what --quiet hid on stderr
    assert re.search(r"Error: \S*bad.csv: the header matches no known format", text)
    assert "Hint: expected" in text
    assert text.count("exit 0") == 1 and text.count("exit 1") == 1


def test_no_prompts_anywhere():
    """Nothing asks a question except through _app.confirm(), which refuses when stdin is not a terminal."""
    offenders = []
    for p in (ROOT / "src" / "uprfollow").rglob("*.py"):
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b(typer|click)\.(confirm|prompt)\(|\binput\(|prompt=True|Prompt\.ask|Confirm\.ask", line):
                if not (p.name == "_app.py" and "typer.confirm(question" in line):
                    offenders.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "prompts outside _app.confirm():\n" + "\n".join(offenders)


def test_confirm_refuses_without_terminal(runner):
    import typer

    from uprfollow.cli._app import App, confirm

    demo = App()

    @demo.command()
    def ask() -> None:
        if confirm("overwrite everything?", hint="pass --force"):
            typer.echo("yes")

    result = runner.invoke(demo, [], input="y\n")
    assert result.exit_code == 2
    assert "overwrite everything? (no terminal to ask on)" in result.output and "pass --force" in result.output


def cron_line() -> str:
    text = (ROOT / "docs" / "cron.md").read_text(encoding="utf-8")
    block = re.search(r"```crontab\n(.*?)```", text, re.S)
    assert block, "docs/cron.md has no ```crontab block"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(lines) == 1
    return lines[0]


def test_cron_example_runs(tmp_path):
    """Run the crontab line of docs/cron.md as cron would: /bin/sh, a bare environment, no terminal."""
    line = cron_line()
    fields = line.split(None, 5)
    assert len(fields) == 6
    minute, hour, dom, month, dow, command = fields
    assert all(re.fullmatch(r"[\d*/,-]+", f) for f in (minute, hour, dom, month, dow))
    command = command.replace("\\%", "%")  # cron's unescaping; a bare % would end the command
    assert "%" not in command.replace("%a", "")
    home = tmp_path / "home"
    (home / "upr" / "inbox").mkdir(parents=True)
    (home / "upr" / "backups").mkdir()
    upr_info_csv(home / "upr" / "inbox" / "hti.csv", 40, seed=9)
    env = {"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "SHELL": "/bin/sh", "LANG": "C.UTF-8"}
    for night in (1, 2):  # the second night re-imports the same files: adds nothing, still succeeds
        proc = subprocess.run(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, f"night {night}: {proc.stderr}"
        assert proc.stdout == "" and proc.stderr == "", "a quiet cron job must print nothing (cron would mail it)"
    db = home / "upr" / "upr.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 40
    backups = list((home / "upr" / "backups").glob("upr-*.db"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 40
    log = (home / "upr" / "cron.log").read_text()
    assert "40 new" in log and "0 new, 40 already present" in log and log.count("exit 0") == 4
    assert shlex.split(command)  # the line is valid shell


def test_documented_exit_codes_match(runner):
    text = (ROOT / "docs" / "cron.md").read_text(encoding="utf-8")
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert code in text
    help_text = runner.invoke(app, ["--help"]).output
    assert "Exit codes" in help_text and "130" in help_text
    assert runner.invoke(app, ["import", "--no-such-option"]).exit_code == 2


def test_env_quiet(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("UPR_QUIET", "1")
    src = upr_info_csv(tmp_path / "a.csv", 3)
    result = runner.invoke(app, ["import", str(src)])
    assert result.exit_code == 0 and result.output == ""
    assert os.environ["UPR_QUIET"] == "1"


def test_check_follow_up_tables(runner, store_with_rows, tmp_path):
    """Assessments of a deleted recommendation, a level and a stakeholder type outside the vocabulary."""
    from hostile.make_corpus import filled_sheet_csv

    conn = sqlite3.connect(store_with_rows)
    ids = [r[0] for r in conn.execute("SELECT id FROM recommendations WHERE sur = 'HTI'")]
    sur = "HTI"
    if not ids:
        sur, = conn.execute("SELECT sur FROM recommendations LIMIT 1").fetchone()
        ids = [r[0] for r in conn.execute("SELECT id FROM recommendations WHERE sur = ?", (sur,))]
    conn.close()
    sheet = filled_sheet_csv(tmp_path / "sheet.csv", ids, seed=4)
    result = runner.invoke(app, ["ingest", str(sheet), "--stakeholder", "Some NGO", "--type", "ngo", "--sur", sur])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["db", "check"]).exit_code == 0
    conn = sqlite3.connect(store_with_rows)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    gone_pk = conn.execute("SELECT pk FROM recommendations WHERE id = ?", (ids[0],)).fetchone()[0]
    conn.execute("DELETE FROM recommendations WHERE pk = ?", (gone_pk,))  # foreign keys are off in a plain connection
    aid = conn.execute("SELECT id FROM assessments WHERE rec_pk != ? LIMIT 1", (gone_pk,)).fetchone()[0]
    conn.execute("UPDATE assessments SET level = 'done' WHERE id = ?", (aid,))
    conn.execute("UPDATE stakeholders SET type = 'company'")
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["db", "check", "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    text = "\n".join(f"{f['check']} {f['table']} {f['rowid']} {f['message']}" for f in findings)
    assert "foreign_key assessments" in text and f"rec_pk = {gone_pk} points at no row of recommendations" in text
    assert "foreign_key recommending_states" in text
    assert f"vocabulary assessments {aid} level 'done' is not a level" in text
    assert "vocabulary stakeholders 1 type 'company' is not a stakeholder type" in text
