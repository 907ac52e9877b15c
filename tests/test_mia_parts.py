"""The digest's small parts: number and date formats per language, the word tables, charts, CSS strings, file modes."""

from __future__ import annotations

import os
import re

import pytest

from uprfollow.iri import ALL_LEVELS, Summary
from uprfollow.report import i18n
from uprfollow.report.charts import level_bars, stacked_bars
from uprfollow.report.render import css_string


@pytest.mark.parametrize(
    ("lang", "value", "decimals", "expected"),
    [
        ("en", 1234567, 0, "1,234,567"),
        ("fr", 1234567, 0, "1\u202f234\u202f567"),
        ("es", 1234567, 0, "1.234.567"),
        ("es", 1234, 0, "1234"),          # CLDR: no grouping below 10,000 in Spanish
        ("es", 12345, 0, "12.345"),
        ("en", 0.75, 2, "0.75"),
        ("fr", 0.75, 2, "0,75"),
        ("es", 0.5, 2, "0,50"),
        ("en", 136, 0, "136"),
        ("en", -1500, 0, "-1,500"),
    ],
)
def test_format_number(lang, value, decimals, expected):
    assert i18n.format_number(value, lang, decimals) == expected


def test_percent_and_dates():
    assert i18n.format_percent(0.4, "en") == "40%"
    assert i18n.format_percent(0.4, "fr") == "40\u00a0%"
    assert i18n.format_percent(0.4, "es") == "40\u00a0%"
    assert i18n.format_date("2013-11-04", "en") == "4 November 2013"
    assert i18n.format_date("2013-11-04T10:00:00+00:00", "fr") == "4 novembre 2013"
    assert i18n.format_date("2014-08-01", "fr") == "1er août 2014"
    assert i18n.format_date("2013-11-04", "es") == "4 de noviembre de 2013"
    assert i18n.format_date("sometime", "en") == "sometime"
    assert i18n.format_date(None, "en") == ""
    assert i18n.join_list(["France", "Chile", "Spain"], "fr") == "France, Chile et Spain"
    assert i18n.format_number(1234, "es") == "1234" and i18n.format_number(12345, "es") == "12.345"
    assert i18n.ordinal(1, "fr") == "1re" and i18n.ordinal(12, "fr") == "12e" and i18n.ordinal(12, "en") == "12"


def test_names_and_french_typography():
    """State names from CLDR (Babel) by the alpha-2 code of data/countries.csv; issue names from data/issues_i18n.csv."""
    from uprfollow import vocab

    assert i18n.state_name("HTI", "fr", "Haiti") == "Haïti" and i18n.state_name("HTI", "es", "Haiti") == "Haití"
    assert i18n.state_name("BEL", "fr", "Belgium") == "Belgique" and i18n.state_name("BEL", "en", "Belgium") == "Belgium"
    assert i18n.state_name("XXX", "fr", "Nowhere") == "Nowhere"  # no alpha-2 code: the English name stays
    missing = [c.iso3 for c in vocab.countries().values() if c.un_member and i18n.state_name(c.iso3, "fr") == c.iso3]
    assert missing == []  # every UN member has a French name
    assert set(i18n.issue_names()) == set(vocab.issues())  # every one of the 54 issues, in the three languages
    assert all(n["fr"] and n["es"] for n in i18n.issue_names().values())
    assert i18n.issue_name("Women's rights", "fr") == "Droits des femmes"
    assert i18n.issue_name("A12 Acceptance of international norms", "es") == "A12 Acceptance of international norms"
    nn = "\u202f"
    assert i18n.typography("Annexe : voir « ceci » ; bien ! non ?", "fr") == f"Annexe{nn}: voir «{nn}ceci{nn}»{nn}; bien{nn}! non{nn}?"
    assert i18n.typography("http://example.org 10:30", "fr") == "http://example.org 10:30"
    assert i18n.typography("Anexo: «x»", "es") == "Anexo: «x»"
    assert i18n.translator("fr")("annex") == f"Annexe{nn}: recommandations non évaluées"


