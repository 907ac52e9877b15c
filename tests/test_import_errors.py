"""Bad input: a clear message naming file, row, column and value, exit code 1, and the store byte-for-byte unchanged."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from uprfollow.cli import app
from uprfollow.sample import UPR_INFO_CSV_HEADER

GOOD = [
    ["Haiti", "GRULAC", "OAS, ACS, OIF", f"Adopt a law on legal aid number {i} [fictional]", "France", "WEOG", "EU, OIF",
     "Accepted", "5", "Justice", "12"]
    for i in range(1, 6)
]
BAD_ROW = 7  # header is row 1, five good rows, then the bad one


def upr_info_csv(path: Path, rows: list[list[str]]) -> Path:
    """A UPR Info export as Excel for Mac writes it: MacRoman, CR line endings."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r").writerows([UPR_INFO_CSV_HEADER, *rows])
    path.write_bytes(buf.getvalue().encode("mac_roman"))
    return path


def with_bad(column: int, value: str) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        bad = list(GOOD[0])
        bad[3] = "Ratify the Optional Protocol to the Convention against Torture [fictional]"
        bad[column] = value
        return upr_info_csv(path, [*GOOD, bad])

    return build


def write(data: bytes) -> Callable[[Path], Path]:
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path

    return build


def truncated_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["SuR", "Rgrp", "Org", "Recommendation", "RS", "Rgrp", "Org", "Response", "Action", "Issue", "Session"])
    for row in GOOD * 40:
        ws.append(row)
    full = io.BytesIO()
    wb.save(full)
    data = full.getvalue()
    path.write_bytes(data[: len(data) // 2])
    return path


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

# (file name, builder or None for a missing file, message fragments)
CASES: list[tuple[str, Callable[[Path], Path] | None, list[str]]] = [
    ("missing.csv", None, ["missing.csv: file not found", "check the path and spelling"]),
    ("empty.csv", write(b""), ["empty.csv: the file is empty"]),
    ("report.xlsx", write(PDF), ["report.xlsx: this is a PDF document, not a recommendation list", "export the recommendations as .xlsx or .csv"]),
    ("truncated.xlsx", truncated_xlsx, ["truncated.xlsx: the file looks like an Excel/Word file (zip) but is damaged or truncated",
                                        "save the file again from its application, or re-download it"]),
    ("state.csv", with_bad(0, "Haitti"), ["state.csv: 1 problem, nothing imported",
                                          f"state.csv, row {BAD_ROW}, column 'A (To)': unknown State under review 'Haitti'",
                                          "did you mean Haiti (HTI)?"]),
    ("rs.csv", with_bad(4, "Frnace"), [f"rs.csv, row {BAD_ROW}, column 'E (From)': unknown recommending State 'Frnace'",
                                       "did you mean France (FRA)?"]),
    ("response.csv", with_bad(7, "Acepted"), [f"response.csv, row {BAD_ROW}, column 'H (Response)': unknown response 'Acepted'",
                                              "did you mean 'Accepted'"]),
    ("action.csv", with_bad(8, "7"), [f"action.csv, row {BAD_ROW}, column 'I (Action)': action category '7' is not 1-5",
                                      "see `upr vocab actions`"]),
    ("session.csv", with_bad(10, "abc"), [f"session.csv, row {BAD_ROW}, column 'K (Session)': session 'abc' is not a UPR session number",
                                          "expected a number 1-54"]),
    ("text.csv", with_bad(3, "   "), [f"text.csv, row {BAD_ROW}, column 'D (Text)': empty recommendation text"]),
    ("header.csv", write(b"Name,Age,City\r\nAlice,30,Paris\r\n"),
     ["header.csv: the header matches no known format (first row: 'Name', 'Age', 'City')",
      "expected a UPR Info export (SuR, Rgrp, Org, Recommendation, RS"]),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A store with 400 fictional recommendations, checkpointed so its files change only on a real write."""
    from uprfollow.importer import import_files
    from uprfollow.sample import CSV_NAME, write_sample
    from uprfollow.store import open_store

    folder = tmp_path_factory.mktemp("seeded")
    sample = write_sample(folder / "sample", size=400)
    db = folder / "upr.db"
    with open_store(db) as store:
        import_files(store, [sample.folder / CSV_NAME])
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def files_hash(db: Path) -> str:
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(db) + suffix)
        h.update(suffix.encode())
        h.update(p.read_bytes() if p.exists() else b"<absent>")
    return h.hexdigest()


def content(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.mark.parametrize("name,build,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_the_store_is_unchanged(name, build, expected, seeded, tmp_path, runner):
    db = tmp_path / "upr.db"
    shutil.copyfile(seeded, db)
    path = tmp_path / name
    if build is not None:
        build(path)
    before, dump = files_hash(db), content(db)
    assert sum("INSERT INTO \"recommendations\"" in line for line in dump) == 400

    result = runner.invoke(app, ["import", "--db", str(db), str(path)])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output}"
    assert files_hash(db) == before, "the store's files changed"
    assert content(db) == dump


def test_every_problem_of_a_file_is_listed(tmp_path, runner, seeded):
    """Several bad rows: all of them are named, and nothing from the file is stored."""
    db = tmp_path / "upr.db"
    shutil.copyfile(seeded, db)
    rows = [*GOOD, ["Haitti", *GOOD[0][1:]], [*GOOD[0][:8], "7", *GOOD[0][9:]], [*GOOD[0][:10], "abc"]]
    path = upr_info_csv(tmp_path / "three.csv", rows)
    before = files_hash(db)
    result = runner.invoke(app, ["import", "--db", str(db), str(path)])
    assert result.exit_code == 1
    assert "three.csv: 3 problems, nothing imported" in result.output
    assert "row 7, column 'A (To)'" in result.output
    assert "row 8, column 'I (Action)'" in result.output
    assert "row 9, column 'K (Session)'" in result.output
    assert files_hash(db) == before


def test_one_bad_file_among_good_ones_imports_nothing(tmp_path, runner, seeded):
    db = tmp_path / "upr.db"
    shutil.copyfile(seeded, db)
    good = upr_info_csv(tmp_path / "good.csv", GOOD)
    bad = with_bad(8, "7")(tmp_path / "bad.csv")
    before = files_hash(db)
    result = runner.invoke(app, ["import", "--db", str(db), str(good), str(bad)])
    assert result.exit_code == 1
    assert "1 problem, nothing imported" in result.output
    assert files_hash(db) == before


def test_json_errors_name_the_place(tmp_path, runner, seeded):
    import json

    db = tmp_path / "upr.db"
    shutil.copyfile(seeded, db)
    path = with_bad(0, "Haitti")(tmp_path / "state.csv")
    result = runner.invoke(app, ["import", "--db", str(db), "--format", "json", str(path)])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["problems"] == [
        {
            "message": "unknown State under review 'Haitti'",
            "file": str(path),
            "row": BAD_ROW,
            "column": "A (To)",
            "value": "Haitti",
            "hint": "did you mean Haiti (HTI)? To keep this spelling: upr vocab add-alias \"Haitti\" HTI",
        }
    ]


def test_failed_first_import_leaves_no_store(tmp_path, runner):
    """Where there was no store, a refused import does not leave an empty one behind."""
    from uprfollow.cli import app

    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    target = tmp_path / "never.db"
    result = runner.invoke(app, ["import", "--db", str(target), str(bad)])
    assert result.exit_code == 1
    assert "the file is empty" in result.output
    assert not target.exists()
