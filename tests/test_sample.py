"""`upr sample` (fictional inputs), and importing each kind of file it writes, plus a UHRI export, through `upr import`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from fixtures_uhri import SAMPLE_ROWS, make_uhri_xlsx

from uprfollow.cli import app
from uprfollow.sample import CSV_NAME, LIST_NAME, MARKER, MATRIX_NAME, XLSX_NAME, synthetic_export_csv


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    from typer.testing import CliRunner

    folder = tmp_path_factory.mktemp("sample") / "input"
    result = CliRunner().invoke(app, ["sample", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def db_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_sample_files_are_labelled_fictional(sample_dir):
    names = sorted(p.name for p in sample_dir.iterdir())
    assert names == sorted(["README.txt", CSV_NAME, XLSX_NAME, MATRIX_NAME, LIST_NAME])
    assert "FICTIONAL SAMPLE DATA" in (sample_dir / "README.txt").read_text()
    raw = (sample_dir / CSV_NAME).read_bytes()
    assert b"\r" in raw and b"\n" not in raw  # Excel for Mac line endings
    text = raw.decode("mac_roman")
    assert text.startswith("To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session\r")
    assert "’" in text  # a typographic apostrophe, encoded in MacRoman
    rows = text.split("\r")[1:-1]
    assert rows and all(MARKER in r for r in rows)


def test_the_same_seed_writes_the_same_files(tmp_path, runner):
    digests = []
    for name in ("a", "b"):
        assert runner.invoke(app, ["sample", str(tmp_path / name), "--size", "50", "--seed", "3"]).exit_code == 0
        digests.append(hashlib.sha256((tmp_path / name / CSV_NAME).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert runner.invoke(app, ["sample", str(tmp_path / "c"), "--size", "50", "--seed", "4"]).exit_code == 0
    assert hashlib.sha256((tmp_path / "c" / CSV_NAME).read_bytes()).hexdigest() != digests[0]


def test_every_sample_file_imports(sample_dir, runner, db_path):
    files = [sample_dir / n for n in (CSV_NAME, XLSX_NAME, MATRIX_NAME, LIST_NAME)]
    result = runner.invoke(app, ["import", "--format", "json", *map(str, files)])
    assert result.exit_code == 0, result.output
    reports = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
    assert {n: (r["format"], r["added"], r["already_present"]) for n, r in reports.items()} == {
        CSV_NAME: ("upr-info-csv", 400, 0),
        XLSX_NAME: ("upr-info-xls", 0, 400),  # the same export: same IDs
        MATRIX_NAME: ("ohchr-matrix", 40, 0),
        LIST_NAME: ("table", 21, 0),
    }
    # the demo State has enough recommendations for a digest
    assert db_rows(db_path, "SELECT count(*), min(session), max(session) FROM recommendations WHERE sur = 'HTI'") == [(80, 12, 12)]
    assert db_rows(db_path, "SELECT count(*) FROM recommending_states WHERE iso3 IS NULL") == [(0,)]
    assert db_rows(db_path, "SELECT count(*) FROM recommendations WHERE text NOT LIKE '%[fictional]'") == [(0,)]
    # the OHCHR matrix: State and session from the page header, paragraph numbers, positions, themes, source
    matrix = db_rows(db_path, "SELECT sur, session, cycle, paragraph, response, response_raw, document FROM recommendations "
                              "WHERE sur = 'SEN' ORDER BY pk")
    assert len(matrix) == 50 and len({m[3] for m in matrix}) == 40  # 40 paragraphs, one record per State (issue 11: pairs)
    assert {m[:3] for m in matrix} == {("SEN", 31, 3)}
    assert all(m[3].startswith("28.") for m in matrix)
    assert {m[5] for m in matrix} <= {"Supported", "Noted", "Supported/Noted"}
    assert all(m[6].startswith("A/HRC/40/5/Add.1 - Para.") for m in matrix)
    assert db_rows(db_path, "SELECT count(DISTINCT r.paragraph) FROM recommendation_themes t JOIN recommendations r ON r.pk = t.rec_pk "
                            "WHERE r.sur = 'SEN' AND t.theme LIKE 'S16 %'") == [(40,)]


def test_hand_made_list_with_french_headers(sample_dir, runner, db_path):
    result = runner.invoke(app, ["import", str(sample_dir / LIST_NAME)])
    assert result.exit_code == 0, result.output
    assert "liste-recommandations-sample.xlsx: table, 21 rows: 21 new, 0 already present" in result.output
    rows = db_rows(db_path, "SELECT sur, session, year, paragraph, response, response_raw, action, source_row FROM recommendations ORDER BY pk")
    assert len(rows) == 21
    assert {(r[0], r[1], r[2]) for r in rows} == {("CIV", 33, 2019)}
    assert [r[3] for r in rows] == [f"139.{i}" for i in range(1, 22)]
    assert {r[4] for r in rows} <= {"Accepted", "Noted"}
    assert {r[5] for r in rows} <= {"Acceptée", "Soutenue", "Notée", "Pris note"}
    assert all(1 <= r[6] <= 5 for r in rows)
    assert rows[0][7] == 5  # two title rows, a blank row, the header, then the data
    assert db_rows(db_path, "SELECT count(*) FROM recommending_states WHERE iso3 IS NULL") == [(0,)]
    assert db_rows(db_path, "SELECT count(DISTINCT rec_pk) FROM recommendation_issues") == [(21,)]


def test_uhri_export_imports(tmp_path, runner, db_path):
    rows = [{**r, "sur": "Haiti"} for r in SAMPLE_ROWS]
    path = make_uhri_xlsx(tmp_path / "uhri.xlsx", rows, title_rows=["Universal Human Rights Index - search results"])
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "uhri.xlsx: uhri, 3 rows: 3 new, 0 already present" in result.output
    got = db_rows(db_path, "SELECT sur, session, cycle, paragraph, response, response_raw, document, text FROM recommendations ORDER BY pk")
    assert [g[:7] for g in got] == [
        ("HTI", 36, 3, "115.12", "Accepted", "Supported", "A/HRC/99/1"),
        ("HTI", 36, 3, "115.40", "Noted", "Noted", "A/HRC/99/1"),
        ("HTI", 36, 3, "115.40", "Noted", "Noted", "A/HRC/99/1"),  # made by two States: one record each (issue 11)
        ("HTI", 36, 3, "115.77", "Noted", "Supported/Noted", "A/HRC/99/1"),
    ]
    assert got[0][7] == "Ratify the Optional Protocol to the Convention against Torture"
    rs = db_rows(db_path, "SELECT r.paragraph, s.iso3 FROM recommending_states s JOIN recommendations r ON r.pk = s.rec_pk "
                          "ORDER BY r.pk, s.position")
    assert rs == [("115.12", "NOR"), ("115.40", "BOL"), ("115.40", "GBR"), ("115.77", "TTO")]
    again = runner.invoke(app, ["import", str(path)])
    assert "0 new, 3 already present" in again.output


def test_synthetic_export_is_fast_to_write_and_imports(tmp_path, runner, db_path):
    path = synthetic_export_csv(tmp_path / "big.csv", 2000, seed=1)
    assert path.read_bytes().count(b"\r") == 2001
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2,000 rows: 2,000 new, 0 already present" in result.output
    assert db_rows(db_path, "SELECT count(DISTINCT sur) > 100, min(action), max(action) FROM recommendations") == [(1, 1, 5)]


def test_filled_sample_sheets_ingest_with_disputes(tmp_path, runner):
    """`upr sample --fill-sheet` fills four fictional stakeholders' copies that `upr ingest` takes whole."""
    import sqlite3

    from uprfollow.cli import app

    db = tmp_path / "demo.db"
    assert runner.invoke(app, ["sample", str(tmp_path / "in")]).exit_code == 0
    files = [str(p) for p in (tmp_path / "in").glob("*.csv")]
    assert runner.invoke(app, ["import", "--db", str(db), *files]).exit_code == 0
    sheet = tmp_path / "HTI.xlsx"
    assert runner.invoke(app, ["sheet", "HTI", "--db", str(db), "-o", str(sheet)]).exit_code == 0
    result = runner.invoke(app, ["sample", str(tmp_path / "filled"), "--fill-sheet", str(sheet)])
    assert result.exit_code == 0, result.output
    filled = sorted((tmp_path / "filled").glob("*.xlsx"))
    assert len(filled) == 4
    result = runner.invoke(app, ["ingest", "--db", str(db), *map(str, filled)])
    assert result.exit_code == 0, result.output
    con = sqlite3.connect(db)
    types = {t for (t,) in con.execute("SELECT type FROM stakeholders")}
    assert types == {"state", "ngo", "nhri", "un"}
    assert con.execute("SELECT count(*) FROM recommendation_levels WHERE disputed").fetchone()[0] > 0
    assert all("[fictional]" in c for (c,) in con.execute("SELECT comment FROM assessments"))
