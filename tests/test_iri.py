"""The IRI follows DOMAIN.md: scores, 'no data' left out, half-up rounding to two decimals, bands."""

from __future__ import annotations

import itertools
import sqlite3

import pytest

from uprfollow.iri import band, iri, is_disputed


@pytest.mark.parametrize(
    ("levels", "value", "level"),
    [
        (["fully", "partially"], 0.75, "fully"),          # DOMAIN.md's example
        (["fully", "not", "not"], 0.33, "partially"),     # 0.333... -> 0.33 -> partially
        (["fully", "fully", "not"], 0.67, "fully"),       # 0.666... -> 0.67 -> fully
        (["partially", "not", "not"], 0.17, "not"),       # 0.1666... -> 0.17
        (["partially", "partially", "not", "fully"], 0.5, "partially"),
        (["no_data", "fully"], 1.0, "fully"),             # no data left out
        (["no_data"], None, "no_data"),
        (["not"], 0.0, "not"),
        (["partially", "fully", "fully", "not"], 0.63, "partially"),  # 0.625 rounds half up
    ],
)
def test_iri_and_band(levels, value, level):
    assert iri(levels) == value
    assert band(iri(levels)) == level


def test_disputes_ignore_no_data():
    assert is_disputed(["fully", "partially"])
    assert not is_disputed(["fully", "no_data"])
    assert not is_disputed(["not", "not"])


def test_sql_view_agrees_with_python(tmp_path):
    """Every combination of up to four voices gives the same IRI, level and dispute in SQL and Python."""
    from uprfollow.store import open_store

    with open_store(tmp_path / "s.db") as store, store.write() as conn:
        conn.execute("INSERT INTO recommendations (pk, id, sur, text) VALUES (1, 'x', 'HTI', 't')")
        combos = [c for n in range(1, 5) for c in itertools.product(["fully", "partially", "not", "no_data"], repeat=n)]
        for i, combo in enumerate(combos):
            conn.execute("INSERT INTO recommendations (pk, id, sur, text) VALUES (?, ?, 'HTI', 't')", (i + 2, f"r{i}"))
            for j, lv in enumerate(combo):
                conn.execute("INSERT OR IGNORE INTO stakeholders (id, name, type) VALUES (?, ?, 'ngo')", (j + 1, f"s{j}"))
                conn.execute("INSERT INTO assessments (rec_pk, stakeholder_id, level) VALUES (?, ?, ?)", (i + 2, j + 1, lv))
    db = sqlite3.connect(tmp_path / "s.db")
    got = {pk: (v, lv, bool(d)) for pk, v, lv, d in db.execute("SELECT rec_pk, iri, level, disputed FROM recommendation_levels")}
    for i, combo in enumerate(combos):
        assert got[i + 2] == (iri(list(combo)), band(iri(list(combo))), is_disputed(list(combo))), combo
