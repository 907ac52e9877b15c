"""UHRI export reader, on fixtures built by tests/fixtures_uhri.py (no real sample is available)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_uhri import HEADER, SAMPLE_ROWS, make_uhri_xlsx

from uprfollow.errors import FormatNotRecognised, InputError
from uprfollow.formats import uhri


def _head(path: Path) -> bytes:
    return path.read_bytes()[:512]


def test_round_trip(tmp_path: Path) -> None:
    path = make_uhri_xlsx(tmp_path / "export.xlsx")
    assert uhri.sniff(path, _head(path))
    result = uhri.read(path)
    assert result.format == "uhri"
    records = list(result.records)
    assert result.total == len(records) == len(SAMPLE_ROWS)

    first, second, third = records
    assert first.sur == "Freedonia"
    assert first.paragraph == "115.12"
    assert first.text == "Ratify the Optional Protocol to the Convention against Torture"
    assert first.rs == ["Norway"]
    assert first.response == "Supported"
    assert first.session == "36"
    assert first.themes == [
        "A12 Acceptance of international norms",
        "D25 Prohibition of torture and cruel, inhuman or degrading treatment",
    ]
    assert first.document == "A/HRC/99/1"
    assert first.row == 2
    assert first.sheet == "Export"
    assert first.columns["rs"] == "UPR Reccomending States"
    assert first.columns["response"] == "UPR Position"

    assert second.rs == ["Bolivia (Plurinational State of)", "United Kingdom of Great Britain and Northern Ireland"]
    assert second.text == "Establish a moratorium on executions with a view to abolishing the death penalty"
    assert second.response == "Noted"
    assert third.rs == ["Trinidad and Tobago"]
    assert third.response == "Supported/Noted"
    assert third.text is not None and third.text.endswith("for 2030")


def test_header_below_title_rows_and_correct_spelling(tmp_path: Path) -> None:
    header = [h.replace("Reccomending", "Recommending") for h in HEADER]
    path = make_uhri_xlsx(
        tmp_path / "titled.xlsx",
        title_rows=["Universal Human Rights Index", "Search results", ""],
        header=header,
    )
    assert uhri.sniff(path, _head(path))
    records = list(uhri.read(path).records)
    assert [r.row for r in records] == [5, 6, 7]
    assert records[0].rs == ["Norway"]


def test_multi_values_and_text_not_ending_with_states(tmp_path: Path) -> None:
    rows = [
        {
            "paragraph": "98.3",
            "text": "Continue cooperation with the special procedures (for example the Working Group)",
            "sur": "Freedonia",
            "rs": ["Ruritania", "Syldavia", "Borduria"],
            "position": "Supported",
            "session": 41,
            "themes": ["A24 Cooperation with special procedures"],
        },
        {"text": "A treaty-body recommendation", "sur": "Freedonia", "body": "CRC", "session": None},
    ]
    path = make_uhri_xlsx(tmp_path / "multi.xlsx", rows)
    result = uhri.read(path)
    records = list(result.records)
    assert len(records) == 1  # the treaty-body row is not a UPR recommendation
    assert result.skipped == {"not UPR (CRC)": 1}  # ... and is counted, not silently dropped
    (rec,) = records
    assert rec.rs == ["Ruritania", "Syldavia", "Borduria"]
    assert rec.session == "41"
    assert rec.text == "Continue cooperation with the special procedures (for example the Working Group)"


def test_missing_column_raises(tmp_path: Path) -> None:
    path = make_uhri_xlsx(tmp_path / "broken.xlsx", drop_columns=["UPR Position"])
    assert uhri.sniff(path, _head(path))  # still looks like UHRI
    with pytest.raises(InputError) as info:
        uhri.read(path)
    err = info.value
    assert "broken.xlsx" in str(err)
    assert "UPR Position" in str(err)
    assert err.problems and err.problems[0].column == "UPR Position"
    assert err.problems[0].file == str(path)
    assert err.problems[0].row == 1


def test_not_uhri(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Recommendation", "State", "Response"])
    path = tmp_path / "other.xlsx"
    wb.save(path)
    assert not uhri.sniff(path, _head(path))
    with pytest.raises(FormatNotRecognised):
        uhri.read(path)
    text = tmp_path / "x.csv"
    text.write_text("Text,Reccomending Body\n")
    assert not uhri.sniff(text, _head(text))


def test_import_says_which_rows_it_left_out(tmp_path: Path) -> None:
    """`upr import` of a UHRI export mixing bodies names how many rows of which bodies it did not take."""
    import json

    from typer.testing import CliRunner

    from uprfollow.cli import app

    upr = [
        {"paragraph": "88.1", "text": "Ratify the Convention against Torture", "sur": "Haiti", "rs": ["France"],
         "position": "Supported", "session": 12},
        {"paragraph": "88.2", "text": "Strengthen the independence of the judiciary", "sur": "Haiti", "rs": ["Chile", "Spain"],
         "position": "Noted", "session": 12},
    ]
    rows = [
        *upr,
        {"text": "A treaty-body recommendation", "sur": "Haiti", "body": "CRC", "session": None},
        {"text": "Another one", "sur": "Haiti", "body": "CRC", "session": None},
        {"text": "A special procedure's", "sur": "Haiti", "body": "SR on torture", "session": None},
    ]
    path = make_uhri_xlsx(tmp_path / "mixed.xlsx", rows)
    db = tmp_path / "upr.db"
    runner = CliRunner()
    result = runner.invoke(app, ["import", "--db", str(db), "--dry-run", str(path)])
    assert result.exit_code == 0, result.output
    assert "uhri, 2 rows: 2 new" in result.stderr
    assert "left out on purpose: 2 not UPR (CRC), 1 not UPR (SR on torture)" in result.stderr

    result = runner.invoke(app, ["import", "--db", str(db), "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["skipped"] == {"not UPR (CRC)": 2, "not UPR (SR on torture)": 1}
    assert report["added"] == 2
