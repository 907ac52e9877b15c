"""`upr ingest` on the real HTI recommendations: four sheets filled the way stakeholders do, the index, history."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from followup_fixtures import CHOSEN, STAKEHOLDERS, TYPES, Scenario, build_scenario, fill_generated, invoke

from uprfollow.iri import statuses
from uprfollow.store import open_store


@pytest.fixture(scope="module")
def hti(export_store, tmp_path_factory) -> Scenario:
    return build_scenario(export_store, tmp_path_factory.mktemp("hti"))


def counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    out = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("stakeholders", "ingests", "assessments")}
    out["current"] = con.execute("SELECT count(*) FROM assessments WHERE current = 1").fetchone()[0]
    con.close()
    return out


def test_sheet_has_136_rows(hti):
    assert len(hti.ids) == 136
    assert len(set(hti.ids)) == 136


def test_every_file_ingested(hti):
    for r in hti.results:
        assert r.exit_code == 0, r.output
    reports = json.loads(hti.results[0].stdout) + json.loads(hti.results[1].stdout)
    assert [Path(r["file"]).name for r in reports] == ["1-state.xlsx", "2-ngo-fr.xlsx", "3-nhri.xlsx", "4-un.csv"]
    assert all(r["status"] == "written" and r["problems"] == [] and r["sur"] == "HTI" for r in reports)
    by_name = {Path(r["file"]).name: r for r in reports}
    state_rows = sum(1 for v in hti.expected().values() if STAKEHOLDERS[0] in v)
    assert by_name["1-state.xlsx"]["matched_by"] == {"id": state_rows}
    assert by_name["1-state.xlsx"]["blank"] == 136 - state_rows
    assert set(by_name["3-nhri.xlsx"]["matched_by"]) <= {"fuzzy", "fuzzy+rs", "text", "text+rs"}
    assert "fuzzy" in by_name["3-nhri.xlsx"]["matched_by"]
    assert by_name["3-nhri.xlsx"]["stakeholder_type"] == "nhri"
    assert by_name["3-nhri.xlsx"]["as_of"] == "2013-05-02"
    assert by_name["2-ngo-fr.xlsx"]["stakeholder_type"] == "ngo"
    assert by_name["4-un.csv"]["stakeholder"] == "UN Country Team"


def test_exactly_the_levels_written(hti):
    assert hti.stored() == hti.expected()


def test_stakeholders_and_provenance(hti):
    con = sqlite3.connect(hti.db)
    got = dict(con.execute("SELECT name, type FROM stakeholders"))
    assert got == dict(zip(STAKEHOLDERS, TYPES))
    row = con.execute(
        "SELECT a.level_raw, a.comment, a.sources, a.as_of, a.sheet, a.row, i.file_name, a.matched_by FROM assessments a "
        "JOIN recommendations r ON r.pk = a.rec_pk JOIN stakeholders s ON s.id = a.stakeholder_id JOIN ingests i ON i.id = a.ingest_id "
        "WHERE r.id = ? AND s.name = ?",
        (hti.ids[1], STAKEHOLDERS[1]),
    ).fetchone()
    assert row == ("Non mise en œuvre", "comment 1 on row 1", "source 1", "2013-04-20", "Recommandations", 9, "2-ngo-fr.xlsx", "id")
    con.close()


def test_index_computed_by_hand(hti):
    with open_store(hti.db, readonly=True) as store:
        items = {s.id: s for s in statuses(store, "HTI")}
    for k, (_levels, value, level, disputed) in CHOSEN.items():
        s = items[hti.ids[k]]
        assert (s.iri, s.level, s.disputed) == (value, level, disputed), k
    # the SQL view agrees
    con = sqlite3.connect(hti.db)
    view = {r[0]: r[1:] for r in con.execute(
        "SELECT r.id, v.iri, v.level, v.disputed FROM recommendation_levels v JOIN recommendations r ON r.pk = v.rec_pk")}
    for k, (_levels, value, level, disputed) in CHOSEN.items():
        if level == "not_assessed":
            assert hti.ids[k] not in view
        else:
            assert view[hti.ids[k]] == (value, level, int(disputed)), k


def test_reingest_changes_nothing(hti):
    before = counts(hti.db)
    r = invoke("ingest", *map(str, hti.files[:3]), "--db", str(hti.db), "--format", "json")
    assert r.exit_code == 0, r.output
    assert {x["status"] for x in json.loads(r.stdout)} == {"already ingested"}
    r = invoke("ingest", str(hti.files[3]), "--stakeholder", STAKEHOLDERS[3], "--type", "un", "--as-of", "2013-06-01",
               "--db", str(hti.db), "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["status"] == "already ingested"
    # nothing changed but the history, which records each re-ingest as it records a re-import
    assert counts(hti.db) == {**before, "ingests": before["ingests"] + 4}
    con = sqlite3.connect(hti.db)
    last = con.execute("SELECT added, replaced, unchanged FROM ingests ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    assert last[:2] == (0, 0) and last[2] > 0


def test_same_content_resaved_changes_nothing(hti, tmp_path):
    """The State's sheet saved again (other bytes, same answers) is recognised as unchanged."""
    from openpyxl import load_workbook

    copy = tmp_path / "resaved.xlsx"
    wb = load_workbook(hti.files[0])
    wb.properties.title = "saved again"
    wb.save(copy)
    before = counts(hti.db)
    r = invoke("ingest", str(copy), "--db", str(hti.db), "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["status"] == "unchanged"
    assert counts(hti.db) == {**before, "ingests": before["ingests"] + 1}  # only its line in the history


def test_newer_sheet_replaces_and_keeps_history(hti, tmp_path):
    """A later sheet from the State replaces its current assessments; the old ones stay, current = 0."""
    db = tmp_path / "h.db"
    src, dst = sqlite3.connect(hti.db), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    newer = tmp_path / "state-2014.xlsx"
    fill_generated(hti.sheet, newer, 0, name=STAKEHOLDERS[0], type_label="State", as_of="2014-01-10", deleted=set())
    from openpyxl import load_workbook

    wb = load_workbook(newer)
    ws = wb.active
    ws.cell(8 + 3, 7, "Fully implemented")   # was partially
    for r in range(8 + 20, ws.max_row + 1):  # the newer sheet only assesses the first 20
        for c in (7, 8, 9):
            ws.cell(r, c).value = None
    wb.save(newer)
    before = counts(db)
    r = invoke("ingest", str(newer), "--db", str(db), "--format", "json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)[0]
    state_before = sum(1 for k in range(136) if hti.expected().get(hti.ids[k], {}).get(STAKEHOLDERS[0]))
    assessed_now = sum(1 for k in range(20) if k != 9)
    assert rep["status"] == "written" and rep["replaced"] == state_before and rep["added"] == assessed_now
    after = counts(db)
    assert after["assessments"] == before["assessments"] + assessed_now
    assert after["current"] == before["current"] - state_before + assessed_now
    con = sqlite3.connect(db)
    hist = con.execute(
        "SELECT a.level, a.current, a.replaced_by, a.as_of FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk "
        "JOIN stakeholders s ON s.id = a.stakeholder_id WHERE r.id = ? AND s.name = ? ORDER BY a.id",
        (hti.ids[3], STAKEHOLDERS[0]),
    ).fetchall()
    assert hist == [("partially", 0, rep["ingest_id"], "2013-04-15"), ("fully", 1, None, "2014-01-10")]
    # a recommendation the newer sheet left out keeps only history for the State
    gone = con.execute(
        "SELECT count(*) FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk JOIN stakeholders s ON s.id = a.stakeholder_id "
        "WHERE r.id = ? AND s.name = ? AND a.current = 1", (hti.ids[30], STAKEHOLDERS[0])).fetchone()[0]
    assert gone == 0
    # the older sheet cannot come back over the newer one
    older = tmp_path / "state-2013-12.xlsx"
    fill_generated(hti.sheet, older, 0, name=STAKEHOLDERS[0], type_label="State", as_of="2013-12-01", deleted={5, 6})
    before = counts(db)
    r = invoke("ingest", str(older), "--db", str(db))
    assert r.exit_code == 1
    assert "state-2013-12.xlsx: this sheet (as of 2013-12-01) is older than Ministry of Justice of Haiti's assessments in the store" in r.output
    assert counts(db) == before
    con.close()


def test_dry_run_writes_nothing(hti, tmp_path):
    newer = tmp_path / "state-dry.xlsx"
    fill_generated(hti.sheet, newer, 0, name="Another ministry", type_label="State", as_of="2014-01-10", deleted=set())
    before = counts(hti.db)
    r = invoke("ingest", str(newer), "--dry-run", "--db", str(hti.db), "--format", "json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)[0]
    assert rep["status"] == "dry run" and rep["added"] > 100 and rep["ingest_id"] is None
    assert counts(hti.db) == before


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("fmt", ["ods", "xls"])
def test_ods_and_xls_copies(hti, tmp_path, fmt):
    """The State's sheet saved as .ods and .xls by LibreOffice reads the same."""
    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", fmt,
                    "--outdir", str(tmp_path), str(hti.files[0])], check=True, capture_output=True, timeout=120)
    copy = tmp_path / f"1-state.{fmt}"
    r = invoke("ingest", str(copy), "--stakeholder", f"{fmt} copy", "--dry-run", "--db", str(hti.db), "--format", "json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)[0]
    assert (rep["format"], rep["sur"], rep["as_of"], rep["stakeholder_type"]) == (fmt, "HTI", "2013-04-15", "state")
    state_rows = sum(1 for v in hti.expected().values() if STAKEHOLDERS[0] in v)
    assert rep["matched_by"] == {"id": state_rows} and rep["added"] == state_rows


def test_date_cell_and_options_override(hti, tmp_path):
    """A real date in the date cell is read; --stakeholder/--label/--as-of override the sheet."""
    import datetime

    from openpyxl import load_workbook

    f = tmp_path / "dated.xlsx"
    fill_generated(hti.sheet, f, 0, name="Sheet name", type_label="NGO", as_of="x", deleted=set())
    wb = load_workbook(f)
    wb.active["E5"] = datetime.date(2013, 7, 1)
    wb.save(f)
    r = invoke("ingest", str(f), "--dry-run", "--db", str(hti.db), "--format", "json")
    rep = json.loads(r.stdout)[0]
    assert (rep["stakeholder"], rep["stakeholder_type"], rep["as_of"]) == ("Sheet name", "ngo", "2013-07-01")
    r = invoke("ingest", str(f), "--dry-run", "--stakeholder", "Option name", "--type", "academic", "--label", "JS1",
               "--as-of", "2013-08-02", "--db", str(hti.db), "--format", "json")
    rep = json.loads(r.stdout)[0]
    assert (rep["stakeholder"], rep["stakeholder_type"], rep["label"], rep["as_of"]) == ("Option name", "academic", "JS1", "2013-08-02")
