"""Filled sheets in any wording, reviewable (issue 15): wider level words, accent-folding and lemmas, "did you
mean", grouped errors, the user's vocabulary folder, an honest --keep-valid, every fuzzy match listed, and a
re-submission that says what changed. Sheets are constructed by the tests from the generated HTI sheet."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from followup_fixtures import invoke
from test_ingest_errors import _counts, filled, snapshot

from uprfollow import vocab


@pytest.fixture(scope="module")
def blank_sheet(export_store, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sheet") / "HTI.xlsx"
    r = invoke("sheet", "HTI", "-o", str(path), "--db", str(export_store))
    assert r.exit_code == 0, r.output
    return path


ISSUE_WORDS = {  # the wordings issue 15 found refused
    "totalement": "fully", "entièrement": "fully", "en partie": "partially", "mis en œuvre partiellement": "partially",
    "en cours de réalisation": "partially", "totalmente": "fully", "Partially implemented (ongoing)": "partially",
}


@pytest.mark.parametrize(("word", "level"), [
    *ISSUE_WORDS.items(),
    ("TOTALEMENT", "fully"), ("Entierement", "fully"), ("mise en oeuvre partiellement", "partially"),  # case and accents
    ("implementadas parcialmente", "partially"), ("Mises en œuvre partiellement", "partially"),         # plural, gender, order
    ("Not implemented (no progress)", "not"),
])
def test_level_words(word, level):
    assert vocab.level_of(word) == level


@pytest.mark.parametrize("word", ["Implemented (not at all)", "Mostly done", "sort of", "", "partially fully"])
def test_level_words_that_stay_unknown(word):
    """A part in parentheses that names another level, or words of two levels, is never guessed."""
    assert vocab.level_of(word) is None


def test_issue_words_ingest(blank_sheet, export_store_copy, tmp_path):
    words = list(ISSUE_WORDS)
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", dict(enumerate(words)))
    r = invoke("ingest", str(f), "--db", str(export_store_copy), "--format", "json")
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(export_store_copy)
    stored = dict(con.execute("SELECT level_raw, level FROM assessments"))
    assert stored == ISSUE_WORDS


def test_did_you_mean_and_grouped_errors(blank_sheet, export_store_copy, tmp_path):
    """17 rows with the same unknown word are one problem naming the rows, with the closest known wording."""
    levels = {k: "Totalemnt" for k in range(2, 19)} | {0: "Fully implemented", 20: "sort of"}
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", levels)
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert r.exit_code == 1 and snapshot(export_store_copy) == before
    assert ("column 'G (Level of implementation)': 17 rows (10-26): unknown level 'Totalemnt' (did you mean 'totalement' (fully)"
            in r.stderr), r.stderr
    assert r.stderr.count("unknown level 'Totalemnt'") == 1
    assert "row 28, cell G28, column 'G (Level of implementation)': unknown level 'sort of'" in r.stderr  # a single one stays as it was
    r = invoke("ingest", str(f), "--db", str(export_store_copy), "--format", "json")
    grouped = [p for p in json.loads(r.stdout)["problems"] if "Totalemnt" in p["message"]]
    assert len(grouped) == 1 and grouped[0]["rows"] == list(range(10, 27))


def test_user_vocabulary_folder(blank_sheet, export_store_copy, tmp_path, monkeypatch):
    """Level words added in $XDG_CONFIG_HOME/uprfollow/level_words.csv, never by editing package data."""
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", {0: "Mostly done", 1: "Fully implemented"})
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert r.exit_code == 1 and "uprfollow/level_words.csv (columns word,level)" in r.stderr
    folder = tmp_path / "config" / "uprfollow"
    assert vocab.user_vocab_dir() == folder
    folder.mkdir(parents=True)
    (folder / "level_words.csv").write_text("word,level,lang\nMostly done,partially,en\n", encoding="utf-8")
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    assert dict(sqlite3.connect(export_store_copy).execute("SELECT level_raw, level FROM assessments")) == {
        "Mostly done": "partially", "Fully implemented": "fully"}
    (folder / "level_words.csv").write_text("word,level\nMostly done,mostly\n", encoding="utf-8")
    r = invoke("search", "--level", "Mostly done", "--count", "--db", str(export_store_copy))
    assert r.exit_code == 1 and f"{folder / 'level_words.csv'}, row 2: level 'mostly' is not one of fully, partially" in r.stderr


def test_keep_valid_is_not_offered_when_it_cannot_help(blank_sheet, export_store_copy, tmp_path):
    """A file with no stakeholder name: the hint does not offer --keep-valid, and --keep-valid stores nothing: exit 1."""
    from openpyxl import load_workbook

    f = filled(blank_sheet, tmp_path / "anon.xlsx", {0: "Fully implemented", 1: "Mostly done"})
    wb = load_workbook(f)
    wb.active["C4"] = None
    wb.save(f)
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert r.exit_code == 1 and "no stakeholder name" in r.stderr
    assert "--keep-valid" not in r.stderr
    r = invoke("ingest", str(f), "--keep-valid", "--db", str(export_store_copy))
    assert r.exit_code == 1, r.output
    assert "nothing ingested" in r.stderr and snapshot(export_store_copy) == before


def _retyped(blank: Path, dest: Path) -> Path:
    """Three rows without their ID and with a retyped text (a typo), so they match by fuzzy text."""
    from openpyxl import load_workbook

    f = filled(blank, dest, {0: "Fully implemented", 1: "Not implemented", 2: "Partially", 3: "No data"})
    wb = load_workbook(f)
    ws = wb.active
    for r in (9, 10, 11):
        ws.cell(r, 1).value = None
        text = ws.cell(r, 3).value
        ws.cell(r, 3).value = text[:20] + text[21:]  # one letter dropped
    wb.save(f)
    return f


def test_fuzzy_matches_are_listed(blank_sheet, export_store_copy, tmp_path):
    f = _retyped(blank_sheet, tmp_path / "typed.xlsx")
    r = invoke("ingest", str(f), "--dry-run", "--db", str(export_store_copy), "--format", "json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)[0]
    assert rep["matched_by"] == {"fuzzy": 3, "id": 1}
    matches = rep["fuzzy_matches"]
    assert [m["row"] for m in matches] == [9, 10, 11]
    for m in matches:
        assert m["id"].startswith("HTI-12-") and 88 <= m["score"] < 100
        assert m["sheet_text"] != m["stored_text"] and m["sheet_text"][:20] == m["stored_text"][:20]
    r = invoke("ingest", str(f), "--dry-run", "--db", str(export_store_copy))
    assert "3 rows matched by a fuzzy text match: check them with --show-matches" in r.stderr
    r = invoke("ingest", str(f), "--dry-run", "--show-matches", "--db", str(export_store_copy))
    assert r.stderr.count("fuzzy match: row ") == 3
    assert f"fuzzy match: row 9 -> {matches[0]['id']} ({matches[0]['score']:.1f}/100)" in r.stderr
    assert "    stored: " in r.stderr and "    sheet:  " in r.stderr


def test_resubmission_says_what_changed(blank_sheet, export_store_copy, tmp_path):
    """A later sheet that changes 3 levels of 12 reads '3 changed, 9 unchanged', not 'added 12, replaced 12'."""
    first = {k: "Fully implemented" for k in range(12)}
    f1 = filled(blank_sheet, tmp_path / "v1.xlsx", first)
    r = invoke("ingest", str(f1), "--db", str(export_store_copy))
    assert r.exit_code == 0 and "; added 12" in r.stderr, r.stderr
    second = first | {0: "Not implemented", 5: "Partially", 7: "No data"}
    f2 = filled(blank_sheet, tmp_path / "v2.xlsx", second)
    r = invoke("ingest", str(f2), "--as-of", "2014-01-01", "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    assert r.stderr.rstrip().endswith("; 3 changed, 9 unchanged"), r.stderr
    third = {k: v for k, v in second.items() if k != 11}
    r = invoke("ingest", str(filled(blank_sheet, tmp_path / "v3.xlsx", third)), "--as-of", "2015-01-01", "--db", str(export_store_copy),
               "--format", "json")
    rep = json.loads(r.stdout)[0]
    assert (rep["changed"], rep["unchanged"], rep["new"], rep["dropped"]) == (0, 11, 0, 1)
    assert _counts(export_store_copy)["ingests"] == 3
