"""Search joins irregular forms through lemmas (woman/women, child/children), in English, French and Spanish.

Real data: the UPR Info export store (sessions 1-13 and pledges). Constructed data: a small
researcher's list written by the tests below, with texts in three languages (made up for the test).
"""

from __future__ import annotations

import csv
import re
import sqlite3

import pytest

from uprfollow.cli import app
from uprfollow.lemmas import analyse, detect_language


def count(runner, db, text: str, *extra: str) -> tuple[int, str]:
    res = runner.invoke(app, ["search", text, "--count", "--db", str(db), *extra])
    assert res.exit_code == 0, res.output
    return int(res.stdout.strip()), res.stderr


@pytest.mark.parametrize("one, other", [("woman", "women"), ("child", "children"), ("man", "men")])
def test_either_form_finds_both_on_the_real_exports(export_store, runner, one, other):
    n_one, _ = count(runner, export_store, one)
    n_other, _ = count(runner, export_store, other)
    assert n_other > 100
    assert abs(n_one - n_other) <= 0.01 * n_other, (one, n_one, other, n_other)
    # and at least every text holding the irregular form as a word
    conn = sqlite3.connect(export_store)
    texts = [t for (t,) in conn.execute("SELECT text FROM recommendations WHERE is_pledge = 0")]
    literal = sum(1 for t in texts if re.search(rf"\b{other}\b", t, re.I))
    assert n_one >= literal


def test_every_record_has_a_language_and_lemmas(export_store):
    conn = sqlite3.connect(export_store)
    rows = conn.execute("SELECT language, count(*), sum(lemmas IS NULL) FROM recommendations GROUP BY language").fetchall()
    assert rows and all(lang == "en" and missing == 0 for lang, _, missing in rows), rows  # UPR Info's database is English
    lemmas = conn.execute("SELECT lemmas FROM recommendations WHERE text LIKE '% women %' LIMIT 1").fetchone()[0].split()
    assert "woman" in lemmas and "women" not in lemmas


# constructed rows, in the researcher's-list layout (docs/import.md)
ROWS = [
    ("Haiti", "Protect women and children against violence", "France"),
    ("Haiti", "Adopt a law on the rights of the child", "Brazil"),
    ("Haiti", "Protéger les femmes et les enfants contre la violence", "Canada"),
    ("Haiti", "Garantir le droit de chaque enfant à l'éducation", "Belgium"),
    ("Haiti", "Proteger a las mujeres y a los niños contra la violencia", "Mexico"),
    ("Haiti", "Garantizar los derechos de la mujer indígena", "Chile"),
]


@pytest.fixture
def multilingual(tmp_path, runner):
    path = tmp_path / "list.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Session"])
        for sur, text, rs in ROWS:
            w.writerow([sur, text, rs, "26"])
    db = tmp_path / "multi.db"
    res = runner.invoke(app, ["import", str(path), "--db", str(db)])
    assert res.exit_code == 0, res.output
    return db


def test_languages_are_detected_per_record(multilingual):
    conn = sqlite3.connect(multilingual)
    langs = dict(conn.execute("SELECT text, language FROM recommendations"))
    assert [langs[t] for _, t, _ in ROWS] == ["en", "en", "fr", "fr", "es", "es"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("woman", {0}),
        ("children", {0, 1}),
        ("femme", {2}),             # French plural found by its singular
        ("enfants", {2, 3}),        # and the singular by its plural
        ("mujeres", {4, 5}),        # Spanish
        ("niño", {4}),
        ('"derecho de la mujer"', {5}),     # a phrase matches the lemmas of its words, in order
        ('"mujer de derechos"', set()),     # not in another order
        ("violence", {0, 2}),       # the word as written still matches in any language (Porter on the text)
    ],
)
def test_lemma_search_per_language(multilingual, runner, query, expected):
    res = runner.invoke(app, ["search", query, "--format", "json", "--db", str(multilingual)])
    assert res.exit_code == 0, res.output
    import json

    found = {r["text"] for r in json.loads(res.stdout)}
    assert found == {ROWS[i][1] for i in expected}, query


def test_a_french_lemma_never_matches_an_english_text():
    # "des" is a French article; its English "lemma" must not find English texts through French rules
    assert analyse("Protect women", "en")[1] == "protect woman"
    assert analyse("Protéger les femmes", "fr")[1] == "fr_protéger fr_le fr_femme"
    assert detect_language("Garantizar los derechos de la mujer indígena") == "es"


def test_a_variant_that_finds_many_more_is_named_on_stderr(export_store, runner):
    n, note = count(runner, export_store, "disab")
    assert n == 0
    more, _ = count(runner, export_store, "disab*")
    assert more > 100
    assert f'words beginning with "disab" as well would find {more:,}' in note
    assert "search for disab* to include them" in note
    # no note where the word already finds its forms
    _, quiet = count(runner, export_store, "women")
    assert "note:" not in quiet


def test_migration_fills_lemmas_of_an_older_store(tmp_path, runner):
    """A store made before m011 (the committed v1 fixture) gets languages and lemmas when opened."""
    import shutil
    from pathlib import Path

    from uprfollow.store import open_store

    v1 = Path(__file__).parent / "fixtures" / "store-v1.db"
    db = tmp_path / "v1.db"
    shutil.copy(v1, db)
    open_store(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM recommendations WHERE language = 'en' AND lemmas != ''").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM recommendations").fetchone()[0]
    n, _ = count(runner, db, "girl")  # the fixture says "girls"
    assert n == 1
