"""Migrations keep data: a store made at the first schema version upgrades itself and loses nothing."""

from __future__ import annotations

import re
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from uprfollow.cli import app
from uprfollow.migrations import MIGRATIONS
from uprfollow.store import open_store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V1 = FIXTURES / "store-v1.db"
# The tables of the first schema that hold user data (vocabulary tables are refreshed from data/ on open)
DATA_TABLES = ("imports", "recommendations", "recommending_states", "recommendation_issues", "recommendation_themes")


@pytest.fixture
def v1_copy(tmp_path) -> Path:
    dest = tmp_path / "old.db"
    shutil.copyfile(V1, dest)
    return dest


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def snapshot(db: Path, tables=DATA_TABLES, cols: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        out = {}
        for t in tables:
            names = (cols or {}).get(t) or columns(conn, t)
            out[t] = sorted(tuple(r) for r in conn.execute(f"SELECT {', '.join(names)} FROM {t}"))
        return out
    finally:
        conn.close()


def test_fixture_is_at_the_first_version():
    conn = sqlite3.connect(f"file:{V1}?mode=ro", uri=True)
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations")] == [MIGRATIONS[0][0]]
    assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 8
    assert "assessments" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()


def test_opening_upgrades_and_keeps_every_row(v1_copy, runner):
    conn = sqlite3.connect(v1_copy)
    v1_cols = {t: columns(conn, t) for t in DATA_TABLES}
    fts_before = sorted(r[0] for r in conn.execute("SELECT rowid FROM recommendations_fts WHERE recommendations_fts MATCH 'adopt OR justice'"))
    conn.close()
    before = snapshot(v1_copy, cols=v1_cols)
    assert sum(len(v) for v in before.values()) > 20

    with open_store(v1_copy) as store:
        assert store.schema_version() == len(MIGRATIONS)
        applied = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY id")]
        assert applied == [name for name, _ in MIGRATIONS]

    assert snapshot(v1_copy, cols=v1_cols) == before
    conn = sqlite3.connect(v1_copy)
    fts_after = sorted(r[0] for r in conn.execute("SELECT rowid FROM recommendations_fts WHERE recommendations_fts MATCH 'adopt OR justice'"))
    conn.close()
    assert fts_after == fts_before and fts_after
    result = runner.invoke(app, ["db", "check", "--db", str(v1_copy)])
    assert result.exit_code == 0, result.output


def test_upgraded_store_takes_new_work(v1_copy, tmp_path, runner):
    from hostile.make_corpus import filled_sheet_csv, upr_info_csv

    src = upr_info_csv(tmp_path / "more.csv", 20, seed=8, tag="new", sur="Haiti")
    assert runner.invoke(app, ["import", str(src), "--db", str(v1_copy)]).exit_code == 0
    # re-importing the rows already in the old store adds nothing: IDs survived the upgrade
    conn = sqlite3.connect(v1_copy)
    ids = [r[0] for r in conn.execute("SELECT id FROM recommendations WHERE sur = 'HTI' ORDER BY pk")]
    conn.close()
    sheet = filled_sheet_csv(tmp_path / "sheet.csv", ids, seed=3)
    result = runner.invoke(app, ["ingest", str(sheet), "--db", str(v1_copy), "--stakeholder", "Test NGO", "--type", "ngo"])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(v1_copy)
    assert conn.execute("SELECT count(*) FROM assessments").fetchone()[0] == len(ids) == 24
    conn.close()


def normalised_schema(db: Path) -> dict[tuple[str, str], str]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
        schema = {(t, n): re.sub(r"\s+", " ", sql or "").strip() for t, n, sql in rows}
        for (t, n) in list(schema):
            if t == "table":
                schema[("columns", n)] = repr([tuple(r) for r in conn.execute(f"PRAGMA table_xinfo({n})")])
                schema[("foreign_keys", n)] = repr([tuple(r) for r in conn.execute(f"PRAGMA foreign_key_list({n})")])
        return schema
    finally:
        conn.close()


def test_migrated_schema_equals_a_fresh_store(v1_copy, tmp_path):
    open_store(v1_copy).close()
    fresh = tmp_path / "fresh.db"
    open_store(fresh).close()
    migrated, new = normalised_schema(v1_copy), normalised_schema(fresh)
    assert set(migrated) == set(new), f"only migrated: {set(migrated) - set(new)}; only fresh: {set(new) - set(migrated)}"
    for key in new:
        assert migrated[key] == new[key], key


def test_fixture_script_reproduces_the_fixture(tmp_path):
    """The committed fixture is what make_store_v1.py makes (same schema, same rows)."""
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_store_v1
    finally:
        sys.path.remove(str(FIXTURES))
    again = make_store_v1.make(tmp_path / "again.db")
    assert snapshot(again) == snapshot(V1)
    assert normalised_schema(again) == normalised_schema(V1)
