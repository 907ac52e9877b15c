"""The faults found under attack (issue 10): each input is constructed by the test, each test failed before its fix."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from mia_fixtures import synthetic_store
from typer.testing import CliRunner

from uprfollow.cli import app
from uprfollow.sample import UPR_INFO_CSV_HEADER

runner = CliRunner()
ROW = ["Haiti", "GRULAC", "OAS", "Adopt a law on legal aid [fictional]", "France", "WEOG", "EU", "Accepted", "5", "Justice", "12"]


def upr(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([UPR_INFO_CSV_HEADER, *rows])
    return buf.getvalue().encode("utf-8")


def xlsx_with_cell(path: Path, ref: str) -> Path:
    """A tiny workbook: a header, one row, and one stray cell at `ref` (constructed)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Recommendation", "State under review"])
    ws.append(["Adopt a law on legal aid [fictional]", "Haiti"])
    ws[ref] = "x"
    wb.save(path)
    return path


@pytest.mark.parametrize("ref", ["XFD1048576", "ZZ400000", "AAA1000000"])
@pytest.mark.parametrize("command", ["import", "ingest"])
def test_a_stray_far_cell_is_refused_before_reading(ref, command, tmp_path):
    path = xlsx_with_cell(tmp_path / "far.xlsx", ref)
    args = ["--stakeholder", "X", "--type", "ngo", "--sur", "HTI"] if command == "ingest" else []
    if command == "ingest":
        synthetic_store(tmp_path / "upr.db", ["HTI"], assess=False)
    r = upr(command, path, *args, "--db", tmp_path / "upr.db")
    assert r.exit_code == 1, r.output
    assert f"has cells up to {ref}" in r.output and "upr reads at most 20,000,000" in r.output


def test_a_sheet_within_the_limit_is_read(tmp_path):
    path = xlsx_with_cell(tmp_path / "near.xlsx", "B3")
    r = upr("import", path, "--dry-run", "--db", tmp_path / "upr.db")
    assert r.exit_code == 1  # B3 holds 'x' with no State: a row error, not a refusal of the sheet
    assert "has cells up to" not in r.output and "row 3" in r.output


def test_a_truncated_last_row_is_a_row_error(tmp_path):
    whole = csv_bytes([ROW, [*ROW[:3], "Ratify the Convention [fictional]", *ROW[4:]]])
    cut = whole[: whole.index(b"Ratify the Conv") + 15]  # the file ends in the middle of the last row's text
    path = tmp_path / "cut.csv"
    path.write_bytes(cut)
    r = upr("import", path, "--db", tmp_path / "upr.db")
    assert r.exit_code == 1, r.output
    assert "row 3" in r.stderr and "no recommending State" in r.stderr and "cut off" in r.stderr
    assert not (tmp_path / "upr.db").exists()


def test_a_damaged_deflate_stream_is_a_clean_error(tmp_path):
    good = xlsx_with_cell(tmp_path / "good.xlsx", "B2")
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start : start + 8] = b"\xff" * 8  # inside the packed data: an invalid deflate block
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(data)
    for args in (("import", bad), ("ingest", bad, "--stakeholder", "X", "--type", "ngo")):
        r = upr(*args, "--db", tmp_path / "upr.db")
        assert r.exit_code == 1, r.output
        assert "damaged zip" in r.output and "Traceback" not in r.output


def test_a_stale_part_file_is_removed_by_the_next_write(tmp_path):
    from uprfollow.paths import replace_atomically

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".MIA-HTI-cycle2-en.pdf.upr{dead.stdout.strip()}.abcd1234.part"
    stale.write_bytes(b"half a PDF")
    live = tmp_path / f".MIA-FRA-cycle2-en.pdf.upr{os.getppid()}.abcd1234.part"  # a running process's file stays
    live.write_bytes(b"being written")
    other = tmp_path / "notes.part"
    other.write_bytes(b"not ours")
    with replace_atomically(tmp_path / "MIA-BRA-cycle2-en.pdf") as f:
        f.write(b"%PDF")
    assert not stale.exists() and live.exists() and other.exists()
    assert (tmp_path / "MIA-BRA-cycle2-en.pdf").read_bytes() == b"%PDF"


def test_a_sheet_of_a_state_reviewed_in_two_sessions_ingests_back(tmp_path):
    from openpyxl import load_workbook

    db = tmp_path / "upr.db"
    synthetic_store(db, ["HTI"], per_state=5, session=1, assess=False)
    synthetic_store(db, ["HTI"], per_state=5, session=13, assess=False, seed=2)
    sheet = tmp_path / "hti.xlsx"
    r = upr("sheet", "HTI", "-o", sheet, "--db", db)
    assert r.exit_code == 0, r.output
    wb = load_workbook(sheet)
    ws = wb.active
    assert ws["E3"].value == "1, 13"
    ws["C4"], ws["E4"], ws["E5"] = "Fictional NGO", "ngo", "2020-01-01"
    for row in range(8, 18):
        ws.cell(row, 7).value = "Fully implemented"
    wb.save(sheet)
    r = upr("ingest", sheet, "--db", db)
    assert r.exit_code == 0, r.output
    assert "10 assessed (10 by id)" in r.stderr and "added 10" in r.stderr


