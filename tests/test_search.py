"""`upr search` on the real-data store, checked against independent filters of the raw CSV files.

How the full-text semantics map to the independent filter: the index tokenises on anything
that is not a letter or digit and stems with Porter. `upr search "death penalty"` (no quotes
inside) asks for both words anywhere in the text, so the independent filter looks for a token
that stems to "death" and one that stems to "penalti". In these files the only such tokens are
death/deaths and penalty/penalties (asserted below, so the mapping is checked, not assumed), so
the filter is a plain token test. A quoted phrase '"death penalty"' means the two tokens next
to each other: the regex `death\\W+penalt(y|ies)`.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
from collections import Counter

import pytest

from uprfollow.cli import app
from uprfollow.errors import UsageError
from uprfollow.query import fts_query

FILES = ("1-5.csv", "6-9.csv", "10-13.csv", "voluntary.csv")


@pytest.fixture(scope="module")
def raw(exports) -> list[dict[str, str]]:
    rows = []
    for name in FILES:
        with open(exports / name, encoding="mac_roman", newline="") as f:
            for r in csv.DictReader(f):
                rows.append({k: html.unescape(v).strip() for k, v in r.items()})
    return rows


def tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def norm(text: str) -> str:
    return " ".join(text.split())


def search_csv(runner, store, *args: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["search", "--db", str(store), "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_death_penalty_africa_noted_matches_an_independent_filter(export_store, raw, runner):
    all_tokens = {t for r in raw for t in tokens(r["Text"])}
    assert {t for t in all_tokens if t.startswith("death")} == {"death", "deaths"}
    assert {t for t in all_tokens if t.startswith("penalt")} == {"penalty", "penalties"}

    def wanted(r: dict[str, str]) -> bool:
        toks = set(tokens(r["Text"]))
        return r["To-Rgrp"] == "Africa" and r["Response"] == "Noted" and bool(toks & {"death", "deaths"}) and bool(toks & {"penalty", "penalties"})

    expected = Counter((norm(r["Text"]), int(float(r["Session"])), r["From"]) for r in raw if wanted(r))
    got = search_csv(runner, export_store, "death penalty", "--sur-group", "Africa", "--response", "noted")
    assert len(got) == sum(expected.values()) > 100
    assert Counter((norm(r["text"]), int(r["session"]), r["rs_names"]) for r in got) == expected
    assert {r["response"] for r in got} == {"Noted"}
    assert set(got[0]) >= {"id", "sur", "sur_name", "session", "cycle", "year", "text", "rs", "rs_names", "response", "action", "issues"}


def test_phrase_and_boolean_operators(export_store, raw, runner):
    recs = [r for r in raw if r["Response"] != "Voluntary Pledge"]
    phrase = [r for r in recs if re.search(r"\bdeath\W+penalt(y|ies)\b", r["Text"], re.I)]
    assert len(search_csv(runner, export_store, '"death penalty"')) == len(phrase)

    def has(r, *stems):
        toks = tokens(r["Text"])
        return all(any(t.startswith(s) for t in toks) for s in stems)

    torture = [r for r in recs if has(r, "tortur")]
    children = [r for r in recs if has(r, "child")]
    result = runner.invoke(app, ["search", "--db", str(export_store), "--count", "tortur* NOT child*"])
    assert int(result.stdout) == len([r for r in torture if r not in children])
    result = runner.invoke(app, ["search", "--db", str(export_store), "--count", "tortur* OR child*"])
    assert int(result.stdout) == len([r for r in recs if has(r, "tortur") or has(r, "child")])
    result = runner.invoke(app, ["search", "--db", str(export_store), "--count", "tortur* -child*"])
    assert int(result.stdout) == len([r for r in torture if r not in children])


def test_stemming_finds_other_forms(export_store, runner):
    got = search_csv(runner, export_store, "discriminate")
    texts = " ".join(r["text"].lower() for r in got)
    assert "discrimination" in texts and len(got) > 1000


def test_filters_accept_names_and_codes(export_store, runner):
    counts = set()
    for spelling in ("Haiti", "haiti", "HTI"):
        result = runner.invoke(app, ["search", "--db", str(export_store), "--sur", spelling, "--count"])
        assert result.exit_code == 0, result.output
        counts.add(result.stdout.strip())
    assert counts == {"136"}


def test_issue_mode_all_and_any(export_store, raw, runner):
    recs = [r for r in raw if r["Response"] != "Voluntary Pledge"]
    both = {"Women's rights", "Rights of the Child"}
    base = ["search", "--db", str(export_store), "--count", "--issue", "Women's rights", "--issue", "rights of the child"]
    all_ = runner.invoke(app, [*base, "--issue-mode", "all"])
    any_ = runner.invoke(app, base)
    issues = [set(i.strip() for i in r["Issue"].split(",")) for r in recs]
    assert int(all_.stdout) == sum(1 for i in issues if both <= i)
    assert int(any_.stdout) == sum(1 for i in issues if both & i)


def test_json_output_parses(export_store, runner):
    result = runner.invoke(app, ["search", "--db", str(export_store), "torture", "--sur", "HTI", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows and all(r["sur"] == "HTI" and "tortur" in r["text"].lower() for r in rows)
    assert isinstance(rows[0]["session"], int) and rows[0]["is_pledge"] is False


def test_empty_result(export_store, runner):
    args = ["search", "--db", str(export_store), "zebra", "--sur", "HTI"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.stdout == ""
    assert "no recommendations match" in result.stderr


def test_table_caps_rows_and_says_so(export_store, raw, runner):
    result = runner.invoke(app, ["search", "--db", str(export_store), "--sur", "HTI", "--limit", "3"])
    assert result.exit_code == 0
    assert "showing 3 of 136 recommendations" in result.stderr
    cycle1 = sum(1 for r in raw if r["Response"] != "Voluntary Pledge" and int(float(r["Session"])) <= 12)
    result = runner.invoke(app, ["search", "--db", str(export_store), "--cycle", "1"])
    assert f"showing 100 of {cycle1:,} recommendations" in result.stderr
    result = runner.invoke(app, ["search", "--db", str(export_store), "--sur", "HTI", "--session", "12", "--action", "1"])
    assert result.stderr.strip().endswith("recommendations") and "showing" not in result.stderr


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("NOT torture", "NOT needs something to subtract from"),
        ('torture "death', "unbalanced quote"),
        ("(torture OR children", "a parenthesis is not closed"),
        ("torture AND", "AND needs a word on each side"),
        ("torture )", "unexpected ')'"),
        ("&& !!", "nothing to search for"),
    ],
)
def test_bad_queries_are_clear_usage_errors(export_store, runner, query, message):
    result = runner.invoke(app, ["search", "--db", str(export_store), query])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("query", ["text:torture", "NEAR(a b)", 'a"b', "col:x OR y*", "^torture", 'torture*"', "{text}: x"])
def test_fts_syntax_never_reaches_sqlite(export_store, query):
    """Whatever people type is either a clear UsageError or a query SQLite accepts."""
    try:
        expr = fts_query(query)
    except UsageError:
        return
    db = sqlite3.connect(export_store)
    db.execute("SELECT count(*) FROM recommendations_fts WHERE recommendations_fts MATCH ?", (expr,)).fetchone()


def test_unknown_filter_values(export_store, runner):
    result = runner.invoke(app, ["search", "--db", str(export_store), "--sur", "Hatii"])
    assert result.exit_code == 2
    assert "Error: unknown State 'Hatii' for --sur" in result.stderr and "Haiti (HTI)" in result.stderr
    result = runner.invoke(app, ["search", "--db", str(export_store), "--response", "acepted"])
    assert result.exit_code == 2 and "did you mean 'Accepted'" in result.stderr


def test_exports_never_hold_formulas(export_store_copy, runner, tmp_path):
    from openpyxl import load_workbook

    db = sqlite3.connect(export_store_copy)
    db.execute("UPDATE recommendations SET text = '=HYPERLINK(\"http://x\",\"click\")' WHERE pk = (SELECT min(pk) FROM recommendations WHERE sur = 'HTI')")
    db.commit()
    db.close()
    rows = search_csv(runner, export_store_copy, "--sur", "HTI")
    assert '\'=HYPERLINK("http://x","click")' in [r["text"] for r in rows]
    out = tmp_path / "haiti.xlsx"
    result = runner.invoke(app, ["search", "--db", str(export_store_copy), "--sur", "HTI", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    header = [c.value for c in ws[2]]  # row 1 is the title
    cells = [row[header.index("text")] for row in ws.iter_rows(min_row=3)]
    assert len(cells) == 136
    bad = [c for c in cells if str(c.value).startswith("=")]
    assert len(bad) == 1 and bad[0].data_type == "s" and bad[0].quotePrefix


def test_xlsx_needs_a_file(export_store, runner):
    result = runner.invoke(app, ["search", "--db", str(export_store), "--format", "xlsx"])
    assert result.exit_code == 2 and "-o FILE.xlsx" in result.stderr


def test_output_file_takes_its_format_from_the_name(export_store, runner, tmp_path):
    """`-o FILE.csv` without --format writes CSV to the file (not a table to the terminal); an unknown suffix is a usage error."""
    import csv as csv_module

    from uprfollow.cli import app

    out = tmp_path / "torture.csv"
    result = runner.invoke(app, ["search", "torture", "--sur", "HTI", "--db", str(export_store), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv_module.DictReader(out.open(encoding="utf-8")))
    assert rows and all(r["sur"] == "HTI" for r in rows)
    result = runner.invoke(app, ["stats", "--by", "response", "--db", str(export_store), "-o", str(tmp_path / "s.txt")])
    assert result.exit_code == 2
    assert "name the file .csv, .json or .xlsx" in result.output


def test_version(runner):
    from uprfollow import __version__
    from uprfollow.cli import app

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == __version__
