"""Researchers' lists, the UPR Info database's current (Uwazi) export and State names as people write them.

No such files are in ../shared: every file here is CONSTRUCTED by the test from the descriptions in
issue 12 (column names, value forms); the recommendation texts are fictional.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from uprfollow import vocab
from uprfollow.cli import app


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- State names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name, iso3", [
    ("SriLanka", "LKA"), ("unitedstatesofamerica", "USA"), ("capeverde", "CPV"), ("Macedonia", "MKD"),
    ("the former Yugoslav Republic of Macedonia", "MKD"), ("Holy See", "VAT"), ("State of Palestine", "PSE"),
    ("Bolivarian Republic of Venezuela", "VEN"), ("NAMIBIA", "NAM"),
])
def test_state_names_compare_without_spaces_and_punctuation(name: str, iso3: str) -> None:
    assert vocab.country_code(name) == iso3


@pytest.mark.parametrize("code", ["NA", "N/A", "n/a", "-", "none", "null", "NaN", "", "  "])
def test_missing_value_codes_are_never_a_state(code: str) -> None:
    assert vocab.is_missing(code)
    assert vocab.country_code(code) is None


def test_na_in_a_list_is_empty_not_namibia(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "list.csv", [
        ["State under review", "Session", "Recommendation", "Recommending State", "Response"],
        ["Haiti", "12", "Adopt the fictional law", "NA", "Accepted"],
        ["Haiti", "12", "Ratify the fictional Convention", "Chile; N/A", "-"],
    ])
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert _rows(db_path, "SELECT iso3 FROM recommending_states") == [("CHL",)]
    assert _rows(db_path, "SELECT response FROM recommendations ORDER BY pk") == [("Accepted",), (None,)]


def test_two_states_run_together_are_refused_with_both_named(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "list.csv", [
        ["State under review", "Session", "Recommendation", "Recommending State"],
        ["Haiti", "12", "Adopt the fictional law", "Argentina Chile"],
    ])
    result = runner.invoke(app, ["import", "--db", str(db_path), "--format", "json", str(path)])
    assert result.exit_code == 1
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["value"] == "Argentina Chile"
    assert "Argentina (ARG)" in problem["hint"] and "Chile (CHL)" in problem["hint"]
    assert not db_path.exists()


def test_user_vocabulary_folder_and_add_alias(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "list.csv", [
        ["State under review", "Session", "Recommendation", "Recommending State"],
        ["Centeral African Republic", "12", "Adopt the fictional law", "Chile"],
    ])
    refused = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert refused.exit_code == 1
    assert 'upr vocab add-alias "Centeral African Republic" CAF' in refused.output
    added = runner.invoke(app, ["vocab", "add-alias", "Centeral African Republic", "CAF"])
    assert added.exit_code == 0, added.output
    user_file = vocab.user_vocab_dir() / "country_aliases.csv"
    assert user_file.is_file() and str(tmp_path / "config") in str(user_file)  # $XDG_CONFIG_HOME/uprfollow, not data/
    assert "Centeral African Republic,CAF" in user_file.read_text(encoding="utf-8")
    # (no cache to clear: the user's file is read again when it changes)
    imported = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert imported.exit_code == 0, imported.output
    assert _rows(db_path, "SELECT sur FROM recommendations") == [("CAF",)]
    bad = runner.invoke(app, ["vocab", "add-alias", "Somewhere", "ZZZ"])
    assert bad.exit_code != 0 and "unknown State" in bad.output


# --- researchers' lists --------------------------------------------------------------------------


TEAM = [
    ["country", "year", "recommendation_text", "recommending_state", "decision", "action", "theme"],
    ["Sri Lanka", "2017", "96.1  Sign the fictional Optional Protocol", "Chile", "support", "['share', 'harmonize']", "['children']"],
    ["SriLanka", "2017", "96.2 Ratify the fictional Convention", "NA", "implemented", "['share']", "['women']"],
    ["Sri Lanka", "2017", "96.3 Consider the fictional plan", "Estonia", "consider", "[]", "[]"],
    ["Sri Lanka", "2017", "96.4 Abolish the fictional practice", "France", "reject", "['ban']", "[]"],
]


def test_coded_columns_are_named_with_ignore_column(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "team.csv", TEAM)
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 1
    assert "'action'" in result.output and "--ignore-column action" in result.output
    assert not db_path.exists()
    result = runner.invoke(app, ["import", "--db", str(db_path), "--ignore-column", "action", str(path)])
    assert result.exit_code == 1 and "--ignore-column theme" in result.output


def test_decision_year_and_leading_paragraph(tmp_path, runner, db_path) -> None:
    # a store that knows Sri Lanka's 2017 review (UPR 28): the year then gives the session
    known = _csv(tmp_path / "known.csv", [
        ["State under review", "Session", "Recommendation", "Recommending State", "Response"],
        ["Sri Lanka", "28", "Adopt the fictional law", "Chile", "Accepted"],
    ])
    assert runner.invoke(app, ["import", "--db", str(db_path), str(known)]).exit_code == 0
    path = _csv(tmp_path / "team.csv", TEAM)
    result = runner.invoke(app, ["import", "--db", str(db_path), "--ignore-column", "action", "--ignore-column", "theme", str(path)])
    assert result.exit_code == 0, result.output
    rows = _rows(db_path, "SELECT sur, session, year, paragraph, text, response, response_raw FROM recommendations WHERE paragraph IS NOT NULL ORDER BY pk")
    assert rows == [
        ("LKA", 28, 2017, "96.1", "Sign the fictional Optional Protocol", "Accepted", "support"),
        ("LKA", 28, 2017, "96.2", "Ratify the fictional Convention", "Accepted", "implemented"),
        ("LKA", 28, 2017, "96.3", "Consider the fictional plan", "Pending", "consider"),
        ("LKA", 28, 2017, "96.4", "Abolish the fictional practice", "Noted", "reject"),
    ]


def test_year_without_a_known_review_keeps_the_year(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "team.csv", [TEAM[0][:5], TEAM[1][:5]])
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert _rows(db_path, "SELECT session, cycle, year FROM recommendations") == [(None, 3, 2017)]


# --- the UPR Info database's current export (HURIDOCS Uwazi) -------------------------------------


UWAZI = [
    ["Title", "Creation date", "Template", "State under Review", "Recommending State", "Response", "Action Category",
     "Issues", "Session", "Cycle", "SuR Regional Group", "RS Regional Group"],
    ["Adopt a fictional law on the rights of the child", "2024-01-15", "Recommendation", "Haiti", "Chile", "Supported",
     "5 - Specific action", "Rights of the Child|Justice", "44 - November 2023", "4th Cycle", "GRULAC", "GRULAC"],
    ["Consider ratifying the fictional Convention", "2024-01-15", "Recommendation", "Haiti", "Estonia", "Noted",
     "3 - Considering action", "International instruments|Climate change and environment", "44 - November 2023", "4th Cycle",
     "GRULAC", "EEG"],
    ["Abolish the fictional practice", "2024-01-15", "Recommendation", "Haiti", "France", "Not Supported",
     "4 - General action", "Death penalty", "44 - November 2023", "4th Cycle", "GRULAC", "WEOG"],
]


def test_uwazi_export(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "upr-info-database.csv", UWAZI)
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert "upr-info-uwazi" in result.output and "'Climate change and environment'" in result.output
    assert _rows(db_path, "SELECT sur, session, cycle, action, response, response_raw FROM recommendations ORDER BY pk") == [
        ("HTI", 44, 4, 5, "Accepted", "Supported"), ("HTI", 44, 4, 3, "Noted", "Noted"), ("HTI", 44, 4, 4, "Noted", "Not Supported")]
    assert sorted(_rows(db_path, "SELECT issue FROM recommendation_issues WHERE rec_pk = 2")) == [
        ("Climate change and environment",), ("International instruments",)]
    assert _rows(db_path, "SELECT name FROM issues WHERE note IS NOT NULL") == [("Climate change and environment",)]
    check = runner.invoke(app, ["db", "check", "--db", str(db_path)])
    assert check.exit_code == 0, check.output
    found = runner.invoke(app, ["search", "--db", str(db_path), "--issue", "climate change and environment", "--count"])
    assert found.exit_code == 0 and found.stdout.strip() == "1", found.output
    typo = runner.invoke(app, ["search", "--db", str(db_path), "--issue", "climate chnge", "--count"])
    assert typo.exit_code != 0 and "Climate change and environment" in typo.output


def test_uwazi_headers_match_tolerantly(tmp_path, runner, db_path) -> None:
    header = ["title", "STATE UNDER REVIEW", "Recommending States", "response", "Action category", "Issue", "session"]
    path = _csv(tmp_path / "export.csv", [header, [UWAZI[1][0], "Haiti", "Chile", "Supported", "5 - Specific action", "Justice",
                                                   "44 - November 2023"]])
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert _rows(db_path, "SELECT sur, session, action FROM recommendations") == [("HTI", 44, 5)]


def test_unknown_issues_are_refused_outside_a_upr_info_export(tmp_path, runner, db_path) -> None:
    path = _csv(tmp_path / "list.csv", [
        ["State under review", "Session", "Recommendation", "Recommending State", "Issues"],
        ["Haiti", "44", "Adopt the fictional law", "Chile", "Climate change and environment"],
    ])
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 1 and "unknown issue" in result.output