@pytest.mark.parametrize("command", ["import", "ingest"])
def test_a_file_without_line_breaks_is_refused_early(command, tmp_path):
    path = tmp_path / "one-line.csv"
    path.write_bytes(b"abc," * 1_000_000)  # 4 MB, one line
    args = ["--stakeholder", "X", "--type", "ngo", "--sur", "HTI"] if command == "ingest" else ["--dry-run"]
    r = upr(command, path, *args, "--db", tmp_path / "upr.db")
    assert r.exit_code == 1, r.output
    assert "row 1: refused: a line of " in r.output and "at most 1,048,576" in r.output


@pytest.mark.parametrize("command", ["import", "ingest"])
def test_a_fifo_is_refused(command, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    args = ["--stakeholder", "X", "--type", "ngo"] if command == "ingest" else ["--dry-run"]
    r = upr(command, fifo, *args, "--db", tmp_path / "upr.db")  # hung for ever before
    assert r.exit_code == 1, r.output
    assert "a named pipe (FIFO), not a regular file" in r.output


def test_sample_refuses_a_planted_link(tmp_path):
    from uprfollow.sample import CSV_NAME, XLSX_NAME

    folder = tmp_path / "sample"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (folder / XLSX_NAME).symlink_to(victim)
    r = upr("sample", folder)
    assert r.exit_code == 1, r.output
    assert "is a symbolic link" in r.stderr
    assert victim.read_text() == "keep me"
    assert not (folder / CSV_NAME).exists()  # refused before anything was written


def test_mixed_encodings_name_the_file(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(csv_bytes([[*ROW[:3], "Adopt a law on légal aid [fictional]", *ROW[4:]]]) + "Haïti".encode("cp1252") + b",x\r\n")
    r = upr("import", path, "--dry-run", "--db", tmp_path / "upr.db")
    assert r.exit_code == 1
    assert f"Error: {path}: the file mixes encodings" in r.stderr


def test_an_over_long_field_names_its_row(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(csv_bytes([ROW, ROW, [*ROW[:3], "y" * 200_000, *ROW[4:]]]))
    r = upr("import", path, "--dry-run", "--db", tmp_path / "upr.db")
    assert r.exit_code == 1
    assert f"{path}: row 4 (line 4): not a readable CSV file: field larger than field limit" in r.stderr


def test_a_nul_byte_names_its_row(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(csv_bytes([ROW] * 200) + b"Haiti,\x00\r\n")  # past the first 8 KB, where a NUL means 'binary'
    r = upr("import", path, "--dry-run", "--db", tmp_path / "upr.db")
    assert r.exit_code == 1
    assert f"{path}: row 202: the text holds NUL bytes" in r.stderr


def test_history_keeps_the_order_of_entries_made_within_one_second(tmp_path):
    import json

    from uprfollow.sample import CSV_NAME, write_sample

    folder = write_sample(tmp_path / "s", size=40).folder
    db = tmp_path / "upr.db"
    for _ in range(3):
        assert upr("import", folder / CSV_NAME, "--db", db).exit_code == 0
    rows = json.loads(upr("db", "history", "--db", db, "--format", "json").stdout)
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert [r["added"] for r in rows] == [40, 0, 0]
    assert len({r["finished_at"] for r in rows}) == 3


def test_db_check_summary_reaches_stderr_under_quiet(tmp_path, monkeypatch):
    monkeypatch.setenv("UPR_QUIET", "0")  # restored after the test: --quiet sets it for the process
    db = synthetic_store(tmp_path / "upr.db", ["HTI"])
    r = upr("--quiet", "db", "check", "--db", db)
    assert r.exit_code == 0
    assert f"ok: the store {db} is healthy" in r.stderr


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_mia_all_workers_die_with_the_parent(sig, tmp_path):
    states = ["HTI", "FRA", "BRA", "KEN", "CHL", "IND", "JPN", "MEX"]
    db = synthetic_store(tmp_path / "upr.db", states, per_state=40)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "uprfollow", "mia", "--all", "--out-dir", str(out), "--workers", "2",
                             "--db", str(db)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = [k for k in _children(proc.pid)]
    assert len(workers) >= 2, "the pool did not start"
    time.sleep(1.0)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "workers outlived their parent"
    assert proc.stdout is not None
    proc.stdout.read()  # no worker holds the pipe: this returns
    assert not list(out.glob(".*.part")), "unfinished .part files left behind"
