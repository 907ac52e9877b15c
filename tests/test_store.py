"""The store: one way to open it, migrations recorded, pragmas, clear errors."""

from __future__ import annotations

import sqlite3

import pytest

from uprfollow.errors import StoreError
from uprfollow.migrations import MIGRATIONS
from uprfollow.store import open_store


def test_open_creates_and_migrates(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "s.db"
    monkeypatch.setenv("UPR_DB", str(path))  # the default location gets its folder made; an explicit --db does not
    with open_store() as store:
        assert store.schema_version() == len(MIGRATIONS)
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("SELECT count(*) FROM countries").fetchone()[0] == 195
        assert store.conn.execute("SELECT regional_group FROM countries WHERE iso3 = 'VAT'").fetchone()[0] == "Observer"
        assert store.conn.execute("SELECT count(*) FROM issues").fetchone()[0] == 54
    # opening again applies nothing new
    with open_store(path) as store:
        names = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY id")]
        assert names == [name for name, _ in MIGRATIONS]


def test_write_rolls_back_whole(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        with pytest.raises(RuntimeError), store.write() as conn:
            conn.execute("INSERT INTO recommendations (id, sur, text) VALUES ('a', 'HTI', 't')")
            raise RuntimeError("boom")
        assert store.conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 0


def test_not_a_store(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello")
    with pytest.raises(StoreError, match="not a upr store"):
        open_store(bad)


def test_folder_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        open_store(tmp_path)


def test_default_path_follows_env(tmp_path, monkeypatch):
    from uprfollow.store import default_db_path

    monkeypatch.delenv("UPR_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "uprfollow" / "upr.db"
    monkeypatch.setenv("UPR_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"


def test_fts_is_kept_in_sync(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        with store.write() as conn:
            conn.execute("INSERT INTO recommendations (id, sur, text) VALUES ('a', 'HTI', 'Abolish the death penalty')")
        hits = store.conn.execute("SELECT rowid FROM recommendations_fts WHERE recommendations_fts MATCH 'abolished'").fetchall()
        assert len(hits) == 1  # porter stemming
        with store.write() as conn:
            conn.execute("DELETE FROM recommendations WHERE id = 'a'")
        assert store.conn.execute("SELECT count(*) FROM recommendations_fts WHERE recommendations_fts MATCH 'death'").fetchone()[0] == 0
    sqlite3.connect(tmp_path / "s.db").execute("PRAGMA integrity_check").fetchone()


def test_vocab_command(runner):
    import json

    from uprfollow.cli import app

    result = runner.invoke(app, ["vocab", "countries", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == 195
    assert {r["iso3"]: r["regional_group"] for r in rows}["PSE"] == "Observer"
    result = runner.invoke(app, ["vocab", "actions", "--format", "json"])
    assert [r["level"] for r in json.loads(result.stdout)] == [1, 2, 3, 4, 5]
    assert runner.invoke(app, ["vocab", "nonsense"]).exit_code == 2
