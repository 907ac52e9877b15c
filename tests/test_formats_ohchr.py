"""OHCHR matrix reader, on the two real China matrices (2013, 2018) in ../shared/data."""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from uprfollow.formats import ohchr_matrix
from uprfollow.formats.base import Record

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPR_SHARED") or PROJECT.parent / "shared")
MATRICES = SHARED / "data" / "ohchr-matrix"
REFERENCE = SHARED / "data" / "reference" / "upr_info_states_iso3_groups.csv"

# year -> (recommendations, Supported, Noted, SuR, session)
EXPECTED = {
    2013: (252, 204, 48, "China", "17"),
    2018: (346, 284, 62, "China", "31"),
}


def _matrix(year: int) -> Path:
    path = MATRICES / f"Matrix_recommendations_{year}.docx"
    if not path.exists():
        pytest.skip("../shared/data not present: real-data tests need the shared folder")
    return path


_cache: dict[int, tuple[list[Record], dict[str, str], int | None]] = {}


def _read(year: int) -> tuple[list[Record], dict[str, str], int | None]:
    if year not in _cache:
        result = ohchr_matrix.read(_matrix(year))
        assert result.format == "ohchr-matrix"
        _cache[year] = (list(result.records), result.defaults, result.total)
    return _cache[year]


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_sniff(year: int) -> None:
    path = _matrix(year)
    assert ohchr_matrix.sniff(path, path.read_bytes()[:512])


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_counts_and_positions(year: int) -> None:
    records, _defaults, total = _read(year)
    n, supported, noted, _sur, _session = EXPECTED[year]
    positions = Counter(r.response for r in records)
    print(f"{year}: {len(records)} recommendations, positions {dict(positions)}")
    assert len(records) == n
    assert total == n
    assert positions == {"Supported": supported, "Noted": noted}


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_records_are_complete(year: int) -> None:
    records, _defaults, _total = _read(year)
    paragraphs = [r.paragraph for r in records]
    assert all(p and re.fullmatch(r"\d+\.\d+", p) for p in paragraphs)
    assert len(set(paragraphs)) == len(paragraphs)
    rows = [r.row for r in records]
    assert len(set(rows)) == len(rows) and min(rows) >= 2
    for r in records:
        assert r.text and r.text.strip(), r
        assert r.rs, r
        assert "source of position" not in r.text.lower(), r
        assert not r.text.startswith(r.paragraph or "?"), r
        assert r.document and r.document.startswith("A/HRC/"), r
        assert r.themes and all(re.match(r"[A-Z]\d*\s", t) for t in r.themes), r
        assert not any(t.lower().startswith("affected persons") for t in r.themes), r
        assert r.columns["text"] == "Recommendation"
        assert r.columns["response"] == "Position"
        # no recommending State is left in the text: "(Tunisia);"
        for name in r.rs:
            assert f"({name})" not in r.text, (name, r.text)


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_defaults_from_page_header(year: int) -> None:
    _records, defaults, _total = _read(year)
    _n, _s, _no, sur, session = EXPECTED[year]
    assert defaults == {"sur": sur, "session": session, "sur_from": "the page header", "session_from": "the page header"}


def test_known_recommendations() -> None:
    records, _d, _t = _read(2018)
    by_para = {r.paragraph: r for r in records}
    first = by_para["28.212"]
    assert first.rs == ["Tunisia"]
    assert first.response == "Supported"
    assert first.document == "A/HRC/40/6/Add.1 - Para. 2"
    assert first.text is not None and first.text.startswith("Continue its legislative, judicial")
    assert first.text.endswith("Economic, Social and Cultural Rights")
    assert first.themes[0] == "A12 Acceptance of international norms"
    # clustered recommendation: several States, consecutive parentheses
    assert by_para["28.4"].rs == ["New Zealand", "Uruguay", "Mali"]
    # a dated parenthesis before the State stays in the text
    assert by_para["28.74"].rs == ["Kyrgyzstan"]
    assert by_para["28.74"].text is not None and by_para["28.74"].text.endswith("(2016–2020)")
    assert "(the Paris Principles)" in (by_para["28.14"].text or "")
    assert by_para["28.14"].rs == ["Niger", "Philippines", "Indonesia"]

    records, _d, _t = _read(2013)
    by_para = {r.paragraph: r for r in records}
    assert by_para["186.28"].rs == ["Mongolia"]
    assert by_para["186.28"].document == "A/HRC/25/5/Add.1 - Para. 186.28"
    assert by_para["186.23"].rs == ["Argentina", "France"]
    assert "Bolivia (Plurinational State of)" in {n for r in records for n in r.rs}


