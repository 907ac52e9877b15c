"""The store as the one gateway: read-only opens never write, out-of-date and newer stores, stores that cannot be used.

Every store here is constructed by the test (fictional recommendations through `synthetic_store`
or the fictional sample export); nothing comes from real data.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from mia_fixtures import synthetic_store
from typer.testing import CliRunner

from uprfollow.cli import app
from uprfollow.errors import StoreError
from uprfollow.migrations import MIGRATIONS
from uprfollow.store import open_store

runner = CliRunner()


def upr(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def store_bytes(db: Path) -> str:
    """The store's bytes: the file and its write-ahead log (an empty or absent log hold nothing)."""
    h = hashlib.sha256(db.read_bytes())
    wal = Path(f"{db}-wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


def checkpointed(db: Path) -> Path:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """Three States, twelve fictional recommendations each, assessed by three stakeholders."""
    return checkpointed(synthetic_store(tmp_path_factory.mktemp("gateway") / "small.db", ["HTI", "FRA", "BRA"]))


@pytest.fixture
def store(small, tmp_path) -> Path:
    db = tmp_path / "store.db"
    shutil.copyfile(small, db)
    return db


@pytest.fixture
def sample_csv(tmp_path) -> Path:
    from uprfollow.sample import CSV_NAME, write_sample

    return write_sample(tmp_path / "sample", size=40).folder / CSV_NAME


def tamper(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


READ_COMMANDS = [
    ("search", "--count"),
    ("stats", "--by", "sur"),
    ("status", "HTI"),
    ("db", "history"),
    ("sheet", "HTI", "-o", "{tmp}/sheet.xlsx"),
    ("mia", "HTI", "-o", "{tmp}/mia.html", "--format", "html"),
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=[a[0] if a[0] != "db" else "history" for a in READ_COMMANDS])
def test_read_commands_never_write_a_store_with_stale_vocabularies(args, store, tmp_path):
    tamper(store, "UPDATE _meta SET value = 'from an older upr' WHERE key = 'vocab'")
    before = store_bytes(store)
    r = upr(*(a.format(tmp=tmp_path) for a in args), "--db", store)
    assert r.exit_code == 1, r.output
    assert "older vocabularies" in r.stderr and "upr db migrate" in r.stderr
    assert "Traceback" not in r.output
    assert store_bytes(store) == before


def test_read_commands_refuse_pending_migrations_and_db_migrate_applies_them(tmp_path):
    # a store written by the first release (tests/fixtures/make_store_v1.py): every later migration is pending
    store = tmp_path / "v1.db"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "store-v1.db", store)
    conn = sqlite3.connect(store)
    done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    n = conn.execute("SELECT count(*) FROM recommendations WHERE NOT is_pledge").fetchone()[0]
    conn.close()
    pending = [name for name, _ in MIGRATIONS if name not in done]
    last = pending[-1]
    before = store_bytes(store)
    r = upr("search", "--count", "--db", store)
    assert r.exit_code == 1
    assert f"needs {len(pending)} schema update(s) (" in r.stderr and last in r.stderr and "upr db migrate" in r.stderr
    assert store_bytes(store) == before
    r = upr("db", "migrate", "--db", store)
    assert r.exit_code == 0, r.output
    assert f"applied {last}" in r.stderr or last in r.stderr
    r = upr("search", "--count", "--db", store)
    assert r.exit_code == 0, r.output
    assert int(r.stdout.strip()) == n
    assert "no schema update needed" in upr("db", "migrate", "--db", store).stderr


def test_read_only_open_is_mode_ro(store):
    with open_store(store, readonly=True) as s:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            s.conn.execute("INSERT INTO issues (name) VALUES ('x')")


@pytest.mark.parametrize("sql", [
    "INSERT INTO _migrations (name, applied_at) VALUES ('m999_from_the_future', datetime('now'))",
    f"PRAGMA user_version = {len(MIGRATIONS) + 5}",
], ids=["unknown-migration", "user-version-ahead"])
def test_a_store_from_a_newer_upr_is_not_written(sql, store, sample_csv):
    tamper(store, sql)
    before = store_bytes(store)
    r = upr("import", sample_csv, "--db", store)
    assert r.exit_code == 1, r.output
    assert "was written by a newer upr" in r.stderr and "this upr will not write to it" in r.stderr
    assert store_bytes(store) == before


def test_dry_runs_create_no_store(tmp_path, sample_csv):
    db = tmp_path / "new.db"
    r = upr("import", sample_csv, "--dry-run", "--db", db)
    assert r.exit_code == 0, r.output
    assert "would add 40" in r.stderr
    assert not db.exists()
    r = upr("ingest", sample_csv, "--dry-run", "--stakeholder", "X", "--type", "ngo", "--db", db)
    assert r.exit_code == 1
    assert f"no store at {db}" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]


def test_dry_run_against_an_existing_store_reads_only(store, sample_csv):
    before = store_bytes(store)
    r = upr("import", sample_csv, "--dry-run", "--db", store)
    assert r.exit_code == 0, r.output
    assert "would add 40; the store holds 36" in r.stderr
    assert store_bytes(store) == before