def test_every_word_in_three_languages_with_the_same_placeholders():
    assert i18n.check_complete() == []
    for key, texts in i18n.WORDS.items():
        names = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in texts.items()}
        assert names["en"] - {"session"} <= names["fr"] | {"session"} and names["es"] == names["en"], key
    for lv in ALL_LEVELS:
        assert f"level_{lv}" in i18n.WORDS
    with pytest.raises(ValueError, match="unknown language"):
        i18n.translator("de")


def test_charts_are_escaped_svg_with_a_title():
    s = Summary(total=10, counts={"fully": 4, "partially": 3, "not": 1, "no_data": 1, "not_assessed": 1}, disputed=2)
    svg = level_bars(s, lambda lv: f"<{lv}>", lambda n, sh: f"{n} ({sh:.0%})", 'alt "text" <b>')
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert '<title>alt "text" &lt;b&gt;</title>' in svg
    assert "&lt;fully&gt;" in svg and "<fully>" not in svg
    assert "4 (40%)" in svg
    svg2 = stacked_bars([("Accepted & co", s)], str, str, "t")
    assert "Accepted &amp; co" in svg2
    assert level_bars(s, str, lambda n, sh: str(n), "t") == level_bars(s, str, lambda n, sh: str(n), "t")  # deterministic


def test_css_string_cannot_break_out():
    assert css_string('Page "x"') == '"Page \\22 x\\22 "'  # the space after a CSS escape ends it
    assert "</style>" not in css_string("</style><script>")
    assert css_string("plain words") == '"plain words"'


def test_written_digest_is_readable_by_others(tmp_path):
    from uprfollow.report import write_atomic

    path = tmp_path / "d.html"
    old = os.umask(0o022)
    try:
        write_atomic(path, b"x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["d.html"]


def test_output_suffix_decides_or_refuses(tmp_path, runner):
    """`-o x.html` writes HTML (not a PDF under an .html name); `-o x.docx` is refused before any work."""
    from uprfollow.cli import app

    result = runner.invoke(app, ["mia", "HTI", "-o", str(tmp_path / "x.docx")])
    assert result.exit_code == 2
    assert "a digest is a .pdf or .html file" in result.output
    result = runner.invoke(app, ["mia", "HTI", "--format", "html", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert "does not match --format html" in result.output


def test_matrix_digest_groups_by_theme_in_paragraph_order(matrices, tmp_path):
    """An OHCHR matrix gives themes, not UPR Info issues: the digest groups by each recommendation's first theme
    (not everything under "no issue"), and lists recommendations and the annex in paragraph order."""
    import sqlite3

    from mia_fixtures import assess_state

    from uprfollow.importer import import_files
    from uprfollow.report.data import build_digest, reading_order
    from uprfollow.store import open_store

    db = tmp_path / "chn.db"
    with open_store(db) as store:
        import_files(store, [matrices / "Matrix_recommendations_2018.docx"])
    conn = sqlite3.connect(db)
    assess_state(conn, "CHN")
    conn.commit()
    first_theme = dict(conn.execute(
        "SELECT rec_pk, theme FROM recommendation_themes t WHERE rowid = (SELECT min(rowid) FROM recommendation_themes WHERE rec_pk = t.rec_pk)"))
    conn.close()

    with open_store(db, readonly=True) as store:
        d = build_digest(store, "CHN")
    assert len(d.groups) > 10  # the matrix's themes, not one "no issue" group
    assert all(g.issue is not None and re.match(r"[A-Z]\d* ", g.issue) for g in d.groups), [g.issue for g in d.groups][:5]
    for g in d.groups:
        assert all(first_theme[s.pk] == g.issue for s in g.items)
        paragraphs = [tuple(int(n) for n in s.paragraph.split(".")) for s in g.items]
        assert paragraphs == sorted(paragraphs), g.issue
    codes = [g.issue.split()[0] for g in d.groups]
    assert codes == sorted(codes, key=lambda c: (c[0], int(c[1:] or 0)))  # OHCHR's order: A3 before A12
    assert sum(len(g.items) for g in d.groups) == len(d.assessed_items)
    assert d.not_assessed == sorted(d.not_assessed, key=reading_order)
    annex = [tuple(int(n) for n in s.paragraph.split(".")) for s in d.not_assessed]
    assert annex == sorted(annex) and len(annex) > 5
