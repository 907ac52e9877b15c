"""Vocabularies: the spellings real files use resolve; unknown ones get close suggestions."""

from __future__ import annotations

import pytest

from uprfollow import vocab


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("Bolivia", "BOL"), ("Bolivia (Plurinational State of)", "BOL"), ("DPR Korea", "PRK"), ("Republic of Korea", "KOR"),
        ("Cote d'Ivoire", "CIV"), ("Côte d’Ivoire", "CIV"), ("Turkey", "TUR"), ("Türkiye", "TUR"), ("Macedonia FYR", "MKD"),
        ("Swaziland", "SWZ"), ("Eswatini", "SWZ"), ("St Lucia", "LCA"), ("Saint Lucia", "LCA"), ("Viet Nam", "VNM"),
        ("haiti", "HTI"), ("HTI", "HTI"), ("hti", "HTI"), ("Holy See", "VAT"), ("Palestine", "PSE"),
        ("Antigua & Barbuda", "ATG"), ("Antigua and Barbuda", "ATG"), ("St Vincent & the Grenadines", "VCT"),
    ],
)
def test_country_spellings(name, iso3):
    assert vocab.country_code(name) == iso3


def test_observers_are_not_errors():
    assert vocab.countries()["VAT"].regional_group == "Observer"
    assert vocab.countries()["PSE"].regional_group == "Observer"


def test_unknown_country_suggests():
    assert vocab.country_code("Hati") is None
    assert "Haiti (HTI)" in vocab.country_hint("Hati")


@pytest.mark.parametrize(("raw", "canonical"), [("Supported", "Accepted"), ("Noted", "Noted"), ("Supported/Noted", "Noted"),
                                                 ("Under consideration", "Pending"), ("Voluntary Pledge", "Voluntary Pledge"),
                                                 ("accepted", "Accepted"), ("Maybe", None)])
def test_responses(raw, canonical):
    assert vocab.canonical_response(raw) == canonical


@pytest.mark.parametrize(("raw", "number"), [("12", 12), ("12.0", 12), (12.0, 12), ("36th Session", 36), ("- 36th session", 36)])
def test_sessions(raw, number):
    assert vocab.session_number(raw) == number


@pytest.mark.parametrize("raw", ["abc", "0", "55", "12.5"])
def test_bad_sessions(raw):
    with pytest.raises(ValueError):
        vocab.session_number(raw)


def test_cycles_follow_domain():
    assert [vocab.cycle_of(s) for s in (1, 12, 13, 26, 27, 40, 41, 54)] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_actions_and_issues():
    assert vocab.action_level("5.0") == 5
    with pytest.raises(ValueError):
        vocab.action_level("7")
    assert len(vocab.issues()) == 54
    assert vocab.issue_name("women's rights") == "Women's rights"


def test_mistyped_iso3_code_suggests_its_anagram_first():
    """A newcomer typed `upr mia HIT`: Haiti (HTI) comes before Italy (ITA)."""
    from uprfollow import vocab

    assert vocab.closest_countries("HIT")[0] == "Haiti (HTI)"
    assert vocab.closest_countries("NCH")[0] == "China (CHN)"
    assert vocab.closest_countries("Hati") == ["Haiti (HTI)"]  # names still go by spelling
