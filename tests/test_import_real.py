"""Importing the real UPR Info exports: totals checked against figures computed from the raw files."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from pathlib import Path

from uprfollow.cli import app


def raw_rows(exports: Path) -> list[dict[str, str]]:
    """Every row of the CSV copies, read with the csv module only (independent of the importer)."""
    rows = []
    for name in ("1-5.csv", "6-9.csv", "10-13.csv", "voluntary.csv"):
        with open(exports / name, encoding="mac_roman", newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


def test_totals_match_the_raw_files(export_store, exports):
    raw = raw_rows(exports)
    recs = [r for r in raw if r["Response"] != "Voluntary Pledge"]
    pledges = [r for r in raw if r["Response"] == "Voluntary Pledge"]
    assert (len(recs), len(pledges)) == (23484, 947)
    db = sqlite3.connect(export_store)
    q = lambda sql: db.execute(sql).fetchall()  # noqa: E731
    assert q("SELECT count(*) FROM recommendations WHERE NOT is_pledge")[0][0] == len(recs)
    assert q("SELECT count(*) FROM recommendations WHERE is_pledge")[0][0] == len(pledges) == 947
    by_response = dict(q("SELECT response, count(*) FROM recommendations WHERE NOT is_pledge GROUP BY 1"))
    assert by_response == dict(Counter(r["Response"] for r in recs)) == {"Accepted": 17273, "Noted": 6211}
    by_action = dict(q("SELECT action, count(*) FROM recommendations WHERE NOT is_pledge GROUP BY 1"))
    assert by_action == {int(k): v for k, v in Counter(r["Action"] for r in recs).items()}
    assert [by_action[i] for i in range(1, 6)] == [502, 3506, 2224, 9235, 8017]
    assert q("SELECT count(DISTINCT sur) FROM recommendations WHERE NOT is_pledge")[0][0] == len({r["To"] for r in recs}) == 193
    assert q("SELECT count(*), min(session), max(session) FROM recommendations WHERE sur = 'HTI' AND NOT is_pledge") == [(136, 12, 12)]
    issues = Counter(i for r in raw for i in r["Issue"].split(","))
    stored = dict(q("SELECT issue, count(*) FROM recommendation_issues GROUP BY 1"))
    assert stored == dict(issues)
    assert q("SELECT count(*) FROM recommending_states WHERE iso3 IS NULL")[0][0] == 9  # '&#40;Unknown&#41;'
    assert q("SELECT DISTINCT name_raw FROM recommending_states WHERE iso3 IS NULL") == [("(Unknown)",)]


def test_csv_after_xls_adds_nothing_and_says_so(export_store_copy, exports, runner):
    before = sqlite3.connect(export_store_copy).execute("SELECT count(*) FROM recommendations").fetchone()[0]
    result = runner.invoke(app, ["import", "--db", str(export_store_copy), *map(str, sorted(exports.glob("*.csv")))])
    assert result.exit_code == 0, result.output
    assert "total: 0 new, 24,431 already present" in result.output
    db = sqlite3.connect(export_store_copy)
    assert db.execute("SELECT count(*) FROM recommendations").fetchone()[0] == before == 24431
    batches = db.execute("SELECT file_name, format, added, already_present FROM imports ORDER BY id DESC LIMIT 4").fetchall()
    assert {b[0] for b in batches} == {"1-5.csv", "6-9.csv", "10-13.csv", "voluntary.csv"}
    assert all(b[1] == "upr-info-csv" and b[2] == 0 for b in batches)


def test_ids_are_the_same_on_any_machine(exports, tmp_path):
    """The .xls and the .csv of one export give the same IDs, in two separate stores."""
    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    ids = []
    for ext in ("xls", "csv"):
        with open_store(tmp_path / f"{ext}.db") as store:
            import_files(store, [exports / f"1-5.{ext}"])
            ids.append([r[0] for r in store.conn.execute("SELECT id FROM recommendations ORDER BY source_row")])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 6094


def test_dry_run_writes_nothing(exports, runner, db_path):
    result = runner.invoke(app, ["import", "--dry-run", str(exports / "voluntary.csv")])
    assert result.exit_code == 0, result.output
    assert "would add 947" in result.output
    assert not db_path.exists()  # a dry run makes no store


def test_json_output(exports, runner):
    import json

    result = runner.invoke(app, ["import", "--format", "json", str(exports / "voluntary.xls")])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data[0]["added"] == 947 and data[0]["format"] == "upr-info-xls" and len(data[0]["sha256"]) == 64
