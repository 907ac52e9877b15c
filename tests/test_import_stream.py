"""The streamed import: every path a file can take stores the same records.

`upr import` reads, checks and writes a file in batches (importer.BATCH_ROWS records). A large
file going into an empty store is read in a forked child process while the parent writes, with
the secondary indexes and the full-text insert trigger dropped for the transaction and built once
at the end (`PARALLEL_BYTES`, `BULK_BYTES`: 20 MB). These tests lower the thresholds so the real
exports take each path, and compare the stores they make with the one a whole-file import makes.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from pathlib import Path

import pytest

from uprfollow import importer
from uprfollow.errors import InputError
from uprfollow.importer import import_files, run_import
from uprfollow.store import open_store

DUMP = {
    "recommendations": "SELECT id, sur, session, cycle, year, paragraph, text, response, response_raw, action, is_pledge, "
                       "source_row, language, lemmas FROM recommendations ORDER BY id",
    "states": "SELECT r.id, s.position, s.iso3, s.name_raw FROM recommending_states s JOIN recommendations r ON r.pk = s.rec_pk "
              "ORDER BY r.id, s.position",
    "issues": "SELECT r.id, i.issue FROM recommendation_issues i JOIN recommendations r ON r.pk = i.rec_pk ORDER BY 1, 2",
    "imports": "SELECT file_name, format, rows_read, added, already_present FROM imports ORDER BY id",
    "vocabulary of issues": "SELECT name, note FROM issues ORDER BY name",
    "schema": "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name",
}
SEARCHES = ("women", "woman", "torture", '"death penalty"', "child*")


def dump(path: Path) -> dict[str, list]:
    conn = sqlite3.connect(path)
    try:
        out: dict[str, list] = {k: conn.execute(q).fetchall() for k, q in DUMP.items()}
        for q in SEARCHES:  # the full-text index answers as the trigger-kept one does
            out[f"search {q}"] = conn.execute(
                "SELECT r.id FROM recommendations_fts f JOIN recommendations r ON r.pk = f.rowid "
                "WHERE recommendations_fts MATCH ? ORDER BY r.id", (q,)).fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO recommendations_fts(recommendations_fts) VALUES ('integrity-check')")
        return out
    finally:
        conn.close()


def _files(exports: Path) -> list[Path]:
    # the .xls and the .csv copy of the same sessions: the second file's rows are all already present
    return [exports / "1-5.xls", exports / "1-5.csv", exports / "10-13.csv"]


@pytest.fixture(scope="module")
def whole(exports, tmp_path_factory) -> dict[str, list]:
    """The store made from files read whole (`prepare`) and written one by one (`write`)."""
    path = tmp_path_factory.mktemp("whole") / "whole.db"
    with open_store(path) as store:
        for f in _files(exports):
            importer.write(store, importer.prepare(f))
    return dump(path)


def _streamed(tmp_path: Path, exports: Path, monkeypatch, *, batch: int, parallel: bool, bulk: bool) -> dict[str, list]:
    monkeypatch.setattr(importer, "BATCH_ROWS", batch)
    monkeypatch.setattr(importer, "PARALLEL_BYTES", 0 if parallel else 1 << 62)
    monkeypatch.setattr(importer, "BULK_BYTES", 0 if bulk else 1 << 62)
    path = tmp_path / "streamed.db"
    reports, total = run_import(path, _files(exports))
    assert [r.added for r in reports] == [r[3] for r in dump(path)["imports"]]
    assert reports[1].added == 0 and reports[1].already_present == reports[1].rows_read  # the .csv copy of the .xls
    assert total == reports[0].added + reports[2].added
    return dump(path)


@pytest.mark.parametrize(("batch", "parallel", "bulk"), [
    (997, False, False),   # many batches, in this process, indexes kept
    (1500, True, True),    # the first file read by a child process, bulk (indexes rebuilt once)
    (50_000, True, False),  # child process, one batch per file, indexes kept
])
def test_every_path_stores_what_a_whole_file_import_stores(whole, exports, tmp_path, monkeypatch, batch, parallel, bulk):
    got = _streamed(tmp_path, exports, monkeypatch, batch=batch, parallel=parallel, bulk=bulk)
    for key in whole:
        assert got[key] == whole[key], key
    assert len(got["recommendations"]) == 6094 + 9047
    assert got["search women"] and got["search woman"]


def _export_rows(n: int, bad_at: int | None = None) -> bytes:
    """A constructed UPR Info export (fictional rows), MacRoman with CR line ends as Excel for Mac writes it."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r")
    w.writerow(["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session"])
    for i in range(1, n + 1):
        response = "Perhaps" if i == bad_at else "Accepted"
        w.writerow(["Haiti", "GRULAC", "", f"Ratify the Optional Protocol [fictional #{i}]", "France", "WEOG", "EU",
                    response, "4", "Torture and other CID treatment", "12"])
    return buf.getvalue().encode("mac_roman")


def _no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
        return False
    except ChildProcessError:
        return True


@pytest.mark.parametrize("parallel", [False, True])
def test_a_bad_row_in_the_last_batch_stores_nothing_and_names_the_row(tmp_path, monkeypatch, parallel):
    monkeypatch.setattr(importer, "BATCH_ROWS", 100)
    monkeypatch.setattr(importer, "PARALLEL_BYTES", 0 if parallel else 1 << 62)
    monkeypatch.setattr(importer, "BULK_BYTES", 0)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_export_rows(50))
    bad.write_bytes(_export_rows(1000, bad_at=990))
    db = tmp_path / "store.db"
    if parallel:  # a child reads only for a store that holds nothing yet
        with open_store(db):
            pass
    else:
        run_import(db, [good])
    before = dump(db)
    children = []
    real = importer._rows_in_child
    monkeypatch.setattr(importer, "_rows_in_child", lambda *a: children.append(1) or real(*a))
    with pytest.raises(InputError) as e:
        run_import(db, [bad])
    assert children == ([1] if parallel else [])
    assert e.value.problems and e.value.problems[0].row == 991  # the header is row 1
    assert "Perhaps" in str(e.value.problems[0].value)
    assert dump(db) == before  # rows of the batches written before the bad one are rolled back, indexes and trigger back
    assert _no_child_left()
    # into no store at all: none is left behind
    fresh = tmp_path / "fresh.db"
    with pytest.raises(InputError):
        run_import(fresh, [bad])
    assert not fresh.exists() and not Path(f"{fresh}-wal").exists()
    assert _no_child_left()