def test_db_in_a_missing_folder_is_an_error(tmp_path, sample_csv):
    db = tmp_path / "no" / "such" / "folder" / "upr.db"
    r = upr("import", sample_csv, "--db", db)
    assert r.exit_code == 1
    assert f"the folder {db.parent} does not exist" in r.stderr
    assert not (tmp_path / "no").exists()


def test_stats_on_an_empty_file_leaves_it_empty(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    for args in (("stats", "--by", "sur"), ("search", "--count"), ("db", "history")):
        r = upr(*args, "--db", db)
        assert r.exit_code == 1, (args, r.output)
        assert f"{db} is an empty file, not a upr store" in r.stderr
    assert db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_damaged_pages_give_one_clean_error_everywhere(store, tmp_path, sample_csv):
    data = bytearray(store.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema's page, after the file header
    store.write_bytes(data)
    for args in [*READ_COMMANDS, ("import", str(sample_csv)), ("ingest", str(sample_csv), "--stakeholder", "X", "--type", "ngo")]:
        r = upr(*(a.format(tmp=tmp_path) for a in args), "--db", store)
        assert r.exit_code == 1, (args, r.output)
        assert f"Error: the store {store} cannot be used: " in r.stderr, (args, r.stderr)
        assert "Hint: run `upr db check`" in r.stderr
        assert "Traceback" not in r.output
    assert store.read_bytes() == bytes(data)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only files: run as a normal user to test this")
def test_an_unwritable_store_is_a_clean_error_and_leaves_no_wal(store, sample_csv):
    store.chmod(0o444)
    store.parent.chmod(0o555)
    try:
        r = upr("import", sample_csv, "--db", store)
        assert r.exit_code == 1
        assert "cannot be written" in r.stderr and "Traceback" not in r.output
        r = upr("search", "--count", "--db", store)
        assert r.exit_code == 0, r.output
    finally:
        store.parent.chmod(0o755)
        store.chmod(0o644)
    assert not Path(f"{store}-wal").exists() and not Path(f"{store}-shm").exists()


def test_an_unwritable_folder_is_refused_before_sqlite_opens(store, monkeypatch):
    """The check the CLI relies on, testable as root too: a store whose folder cannot be written is refused, nothing made."""
    real_access = os.access

    def access(path, mode, **kw):
        if Path(path) == store.parent and mode & os.W_OK:
            return False
        return real_access(path, mode, **kw)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(StoreError, match="cannot be written"):
        open_store(store)
    assert not Path(f"{store}-wal").exists() and not Path(f"{store}-shm").exists()
    with open_store(store, readonly=True) as s:  # read-only folder: opened immutable, no -shm needed
        assert s.recommendation_count() == 36
    assert not Path(f"{store}-wal").exists() and not Path(f"{store}-shm").exists()


@pytest.mark.parametrize("args", READ_COMMANDS, ids=[a[0] if a[0] != "db" else "history" for a in READ_COMMANDS])
def test_read_commands_leave_no_wal_files_beside_a_store_that_had_none(args, store, tmp_path):
    wal, shm = Path(f"{store}-wal"), Path(f"{store}-shm")
    assert not wal.exists() and not shm.exists()
    before = store_bytes(store)
    r = upr(*(a.format(tmp=tmp_path) for a in args), "--db", store)
    assert r.exit_code == 0, r.output
    assert not wal.exists() and not shm.exists()
    assert store_bytes(store) == before


def test_read_commands_keep_the_wal_files_another_connection_uses(store):
    other = sqlite3.connect(store, isolation_level=None)  # another process's connection, as SQLite sees it
    try:
        other.execute("BEGIN")
        n = other.execute("SELECT count(*) FROM recommendations").fetchone()[0]  # a read transaction: the log is in use
        r = upr("search", "--count", "--db", store)
        assert r.exit_code == 0 and int(r.stdout) == n
        assert Path(f"{store}-wal").exists() and Path(f"{store}-shm").exists()
        assert other.execute("SELECT count(*) FROM recommendations").fetchone()[0] == n
        other.execute("COMMIT")
    finally:
        other.close()
    assert not Path(f"{store}-wal").exists()  # the last connection to close tidies, as SQLite does


def test_a_refused_import_leaves_an_out_of_date_store_as_it_was(tmp_path, sample_csv):
    """Opening a store of an older upr for writing migrates it: a file with a bad row is checked whole before that."""
    store = tmp_path / "v1.db"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "store-v1.db", store)
    before = store_bytes(store)
    bad = tmp_path / "bad.csv"
    lines = sample_csv.read_bytes().splitlines(keepends=True)
    bad.write_bytes(b"".join(lines[:-1]) + lines[-1].replace(b"Accepted", b"Perhaps").replace(b"Noted", b"Perhaps"))
    r = upr("import", bad, "--db", store)
    assert r.exit_code != 0 and "Perhaps" in r.output, r.output
    assert store_bytes(store) == before
    r = upr("import", sample_csv, "--db", store)  # the good file: migrated, then imported
    assert r.exit_code == 0, r.output
    assert "needs" not in upr("search", "--count", "--db", store).stderr
