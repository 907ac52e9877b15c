"""The import streams its rows in bounded batches inside one transaction: a bad row after many written batches
still leaves the store exactly as it was (constructed fictional rows; batches made tiny for the test)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uprfollow import importer
from uprfollow.cli import app
from uprfollow.sample import CSV_NAME, write_sample

runner = CliRunner()


def store_bytes(db: Path) -> str:
    h = hashlib.sha256(db.read_bytes())
    wal = Path(f"{db}-wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importer, "BATCH_ROWS", 7)


def sample(tmp_path: Path, bad_row: int | None = None) -> Path:
    path = write_sample(tmp_path / "in", size=60).folder / CSV_NAME
    if bad_row is not None:
        lines = path.read_bytes().split(b"\r")
        cells = lines[bad_row - 1].split(b",")
        cells[-1] = b"99"  # no such session
        lines[bad_row - 1] = b",".join(cells)
        path.write_bytes(b"\r".join(lines))
    return path


def test_a_bad_row_after_many_batches_leaves_the_store_as_it_was(small_batches, tmp_path):
    db = tmp_path / "upr.db"
    first = write_sample(tmp_path / "first", size=20, seed=9).folder / CSV_NAME
    assert runner.invoke(app, ["import", str(first), "--db", str(db)]).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = store_bytes(db)
    r = runner.invoke(app, ["import", str(sample(tmp_path, bad_row=55)), "--db", str(db)])
    assert r.exit_code == 1, r.output
    assert "row 55" in r.stderr and "session '99' is not a UPR session number" in r.stderr
    assert store_bytes(db) == before


def test_a_failed_first_import_leaves_no_store(small_batches, tmp_path):
    db = tmp_path / "new.db"
    r = runner.invoke(app, ["import", str(sample(tmp_path, bad_row=50)), "--db", str(db)])
    assert r.exit_code == 1
    assert not db.exists() and not Path(f"{db}-wal").exists()


def test_batches_and_bulk_indexes_give_the_same_store(small_batches, tmp_path, monkeypatch):
    path = sample(tmp_path)
    plain, bulk = tmp_path / "plain.db", tmp_path / "bulk.db"
    assert runner.invoke(app, ["import", str(path), "--db", str(plain)]).exit_code == 0
    monkeypatch.setattr(importer, "BULK_BYTES", 0)  # drop the secondary indexes and build them at the end
    assert runner.invoke(app, ["import", str(path), "--db", str(bulk)]).exit_code == 0

    def content(db: Path) -> tuple:
        conn = sqlite3.connect(db)
        try:
            schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
            rows = conn.execute("SELECT pk, id, sur, session, text, response FROM recommendations ORDER BY pk").fetchall()
            rs = conn.execute("SELECT * FROM recommending_states ORDER BY rec_pk, position").fetchall()
            hits = conn.execute("SELECT count(*) FROM recommendations_fts WHERE recommendations_fts MATCH 'fictional'").fetchone()
            return schema, rows, rs, hits
        finally:
            conn.close()

    assert content(plain) == content(bulk)
    assert len(content(plain)[1]) == 60
    assert runner.invoke(app, ["db", "check", "--db", str(bulk)]).exit_code == 0