def test_a_failure_while_writing_stops_the_reading_child(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_ROWS", 100)
    monkeypatch.setattr(importer, "PARALLEL_BYTES", 0)
    calls = []
    real = importer._insert_rows

    def failing(conn, rows, **kw):
        calls.append(len(rows.recs))
        if len(calls) == 3:
            raise sqlite3.OperationalError("disk I/O error (constructed)")
        return real(conn, rows, **kw)

    monkeypatch.setattr(importer, "_insert_rows", failing)
    src = tmp_path / "big.csv"
    src.write_bytes(_export_rows(2000))
    db = tmp_path / "store.db"
    with open_store(db):
        pass
    with pytest.raises(sqlite3.OperationalError), open_store(db) as store:
        import_files(store, [src])
    assert calls == [100, 100, 100]
    assert _no_child_left()  # killed and reaped, not left reading
    with open_store(db) as store:
        assert store.recommendation_count() == 0


@pytest.mark.parametrize("parallel", [False, True])
def test_new_issues_of_an_export_reach_the_store_before_their_rows(tmp_path, monkeypatch, parallel):
    """Issues of UPR Info's current (Uwazi) export newer than data/issues.csv are added as the batches that name them come."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 10)
    monkeypatch.setattr(importer, "PARALLEL_BYTES", 0 if parallel else 1 << 62)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Title", "State under Review", "Recommending State", "Response", "Action Category", "Issues", "Session"])
    for i in range(1, 61):  # constructed, fictional rows
        issue = "Rights of the Child" if i < 45 else "Rights of the Child|A newer issue (constructed)"
        w.writerow([f"Adopt a fictional law [fictional #{i}]", "Haiti", "Chile", "Supported", "5 - Specific action", issue,
                    "44 - November 2023"])
    src = tmp_path / "upr-info-database.csv"
    src.write_text(buf.getvalue(), encoding="utf-8")
    reports, total = run_import(tmp_path / "store.db", [src])
    assert reports[0].format == "upr-info-uwazi" and total == 60
    assert reports[0].new_issues == ["A newer issue (constructed)"]
    conn = sqlite3.connect(tmp_path / "store.db")
    assert conn.execute("SELECT count(*) FROM recommendation_issues WHERE issue = 'A newer issue (constructed)'").fetchone()[0] == 16
    assert conn.execute("SELECT note FROM issues WHERE name = 'A newer issue (constructed)'").fetchone()[0].startswith("added by")
    assert _no_child_left()


DRIVER = """
import sys
from uprfollow import importer
importer.PARALLEL_BYTES = 0  # as for a file of 20 MB and more: a reading child, bulk, a rollback journal
importer.BULK_BYTES = 0
importer.BATCH_ROWS = 500
from uprfollow.cli import main
sys.argv[0] = "upr"
main()
"""


@pytest.mark.slow
def test_a_first_import_killed_at_any_moment_leaves_a_store_that_recovers(tmp_path):
    """SIGKILL during the first import into a new store (rows written straight to the file with a rollback journal):
    read commands say the write was interrupted, `upr db migrate` rolls it back, and the store is empty and sound."""
    import random
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "big.csv"
    src.write_bytes(_export_rows(6000))
    env = {**os.environ, "UPR_QUIET": "1"}
    start = time.perf_counter()
    ref = tmp_path / "ref.db"
    subprocess.run([sys.executable, "-c", DRIVER, "import", "--db", str(ref), str(src)], env=env, check=True)
    whole = time.perf_counter() - start
    rnd = random.Random(20261201)
    outcomes = []
    for i in range(8):
        db = tmp_path / f"t{i}.db"
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, "import", "--db", str(db), str(src)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.3, whole))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if not db.exists() or db.stat().st_size == 0:  # killed before SQLite wrote the new store's first page
            outcomes.append("no store")
            assert runner_invoke("import", "--db", str(db), str(src)).exit_code == 0
            continue
        r = runner_invoke("search", "--count", "--db", str(db))
        if r.exit_code != 0:  # a hot journal, which only a write open rolls back; or killed before its schema was made
            assert "upr db migrate" in r.stderr and ("interrupted" in r.stderr or "schema update" in r.stderr), r.output
            outcomes.append("interrupted" if "interrupted" in r.stderr else "no schema")
            r = runner_invoke("db", "migrate", "--db", str(db))
            assert r.exit_code == 0, r.output
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = conn.execute("SELECT count(*) FROM recommendations").fetchone()[0]
        conn.close()
        assert n in (0, 6000)
        outcomes.append("before" if n == 0 else "after")
        r = runner_invoke("import", "--db", str(db), str(src))  # and the import can be run again
        assert r.exit_code == 0, r.output
        assert runner_invoke("db", "check", "--db", str(db)).exit_code == 0
    assert "before" in outcomes, outcomes  # at least one kill landed mid-import


def runner_invoke(*args: str):
    from typer.testing import CliRunner

    from uprfollow.cli import app

    return CliRunner().invoke(app, list(args))