def test_every_state_resolves_to_iso3() -> None:
    if not REFERENCE.exists():
        pytest.skip("../shared/data not present: real-data tests need the shared folder")
    known: dict[str, str] = {}
    with REFERENCE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            known[row["upr_info_name"]] = row["iso3"]
    with (PROJECT / "data" / "country_aliases_ohchr.csv").open(encoding="utf-8") as f:
        aliases = list(csv.DictReader(f))
    for row in aliases:
        assert re.fullmatch(r"[A-Z]{3}", row["iso3"]), row
        assert row["alias"] not in known, f"{row['alias']} is already a UPR Info name"
        known[row["alias"]] = row["iso3"]
    names = {n for year in EXPECTED for r in _read(year)[0] for n in r.rs}
    unresolved = sorted(n for n in names if n not in known)
    assert not unresolved, unresolved
    assert known["Bolivia (Plurinational State of)"] == "BOL"


def test_split_states() -> None:
    assert ohchr_matrix.split_states("Brazil, Mexico") == ["Brazil", "Mexico"]
    assert ohchr_matrix.split_states("Brazil and Mexico") == ["Brazil", "Mexico"]
    assert ohchr_matrix.split_states("Bolivia (Plurinational State of)") == ["Bolivia (Plurinational State of)"]
    assert ohchr_matrix.split_states("Trinidad and Tobago, Bosnia and Herzegovina and Chile") == [
        "Trinidad and Tobago",
        "Bosnia and Herzegovina",
        "Chile",
    ]
    assert ohchr_matrix.split_states("United Kingdom of Great Britain and Northern Ireland") == [
        "United Kingdom of Great Britain and Northern Ireland"
    ]


def test_strip_states() -> None:
    text, rs = ohchr_matrix.strip_states("Do something (Bolivia (Plurinational State of));")
    assert (text, rs) == ("Do something", ["Bolivia (Plurinational State of)"])
    text, rs = ohchr_matrix.strip_states("Do A (Brazil, Mexico); Do B under the Covenant (ICCPR) (Chile).")
    assert rs == ["Brazil", "Mexico", "Chile"]
    assert text == "Do A; Do B under the Covenant (ICCPR)."
    text, rs = ohchr_matrix.strip_states("Implement the Plan (2016–2020) (Kyrgyzstan);")
    assert (text, rs) == ("Implement the Plan (2016–2020)", ["Kyrgyzstan"])


def test_sniff_rejects_other_zip(tmp_path: Path) -> None:
    other = tmp_path / "other.docx"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("word/document.xml", "<w:document><w:t>Minutes of the meeting</w:t></w:document>")
    assert not ohchr_matrix.sniff(other, other.read_bytes()[:8])
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n")
    assert not ohchr_matrix.sniff(plain, plain.read_bytes())


def test_older_layout(tmp_path: Path) -> None:
    """Recommendation | Recommending state/s | Position | Full list of rights/affected persons."""
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "UPR of Freedonia (1st Cycle – 9th session)\tThematic list"
    table = document.add_table(rows=0, cols=4)
    rows = [
        ["Recommendation", "Recommending state/s", "Position", "Full list of rights/affected persons"],
        ["Right or area: 2.1 Acceptance of international norms"] * 4,
        [
            "12.3. Ratify the fictional Convention\nSource of position: A/HRC/99/2/Add.1",
            "Ruritania, Syldavia and Trinidad and Tobago",
            "Supported",
            "2.1 Acceptance of international norms\nAffected persons:\n- general",
        ],
        ["12.4. Consider the fictional Protocol (Borduria);", "Borduria", "Noted", ""],
    ]
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    path = tmp_path / "old.docx"
    document.save(str(path))
    assert ohchr_matrix.sniff(path, path.read_bytes()[:8])
    result = ohchr_matrix.read(path)
    records = list(result.records)
    assert {k: result.defaults[k] for k in ("sur", "session")} == {"sur": "Freedonia", "session": "9"}
    assert [r.paragraph for r in records] == ["12.3", "12.4"]
    assert records[0].rs == ["Ruritania", "Syldavia", "Trinidad and Tobago"]
    assert records[0].text == "Ratify the fictional Convention"
    assert records[0].document == "A/HRC/99/2/Add.1"
    assert records[0].themes == ["2.1 Acceptance of international norms"]
    assert records[0].groups == ["general"]  # the "Affected persons:" sub-list, without its marker
    assert records[0].columns["rs"] == "Recommending state/s"
    assert records[1].rs == ["Borduria"] and records[1].text == "Consider the fictional Protocol"
    assert records[1].themes == ["2.1 Acceptance of international norms"]  # from the group row
    assert [r.row for r in records] == [3, 4]
