"""OHCHR lists of every layout: themes, SDGs and groups of persons as fields of their own, the State
under review and session where the document states them, recommending States in any form.

Real files: the cycle-4 Slovenia list and the China matrices in ../shared/data/ohchr-matrix.
The cycle-3 and Egypt-style documents are CONSTRUCTED by the tests (python-docx) from the layouts
described in issue 12; their texts are fictional.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest

from uprfollow.cli import app
from uprfollow.formats import ohchr_matrix

SHARED = Path(os.environ.get("UPR_SHARED") or Path(__file__).resolve().parents[2] / "shared")
MATRICES = SHARED / "data" / "ohchr-matrix"
SKIP_REASON = f"real data not found at {SHARED}/data (set UPR_SHARED to the shared folder): real-data tests skipped"
SLOVENIA = MATRICES / "Slovenia_UPR48_thematic_list_2025.docx"
SUBHEADERS = ("sdgs:", "affected persons:", "groups of persons:", "groups of persons")


def _slovenia() -> Path:
    if not SLOVENIA.exists():
        pytest.skip(SKIP_REASON)
    return SLOVENIA


def test_slovenia_cycle4_fields_are_clean() -> None:
    result = ohchr_matrix.read(_slovenia())
    records = list(result.records)
    assert len(records) == 254
    assert result.defaults["sur"] == "Slovenia" and result.defaults["session"] == "48"
    for r in records:
        for value in r.themes + r.sdgs + r.groups:
            assert not value.startswith(("-", "–")), (r.row, value)
            assert value.strip().lower().rstrip(":") + ":" not in SUBHEADERS, (r.row, value)
        assert r.themes and r.sdgs and r.groups, r.row
        assert not any(re.match(r"\d{1,2} - ", t) for t in r.themes), (r.row, r.themes)  # SDGs are not themes
    first = records[0]
    assert first.paragraph == "140.7" and first.rs == ["Maldives", "Portugal"]
    assert first.themes == ["Ratification of & accession to international instruments",
                            "Economic, social & cultural rights - general measures of implementation"]
    assert first.groups == ["Public officials"]
    assert first.sdgs[0] == "1 - NO POVERTY" and len(first.sdgs) == 8
    assert any("16 - PEACE, JUSTICE AND STRONG INSTITUTIONS" in r.sdgs for r in records)


def test_slovenia_imports_without_hints_and_is_searchable(runner, db_path) -> None:
    path = _slovenia()
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert "254 new" in result.output
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT DISTINCT sur, session, cycle FROM recommendations").fetchall() == [("SVN", 48, 4)]
    assert conn.execute("SELECT count(*) FROM recommendation_themes WHERE theme LIKE '-%' OR theme LIKE '%:'").fetchone() == (0,)
    assert conn.execute("SELECT count(DISTINCT rec_pk) FROM recommendation_sdgs WHERE sdg = 16").fetchone() == (94,)
    assert conn.execute("SELECT count(*) FROM recommendation_groups WHERE grp = 'Public officials'").fetchone()[0] > 200
    conn.close()
    stats = runner.invoke(app, ["stats", "--db", str(db_path), "--by", "sdg", "--format", "json"])
    assert stats.exit_code == 0, stats.output
    rows = json.loads(stats.stdout)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    sdg16 = next(r for r in rows if r["sdg"] == 16)
    assert sdg16["count"] == 94 and sdg16["count"] == max(r["count"] for r in rows)  # (pairs: SDG 10 ties with it)
    count = runner.invoke(app, ["search", "--db", str(db_path), "--sdg", "16", "--group", "public officials",
                                "--theme", "Equality & non-discrimination", "--count"])
    assert count.exit_code == 0, count.output
    assert 0 < int(count.stdout.strip()) < 94
    by_group = runner.invoke(app, ["stats", "--db", str(db_path), "--by", "group", "--format", "csv"])
    assert by_group.exit_code == 0 and "Public officials" in by_group.stdout


def test_contradicting_sur_is_an_error_and_writes_nothing(runner, db_path) -> None:
    path = _slovenia()
    result = runner.invoke(app, ["import", "--db", str(db_path), "--sur", "AUT", str(path)])
    assert result.exit_code == 1
    assert "contradicts" in result.output and "Slovenia" in result.output
    assert not db_path.exists()
    same = runner.invoke(app, ["import", "--db", str(db_path), "--sur", "Slovenia", "--session", "48", str(path)])
    assert same.exit_code == 0, same.output


def _constructed(path: Path, header: str | None, rows: list[list[str]], columns: list[str]) -> Path:
    """A CONSTRUCTED OHCHR list (fictional texts) with the given page header and table rows."""
    import docx

    document = docx.Document()
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    table = document.add_table(rows=0, cols=len(columns))
    for values in [columns, *rows]:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = value
    document.save(str(path))
    return path


CYCLE3_ROW = [
    "120.1 Ratify the fictional Convention (the former Yugoslav Republic of Macedonia);\n"
    "Source of position: A/HRC/28/16/Add.1 - Para. 2",
    "Supported",
    "- A12 Acceptance of international norms\n- B31 Equality & non-discrimination\nSDGs:\n"
    "- 16 - PEACE, JUSTICE AND STRONG INSTITUTIONS\n- 5 - GENDER EQUALITY\nAffected persons:\n- children\n- women",
    "",
]
CYCLE3_COLUMNS = ["Recommendation", "Position", "Full list of themes", "Assessment/comments on level of implementation"]


def test_cycle3_sublists_and_session_from_source_of_position(tmp_path, runner, db_path) -> None:
    """CONSTRUCTED cycle-3 list: 'SDGs:' and 'Affected persons:' inside the themes cell; the header names the
    State and cycle but not the session, which comes from A/HRC/28/16 (HRC 28 adopted UPR 20's outcomes)."""
    rows = [
        CYCLE3_ROW,
        ["120.2 Adopt the fictional plan (Chile) (Estonia);\nSource of position: A/HRC/28/16/Add.1 - Para. 2", "Noted",
         "- D51 Administration of justice & fair trial\nAffected persons:\n- judges, lawyers and prosecutors", ""],
        ["120.3 Ratify the fictional Protocol (ICRMW) (Chile); (Estonia);\nSource of position: A/HRC/28/16/Add.1 - Para. 2",
         "Supported", "- A12 Acceptance of international norms", ""],
        ["120.4 Consider the fictional law (Holy See); (State of Palestine); (Bolivarian Republic of Venezuela);\n"
         "Source of position: A/HRC/28/16/Add.1 - Para. 2", "Supported", "- A12 Acceptance of international norms", ""],
    ]
    path = _constructed(tmp_path / "list.docx", "UPR of Egypt - Second Cycle\tThematic list of recommendations", rows, CYCLE3_COLUMNS)
    result = ohchr_matrix.read(path)
    records = list(result.records)
    assert result.defaults["sur"] == "Egypt" and result.defaults["sur_from"] == "the page header"
    assert result.defaults["session"] == "20" and "A/HRC/28/16" in result.defaults["session_from"]
    first = records[0]
    assert first.themes == ["A12 Acceptance of international norms", "B31 Equality & non-discrimination"]
    assert first.sdgs == ["16 - PEACE, JUSTICE AND STRONG INSTITUTIONS", "5 - GENDER EQUALITY"]
    assert first.groups == ["children", "women"]
    assert first.rs == ["the former Yugoslav Republic of Macedonia"]
    assert records[1].rs == ["Chile", "Estonia"]
    assert records[2].rs == ["Chile", "Estonia"] and "(ICRMW)" in (records[2].text or "")
    assert records[3].rs == ["Holy See", "State of Palestine", "Bolivarian Republic of Venezuela"]
    imported = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert imported.exit_code == 0, imported.output
    assert "session 20 read from the Source of Position" in imported.output
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT DISTINCT sur, session FROM recommendations").fetchall() == [("EGY", 20)]
    assert conn.execute("SELECT iso3 FROM recommending_states ORDER BY rec_pk, position").fetchall() == [
        ("MKD",), ("CHL",), ("EST",), ("CHL",), ("EST",), ("VAT",), ("PSE",), ("VEN",)]
    assert sorted(conn.execute("SELECT sdg FROM recommendation_sdgs").fetchall()) == [(5,), (16,)]


def test_state_and_session_from_the_file_name_say_so(tmp_path, runner, db_path) -> None:
    """CONSTRUCTED list without a page header or symbol: the file name is the last resort, and the output says so."""
    row = ["3.1 Adopt the fictional plan (Chile);", "Supported", "- A12 Acceptance of international norms", ""]
    path = _constructed(tmp_path / "Slovenia_UPR48_list.docx", None, [row], CYCLE3_COLUMNS)
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    assert "State under review SVN read from the file name" in result.output
    assert "session 48 read from the file name" in result.output
    # the file name is no document: --sur may override it without an error
    other = _constructed(tmp_path / "Slovenia_UPR48_other.docx", None, [row], CYCLE3_COLUMNS)
    again = runner.invoke(app, ["import", "--db", str(db_path), "--sur", "AUT", str(other)])
    assert again.exit_code == 0, again.output
    assert sqlite3.connect(db_path).execute("SELECT sur FROM recommendations ORDER BY pk").fetchall() == [("SVN",), ("AUT",)]


def test_a_word_document_that_is_not_a_list_is_refused(tmp_path, runner, db_path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Advance questions to Freedonia. Question 1: what has been done?")
    path = tmp_path / "questions.docx"
    document.save(str(path))
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code != 0
    assert "without an OHCHR matrix table" in result.output
    assert not db_path.exists()


def test_migration_m008_cleans_themes_stored_before(tmp_path) -> None:
    """Theme rows stored by earlier versions (markers, sub-headers, SDGs among themes) are cleaned once."""
    from uprfollow.migrations import MIGRATIONS, m008_themes_sdgs_groups, run_script

    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("BEGIN")
    for name, fn in MIGRATIONS:
        if name == "m008_themes_sdgs_groups":
            break
        fn(conn)
    run_script(conn, """
        INSERT INTO countries VALUES ('SVN', 'SI', 'Slovenia', 1, 'EEG', 'EU');
        INSERT INTO recommendations (pk, id, sur, text) VALUES (1, 'SVN-48-x', 'SVN', 'Ratify the fictional Convention');
        INSERT INTO recommendation_themes VALUES (1, '- Ratification of & accession to international instruments');
        INSERT INTO recommendation_themes VALUES (1, 'Groups of Persons:');
        INSERT INTO recommendation_themes VALUES (1, '16 - PEACE, JUSTICE AND STRONG INSTITUTIONS');
        INSERT INTO recommendation_themes VALUES (1, 'A12 Acceptance of international norms');
    """)
    m008_themes_sdgs_groups(conn)
    assert sorted(conn.execute("SELECT theme FROM recommendation_themes").fetchall()) == [
        ("A12 Acceptance of international norms",), ("Ratification of & accession to international instruments",)]
    assert conn.execute("SELECT rec_pk, sdg FROM recommendation_sdgs").fetchall() == [(1, 16)]


def test_uhri_export_gives_sdgs_and_groups_too(tmp_path, runner, db_path) -> None:
    """CONSTRUCTED UHRI export (tests/fixtures_uhri.py, fictional rows): 'Sdgs' targets (16.3 ...) give goal 16,
    'Affected Persons' the groups of persons."""
    from fixtures_uhri import SAMPLE_ROWS, make_uhri_xlsx

    path = make_uhri_xlsx(tmp_path / "uhri.xlsx", [{**r, "sur": "Haiti", "rs": ["Chile"]} for r in SAMPLE_ROWS])
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT DISTINCT sdg FROM recommendation_sdgs").fetchall() == [(16,)]
    groups = {g for (g,) in conn.execute("SELECT grp FROM recommendation_groups")}
    assert {"persons deprived of their liberty", "general", "persons with disabilities"} <= groups


def test_state_and_session_from_the_title(tmp_path) -> None:
    """CONSTRUCTED list whose body title, not a page header, names the State and the session."""
    import docx

    document = docx.Document()
    document.add_paragraph("Universal Periodic Review of Egypt: thematic list of recommendations, 20th session")
    table = document.add_table(rows=0, cols=4)
    for values in [CYCLE3_COLUMNS, ["1.1 Adopt the fictional plan (Chile);", "Supported", "- A12 Acceptance of international norms", ""]]:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    path = tmp_path / "list.docx"
    document.save(str(path))
    defaults = ohchr_matrix.read(path).defaults
    assert defaults == {"sur": "Egypt", "sur_from": "the title", "session": "20", "session_from": "the title"}
