"""Encodings chosen by plausibility, for CR, LF and CRLF files alike.

The real file is ../shared/data/upr-info-export-2015-sessions-14-17/14-17.csv (MacRoman, CR line
endings); its CRLF and LF variants are made by the test. The other files are CONSTRUCTED by the
test (fictional texts).
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from pathlib import Path

import pytest

from uprfollow.cli import app
from uprfollow.formats.sniff import decode, detect_encoding, plausibility

SHARED = Path(os.environ.get("UPR_SHARED") or Path(__file__).resolve().parents[2] / "shared")
MAC_CR = SHARED / "data" / "upr-info-export-2015-sessions-14-17" / "14-17.csv"
HEADER = ["State under review", "Session", "Recommendation", "Recommending State", "Response"]


@pytest.mark.parametrize("newline", [b"\r", b"\r\n", b"\n"])
def test_real_macroman_file_whatever_its_line_endings(newline: bytes) -> None:
    if not MAC_CR.exists():
        pytest.skip(f"real data not found at {MAC_CR} (set UPR_SHARED to the shared folder)")
    data = MAC_CR.read_bytes().replace(b"\r", newline)
    assert detect_encoding(data) == "mac_roman"
    score, bad, judged = plausibility(data, "mac_roman")
    assert bad == 0 and judged > 20
    text, _ = decode(data)
    assert "Ã" not in text and "√" not in text


def _file(tmp_path: Path, rows: list[list[str]], encoding: str, newline: str, name: str = "list.csv") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows([HEADER, *rows])
    path = tmp_path / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("encoding", ["mac_roman", "cp1252"])
def test_constructed_single_byte_files_read_right(tmp_path, runner, db_path, encoding: str, newline: str) -> None:
    """CONSTRUCTED: "Children’s Code" in MacRoman or Windows-1252, with each line ending."""
    rows = [["Haiti", "12", "Adopt the Children’s Code and the État’s réforme", "Chile", "Accepted"]] * 3
    rows = [[*r[:2], f"{r[2]} {i}", *r[3:]] for i, r in enumerate(rows)]
    path = _file(tmp_path, rows, encoding, newline)
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    texts = [t for (t,) in sqlite3.connect(db_path).execute("SELECT text FROM recommendations ORDER BY pk")]
    assert texts[0] == "Adopt the Children’s Code and the État’s réforme 0"


def test_macroman_bytes_that_happen_to_be_utf8_are_not_mixed(tmp_path, runner, db_path) -> None:
    """CONSTRUCTED: MacRoman "’é" is D5 8E, valid UTF-8 (an Armenian letter); the file is still one encoding."""
    rows = [["Haiti", "12", "Adopt l’école inclusive (l’État’é)", "Chile", "Accepted"],
            ["Haiti", "12", "Ratify the fictional Convention, caf\u00e9", "Chile", "Accepted"]]
    path = _file(tmp_path, rows, "mac_roman", "\r\n")
    assert b"\xd5\x8e" in path.read_bytes()
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 0, result.output
    texts = [t for (t,) in sqlite3.connect(db_path).execute("SELECT text FROM recommendations ORDER BY pk")]
    assert texts == ["Adopt l’école inclusive (l’État’é)", "Ratify the fictional Convention, café"]


def test_really_mixed_encodings_are_refused_naming_the_file(tmp_path, runner, db_path) -> None:
    """CONSTRUCTED: one row in UTF-8, one in Windows-1252."""
    head = _file(tmp_path, [["Haiti", "12", "Adopt the réforme du café", "Chile", "Accepted"]], "utf-8", "\n", "mixed.csv")
    head.write_bytes(head.read_bytes() + "Haiti,12,Adopt the réforme du thé,Chile,Accepted\n".encode("cp1252"))
    result = runner.invoke(app, ["import", "--db", str(db_path), str(head)])
    assert result.exit_code == 1
    assert "mixes encodings" in result.output and "mixed.csv" in result.output
    assert not db_path.exists()
