"""One record per recommendation (issue 11): a second source of a review links to the records it describes.

Two kinds of input:
* the real pair in ../shared/data (UPR Info's export of sessions 14-17 and OHCHR's matrix of China's
  2013 review), skipped with a reason when absent;
* a constructed review (fictional texts, real State names so they normalise) written by the tests:
  a UPR Info CSV and a UHRI export of Haiti's session 12.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from conftest import SHARED
from fixtures_uhri import make_uhri_xlsx

from uprfollow import linking
from uprfollow.cli import app
from uprfollow.importer import import_files
from uprfollow.store import open_store

UPR_1417 = SHARED / "data" / "upr-info-export-2015-sessions-14-17" / "14-17.csv"
MATRIX_2013 = SHARED / "data" / "ohchr-matrix" / "Matrix_recommendations_2013.docx"

HEADER = ["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session"]
# constructed: UPR Info's rows of a fictional Haiti session 12 (one row per recommendation and State)
UPR_ROWS = [
    ["Haiti", "GRULAC", "", "Ratify the Optional Protocol to the Convention against Torture", "Norway", "WEOG", "", "Accepted", "5",
     "Torture and other CID treatment", "12"],
    ["Haiti", "GRULAC", "", "Establish a moratorium on executions", "Bolivia", "GRULAC", "", "Noted", "5", "Death penalty", "12"],
    ["Haiti", "GRULAC", "", "Abolish the death penalty in law", "Chile", "GRULAC", "", "Noted", "5", "Death penalty", "12"],
    ["Haiti", "GRULAC", "", "Adopt a law on violence against women", "Spain", "WEOG", "", "Accepted", "5", "Women's rights", "12"],
    ["Haiti", "GRULAC", "", "Strengthen the national human rights institution", "Ghana", "Africa", "", "Noted", "4", "NHRI", "12"],
]
# constructed: OHCHR's (UHRI) paragraphs of the same review; 115.40 is made by two States, one text each
UHRI_ROWS = [
    {"paragraph": "115.12", "text": "Ratify the Optional Protocol to the Convention against Torture (Norway);", "sur": "Haiti",
     "rs": ["Norway"], "position": "Supported", "session": 12, "themes": ["A12 Acceptance of international norms"], "document": "A/HRC/19/6"},
    {"paragraph": "115.40", "text": "Establish a moratorium on executions (Bolivia); Abolish the death penalty in law (Chile);", "sur": "Haiti",
     "rs": ["Bolivia", "Chile"], "position": "Noted", "session": 12, "themes": ["D23 Death penalty"], "document": "A/HRC/19/6"},
    {"paragraph": "115.41", "text": "Adopt a comprehensive law on domestic violence and marital rape (Spain);", "sur": "Haiti",
     "rs": ["Spain"], "position": "Supported", "session": 12, "themes": ["F13 Violence against women"], "document": "A/HRC/19/6"},
    {"paragraph": "115.50", "text": "Strengthen the national human rights institution (Ghana);", "sur": "Haiti",
     "rs": ["Ghana"], "position": "Supported", "session": 12, "themes": ["A51 National Human Rights Institution"], "document": "A/HRC/19/6"},
]


def upr_csv(path: Path, rows: list[list[str]] = UPR_ROWS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    return upr_csv(tmp_path / "upr.csv"), make_uhri_xlsx(tmp_path / "uhri.xlsx", UHRI_ROWS)


def records(db: Path) -> list[tuple]:
    """Every record as the user sees it (no pk, no ID: those depend on the order of the imports)."""
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(
            "SELECT r.sur, r.session, r.paragraph, r.text, r.response, r.action, r.document, "
            "(SELECT group_concat(coalesce(iso3, name_raw)) FROM recommending_states WHERE rec_pk = r.pk), "
            "(SELECT group_concat(issue) FROM (SELECT issue FROM recommendation_issues WHERE rec_pk = r.pk ORDER BY issue)), "
            "(SELECT group_concat(theme) FROM (SELECT theme FROM recommendation_themes WHERE rec_pk = r.pk ORDER BY theme)) "
            "FROM recommendations r"
        ).fetchall(), key=repr)
    finally:
        conn.close()


def count(runner, db: Path, *args: str) -> int:
    r = runner.invoke(app, ["search", "--db", str(db), "--count", *args])
    assert r.exit_code == 0, r.output
    return int(r.stdout)


# --------------------------------------------------------------------------- constructed review


def test_split_pairs_assigns_one_text_per_state():
    rs = [("BOL", "Bolivia"), ("CHL", "Chile")]
    assert linking.split_pairs("A; B", rs) == [("A", [("BOL", "Bolivia")]), ("B", [("CHL", "Chile")])]
    assert linking.split_pairs("A, and B", rs) == [("A, and B", [("BOL", "Bolivia")]), ("A, and B", [("CHL", "Chile")])]
    assert linking.split_pairs("A", rs[:1]) == [("A", rs[:1])]


@pytest.mark.parametrize("order", ["upr-first", "ohchr-first"])
def test_linking_either_order(files, tmp_path, runner, order):
    upr, uhri = files
    db = tmp_path / "s.db"
    first, second = (upr, uhri) if order == "upr-first" else (uhri, upr)
    assert runner.invoke(app, ["import", "--db", str(db), str(first)]).exit_code == 0
    r = runner.invoke(app, ["import", "--db", str(db), str(second), "--format", "json"])
    assert r.exit_code == 0, r.output
    import json

    rep = json.loads(r.stdout)[0]
    assert rep["unit"] == "pairs"
    assert rep["linked"] == 4 and rep["absorbed"] == 0
    (apart,) = rep["unlinked"]                       # the Spanish texts differ too much: kept apart, closest named
    assert apart["rs"] == ["ESP"] and apart["closest_text"] and 0 < apart["score"] < linking.THRESHOLD
    (conflict,) = rep["conflicts"]                   # Ghana: Noted (UPR Info) vs Supported (UHRI)
    assert conflict["field"] == "response" and sorted(conflict["values"].values()) == ["Accepted", "Noted"]
    assert count(runner, db) == 6                    # 4 linked pairs + the two Spanish records
    assert count(runner, db, "--unit", "paragraphs") == 5  # 115.12, 115.40, 115.41, 115.50 + UPR Info's Spanish row
    assert count(runner, db, "--paragraph", "115.40") == 2
    conn = sqlite3.connect(db)
    by_rs = {rs: (p, a, resp) for rs, p, a, resp in conn.execute(
        "SELECT s.iso3, r.paragraph, r.action, r.response FROM recommendations r JOIN recommending_states s ON s.rec_pk = r.pk")
        if rs != "ESP"}
    assert by_rs == {"NOR": ("115.12", 5, "Accepted"), "BOL": ("115.40", 5, "Noted"), "CHL": ("115.40", 5, "Noted"),
                     "GHA": ("115.50", 4, "Accepted")}  # OHCHR's response is shown, UPR Info's action
    # both values kept, with the file that gave each
    vals = conn.execute("SELECT i.file_name, v.value FROM field_values v JOIN imports i ON i.id = v.import_id "
                        "JOIN recommending_states s ON s.rec_pk = v.rec_pk WHERE s.iso3 = 'GHA' AND v.field = 'response'").fetchall()
    assert sorted(vals) == [("uhri.xlsx", "Accepted"), ("upr.csv", "Noted")]
    conn.close()
    # re-importing either file adds nothing
    again = runner.invoke(app, ["import", "--db", str(db), str(upr), str(uhri), "--format", "json"])
    assert [x["added"] for x in json.loads(again.stdout)] == [0, 0]
    assert count(runner, db) == 6


def test_same_records_whichever_file_comes_first(files, tmp_path):
    upr, uhri = files
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with open_store(a) as s:
        import_files(s, [upr, uhri])
    with open_store(b) as s:
        import_files(s, [uhri, upr])
    assert records(a) == records(b)


def test_search_json_shows_sources(files, tmp_path, runner):
    import json

    upr, uhri = files
    db = tmp_path / "s.db"
    with open_store(db) as s:
        import_files(s, [upr, uhri])
    r = runner.invoke(app, ["search", "--db", str(db), "--paragraph", "115.12", "--format", "json"])
    (rec,) = json.loads(r.stdout)
    assert [(s["file"], s["format"]) for s in rec["sources"]] == [("upr.csv", "upr-info-csv"), ("uhri.xlsx", "uhri")]
    assert rec["sources"][1]["values"]["paragraph"] == "115.12" and rec["sources"][0]["values"]["action"] == "5"
    r = runner.invoke(app, ["stats", "--db", str(db), "--by", "response", "--unit", "paragraphs", "--format", "json"])
    assert {x["unit"] for x in json.loads(r.stdout)} == {"paragraphs"}
    r = runner.invoke(app, ["stats", "--db", str(db), "--by", "rs", "--paragraph", "115.40", "--format", "json"])
    assert [(x["rs"], x["count"], x["unit"]) for x in json.loads(r.stdout)] == [("BOL", 1, "pairs"), ("CHL", 1, "pairs")]
    r = runner.invoke(app, ["stats", "--db", str(db), "--by", "issue", "--unit", "paragraphs"])
    assert r.exit_code == 2 and "--unit paragraphs cannot count by issue" in r.output
    r = runner.invoke(app, ["search", "--db", str(db), "--paragraph", "abc", "--count"])
    assert r.exit_code == 2 and "not a paragraph number" in r.output


def test_without_linking_both_sources_count(files, tmp_path):
    upr, uhri = files
    db = tmp_path / "s.db"
    with open_store(db) as s:
        import_files(s, [upr, uhri], link=False)
        assert s.conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 10


def test_a_different_session_is_not_linked_and_said(files, tmp_path, runner):
    """A second source naming another session for the same texts is another review: not linked, and the import says so."""
    upr, _ = files
    other = make_uhri_xlsx(tmp_path / "uhri13.xlsx", [{**r, "session": 13} for r in UHRI_ROWS])
    db = tmp_path / "s.db"
    assert runner.invoke(app, ["import", "--db", str(db), str(upr)]).exit_code == 0
    r = runner.invoke(app, ["import", "--db", str(db), str(other)])
    assert r.exit_code == 0, r.output
    assert "not linked: " in r.stderr and "HTI session 13 have the texts of HTI session 12" in r.stderr
    assert count(runner, db, "--session", "12") == 5 and count(runner, db, "--session", "13") == 5


def test_a_failed_link_leaves_the_store_as_it_was(files, tmp_path, monkeypatch):
    """Nothing half-linked: an error while linking rolls the whole file back."""
    upr, uhri = files
    db = tmp_path / "s.db"
    with open_store(db) as s:
        import_files(s, [upr])
    before = records(db)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(linking, "shown_values", boom)
    with open_store(db) as s, pytest.raises(RuntimeError):
        import_files(s, [uhri])
    assert records(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM record_aliases").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 1


@pytest.mark.parametrize("first", ["upr", "uhri"])
def test_a_sheet_made_before_the_second_source_still_ingests(files, tmp_path, runner, first):
    from followup_fixtures import fill_generated

    upr, uhri = files
    db = tmp_path / "s.db"
    one, two = (upr, uhri) if first == "upr" else (uhri, upr)
    assert runner.invoke(app, ["import", "--db", str(db), str(one)]).exit_code == 0
    sheet = tmp_path / "sheet.xlsx"
    assert runner.invoke(app, ["sheet", "HTI", "--db", str(db), "-o", str(sheet)]).exit_code == 0
    filled = tmp_path / "filled.xlsx"
    fill_generated(sheet, filled, 0, name="Test NGO", type_label="NGO", as_of="2014-01-01", deleted=set())
    assert runner.invoke(app, ["import", "--db", str(db), str(two)]).exit_code == 0
    r = runner.invoke(app, ["ingest", str(filled), "--db", str(db)])
    assert r.exit_code == 0, r.output
    conn = sqlite3.connect(db)
    assessed = conn.execute("SELECT count(*) FROM assessments WHERE current = 1").fetchone()[0]
    assert assessed == 5  # every row of the sheet found its record


def test_assessments_stay_attached_when_the_second_source_arrives(files, tmp_path, runner):
    from followup_fixtures import fill_generated

    upr, uhri = files
    db = tmp_path / "s.db"
    assert runner.invoke(app, ["import", "--db", str(db), str(uhri)]).exit_code == 0
    sheet, filled = tmp_path / "sheet.xlsx", tmp_path / "filled.xlsx"
    assert runner.invoke(app, ["sheet", "HTI", "--db", str(db), "-o", str(sheet)]).exit_code == 0
    fill_generated(sheet, filled, 0, name="Test NGO", type_label="NGO", as_of="2014-01-01", deleted=set())
    assert runner.invoke(app, ["ingest", str(filled), "--db", str(db)]).exit_code == 0
    conn = sqlite3.connect(db)
    before = sorted(conn.execute("SELECT r.id, a.level, a.comment FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk"))
    assert runner.invoke(app, ["import", "--db", str(db), str(upr)]).exit_code == 0
    after = sorted(conn.execute("SELECT r.id, a.level, a.comment FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk"))
    assert after == before
    # the digest's data: a linked record carries its paragraph number
    from uprfollow.iri import statuses

    with open_store(db, readonly=True) as s:
        items = statuses(s, "HTI", session=12)
    assert sum(1 for i in items if i.paragraph) == 5 and len(items) == 6


# --------------------------------------------------------------------------- migration m009


def _store_before_m009(db: Path, upr: Path, uhri: Path) -> None:
    """A store as the release before linking wrote it: schema up to the migration before m009, each file imported
    without linking, the OHCHR/UHRI paragraph of two States kept as one record (as that release did)."""
    from uprfollow import importer
    from uprfollow import store as store_mod
    from uprfollow.migrations import MIGRATIONS

    before = [m for m in MIGRATIONS if m[0] < "m009"]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("CREATE TABLE _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)")
    for name, fn in before:
        fn(conn)
        conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,))
    store_mod.sync_vocab(conn)
    conn.execute("COMMIT")
    s = store_mod.Store(conn, db)
    for path in (upr, uhri):
        rep = importer.prepare(path)
        if rep.format in linking.PARAGRAPH_FORMATS:  # the release kept one record per paragraph
            result = importer.read_file(path)
            rep.records = importer.normalise(result.records, str(path), defaults=dict(result.defaults), split=False)
        importer.write(s, rep, link=False)
    conn.close()


def test_migration_merges_duplicates_and_keeps_every_assessment(files, tmp_path, runner):
    upr, uhri = files
    db = tmp_path / "old.db"
    _store_before_m009(db, upr, uhri)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 9  # 5 UPR Info rows + 4 paragraphs
    # assessments on both sides of the duplicates, by two stakeholders
    conn.execute("INSERT INTO stakeholders (id, name, type) VALUES (1, 'NGO A', 'ngo'), (2, 'NHRI B', 'nhri')")
    pks = [r[0] for r in conn.execute("SELECT pk FROM recommendations ORDER BY pk")]
    rows = [(pk, 1 + (n % 2), ("fully", "partially", "not")[n % 3], f"c{n}") for n, pk in enumerate(pks)]
    conn.executemany("INSERT INTO assessments (rec_pk, stakeholder_id, level, comment) VALUES (?,?,?,?)", rows)
    conn.commit()
    ids = dict(conn.execute("SELECT pk, id FROM recommendations"))
    before = sorted((ids[pk], sh, lv, c) for pk, sh, lv, c in rows)
    conn.close()

    with open_store(db) as s:  # applies m009
        assert s.conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 6
    assert count(runner, db) == 6 and count(runner, db, "--unit", "paragraphs") == 5
    conn = sqlite3.connect(db)
    after = conn.execute("SELECT r.pk, a.stakeholder_id, a.level, a.comment FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk").fetchall()
    comments = sorted(c for *_x, c in after)
    assert set(comments) >= {c for *_x, c in before}  # every assessment is still there (a split paragraph's is copied)
    # each old ID still finds its record: itself or an alias
    known = {r[0] for r in conn.execute("SELECT id FROM recommendations UNION SELECT id FROM record_aliases")}
    assert {i for i, *_x in before} <= known
    assert conn.execute("SELECT count(*) FROM assessments WHERE current = 1 GROUP BY rec_pk, stakeholder_id HAVING count(*) > 1").fetchall() == []
    conn.close()
    # importing the files again after the migration adds nothing
    with open_store(db) as s:
        reps = import_files(s, [upr, uhri])
    assert [r.added for r in reps] == [0, 0]


# --------------------------------------------------------------------------- the real China pair


@pytest.fixture(scope="module")
def china(tmp_path_factory):
    if not UPR_1417.exists() or not MATRIX_2013.exists():
        pytest.skip(f"real data not found at {SHARED}/data (set UPR_SHARED): the China pair is needed")
    out = {}
    for order, paths in (("upr-first", [UPR_1417, MATRIX_2013]), ("ohchr-first", [MATRIX_2013, UPR_1417])):
        db = tmp_path_factory.mktemp(order) / "s.db"
        with open_store(db) as s:
            reports = import_files(s, paths)
        out[order] = (db, reports)
    return out


@pytest.mark.parametrize("order", ["upr-first", "ohchr-first"])
def test_china_2013_counts_once(china, runner, order):
    db, reports = china[order]
    assert count(runner, db, "--sur", "CHN", "--session", "17") == 284  # UPR Info's figure
    assert count(runner, db, "--sur", "CHN", "--session", "17", "--unit", "paragraphs") == 252  # the matrix's paragraphs
    conn = sqlite3.connect(db)
    n, with_para, with_action = conn.execute(
        "SELECT count(*), count(paragraph), count(action) FROM recommendations WHERE sur = 'CHN' AND session = 17").fetchone()
    assert with_para >= 0.95 * n and with_action == n
    # the two OHCHR pairs UPR Info's export lacks (186.69 Albania, 186.131 Canada) stay with their paragraph's record
    kept = sorted(v for (v,) in conn.execute("SELECT value FROM field_values WHERE field LIKE 'absorbed %'"))
    assert len(kept) == 2 and kept[0].endswith("(ALB)") and kept[1].endswith("(CAN)")
    second = reports[1].link
    print(order, "linked", second.linked, "unlinked", len(second.unlinked), "absorbed", second.absorbed)
    with open_store(db) as s:
        again = import_files(s, [UPR_1417, MATRIX_2013])
    assert [r.added for r in again] == [0, 0]


def test_china_2013_same_records_in_either_order(china):
    assert records(china["upr-first"][0]) == records(china["ohchr-first"][0])


def test_a_hand_made_list_without_session_links_and_learns_it(files, tmp_path, runner):
    """A list retyped from the report (no session column) joins UPR Info's records of the State; its paragraph numbers
    are added and the records keep their session."""
    upr, _ = files
    retyped = tmp_path / "retyped.csv"
    with open(retyped, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Paragraph", "State under review", "Recommendation", "Recommending State", "Response"])
        w.writerow(["115.12", "Haiti", "Ratify the Optional Protocol to the Convention against Torture.", "Norway", "Supported"])
        w.writerow(["115.50", "Haiti", "Strengthen the national human rights institution", "Ghana", "Supported"])
    for order in ((upr, retyped), (retyped, upr)):
        db = tmp_path / f"{order[0].stem}.db"
        with open_store(db) as s:
            reports = import_files(s, list(order))
        assert reports[1].link is not None and reports[1].link.linked == 2
        assert count(runner, db) == 5 and count(runner, db, "--session", "12") == 5
        assert count(runner, db, "--paragraph", "115.50", "--session", "12") == 1


def test_another_state_under_review_is_not_linked_and_said(files, tmp_path, runner):
    upr, _ = files
    other = make_uhri_xlsx(tmp_path / "uhri-cuba.xlsx", [{**r, "sur": "Cuba"} for r in UHRI_ROWS])
    db = tmp_path / "s.db"
    assert runner.invoke(app, ["import", "--db", str(db), str(upr)]).exit_code == 0
    r = runner.invoke(app, ["import", "--db", str(db), str(other), "--format", "json"])
    import json

    (rep,) = json.loads(r.stdout)
    assert rep["linked"] == 0 and "rows for CUB session 12 have the texts of HTI session 12" in rep["contradictions"][0]
    assert count(runner, db, "--sur", "CUB") == 5 and count(runner, db, "--sur", "HTI") == 5
