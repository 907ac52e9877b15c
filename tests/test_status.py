"""`upr status`: every voice, the IRI and its level, not assessed, disputes; filters and formats."""

from __future__ import annotations

import csv
import json

import pytest
from followup_fixtures import CHOSEN, STAKEHOLDERS, Scenario, build_scenario, invoke


@pytest.fixture(scope="module")
def hti(export_store, tmp_path_factory) -> Scenario:
    sc = build_scenario(export_store, tmp_path_factory.mktemp("status"))
    assert all(r.exit_code == 0 for r in sc.results)
    return sc


def status(hti: Scenario, *args: str) -> list[dict]:
    r = invoke("status", "HTI", "--format", "json", "--db", str(hti.db), *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_every_recommendation_every_voice(hti):
    items = status(hti)
    assert len(items) == 136
    expected = hti.expected()
    for s in items:
        assert {v["stakeholder"]: v["level"] for v in s["voices"]} == expected.get(s["id"], {})
    by_id = {s["id"]: s for s in items}
    for k, (_levels, value, level, disputed) in CHOSEN.items():
        s = by_id[hti.ids[k]]
        assert (s["iri"], s["level"], s["disputed"]) == (value, level, disputed), k
    v = by_id[hti.ids[1]]["voices"]
    assert v[0]["stakeholder"] == STAKEHOLDERS[0] and v[0]["type"] == "state"  # the State speaks first
    assert {x["file"] for x in v} == {"1-state.xlsx", "2-ngo-fr.xlsx", "3-nhri.xlsx"}


def test_filters(hti):
    expected = hti.expected()
    disputed = status(hti, "--disputed")
    assert disputed and all(s["disputed"] for s in disputed)
    n_disputed = sum(1 for v in expected.values() if len({lv for lv in v.values() if lv != "no_data"}) > 1)
    assert len(disputed) == n_disputed
    assert [s["id"] for s in status(hti, "--level", "not_assessed")] == [hti.ids[9]]
    assert all(s["level"] == "partially" for s in status(hti, "--level", "partially"))
    assert all(s["level"] == "partially" for s in status(hti, "--level", "Partially implemented"))
    assert status(hti, "--session", "1") == []


def test_table(hti):
    r = invoke("status", "HTI", "--db", str(hti.db))
    assert r.exit_code == 0
    out = r.stdout
    assert f"{hti.ids[1]}  IRI 0.33  Partially implemented  DISPUTED" in out
    assert f"{hti.ids[9]}  IRI    -  Not assessed" in out
    assert f"    - {STAKEHOLDERS[0]} (state): Fully implemented: comment 0 on row 1" in out
    assert "HTI: 136 recommendations, 135 assessed" in r.stderr


def test_csv_one_row_per_voice(hti):
    r = invoke("status", "HTI", "--format", "csv", "--db", str(hti.db))
    assert r.exit_code == 0
    rows = list(csv.DictReader(r.stdout.splitlines()))
    voices = sum(len(v) for v in hti.expected().values())
    assert len(rows) == voices + 1  # + the one recommendation nobody assessed
    blank = [x for x in rows if x["id"] == hti.ids[9]]
    assert blank == [{**blank[0], "stakeholder": "", "level": "not_assessed", "iri": ""}]
    assert {x["iri"] for x in rows if x["id"] == hti.ids[2]} == {"0.67"}


def test_bad_state(hti):
    r = invoke("status", "Atlantis", "--db", str(hti.db))
    assert r.exit_code == 2 and "unknown State 'Atlantis'" in r.output
    r = invoke("status", "FRA", "--db", str(hti.db), "--level", "mostly")
    assert r.exit_code == 2 and "--level 'mostly': not a level" in r.output
    r = invoke("status", "VAT", "--db", str(hti.db))
    assert r.exit_code == 1 and "no recommendations to" in r.output


def test_stats_by_level_and_response(hti):
    """`upr stats` (another module) tallies the levels by response, over the recommendation_levels view."""
    r = invoke("stats", "--by", "level", "--by", "response", "--format", "json", "--db", str(hti.db))
    if r.exit_code == 2 and "No such command" in r.output:
        pytest.skip("`upr stats` is not there yet")
    assert r.exit_code == 0, r.output
