"""`upr sheet`: layout, protection, the drop-down, languages, formula-proof text, LibreOffice rendering."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
from followup_fixtures import invoke

from uprfollow import vocab
from uprfollow.formats import response_sheet
from uprfollow.formats.response_sheet import COLUMNS, FIRST_DATA_ROW, HEADER_ROW, TEXTS


@pytest.fixture(scope="module")
def hti_sheets(export_store, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sheets")
    out = {}
    for lang in ("en", "fr", "es"):
        out[lang] = folder / f"HTI-{lang}.xlsx"
        r = invoke("sheet", "HTI", "-o", str(out[lang]), "--lang", lang, "--session", "12", "--db", str(export_store))
        assert r.exit_code == 0, r.output
        assert f"136 recommendations to HTI ({lang})" in r.output
    return out


def load(path: Path):
    from openpyxl import load_workbook

    return load_workbook(path).active


def test_layout_and_protection(hti_sheets):
    ws = load(hti_sheets["en"])
    assert ws.title == "Recommendations"
    assert ws.max_row == FIRST_DATA_ROW + 136 - 1
    assert [c.value for c in ws[HEADER_ROW]] == ["ID", "Paragraph", "Recommendation", "Recommending State(s)", "Response", "Issues",
                                                 "Level of implementation", "Comment", "Sources"]
    assert ws.freeze_panes == f"A{FIRST_DATA_ROW}"
    assert ws.protection.sheet
    assert ws["C3"].value == "Haiti (HTI)" and ws["E3"].value == "12 (2011)"
    for row in (FIRST_DATA_ROW, ws.max_row):
        for col, cell in zip(COLUMNS, ws[row]):
            assert cell.protection.locked == (col not in ("level", "comment", "sources")), (row, col)
            assert cell.alignment.wrap_text
    assert ws[f"A{FIRST_DATA_ROW}"].value.startswith("HTI-12-")
    assert not ws["C4"].protection.locked and not ws["E4"].protection.locked and not ws["E5"].protection.locked
    assert ws.column_dimensions["C"].width == 70
    assert all(ws.row_dimensions[r].height for r in range(FIRST_DATA_ROW, ws.max_row + 1))


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_level_drop_down(hti_sheets, lang):
    ws = load(hti_sheets[lang])
    lists = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    dv = lists[f"G{FIRST_DATA_ROW}:G{FIRST_DATA_ROW + 135}"]
    assert dv.type == "list"
    assert dv.formula1 == '"' + ",".join(TEXTS[lang]["levels"].values()) + '"'
    assert "E4" in lists  # stakeholder type drop-down


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_every_written_label_is_read_back(lang):
    t = TEXTS[lang]
    for f, header in t["headers"].items():
        assert response_sheet.field_of(header) == f, header
    for lv, word in t["levels"].items():
        assert vocab.level_of(word) == lv, word
    for ty, word in t["types"].items():
        assert vocab.type_of(word) == ty, word
    for f, label in t["meta"].items():
        assert response_sheet.field_of(label) == f, label
    assert response_sheet.field_of(t["date_hint"]) == "as_of"


@pytest.mark.parametrize(
    ("word", "level"),
    [("Completed", "fully"), ("implemented", "fully"), ("ONGOING", "partially"), ("In progress", "partially"), ("Partially", "partially"),
     ("No action", "not"), ("not implemented.", "not"), ("mise en œuvre partielle", "partially"), ("Mise en oeuvre partielle", "partially"),
     ("no implementada", "not"), ("Implementada parcialmente", "partially"), ("Pas de données", "no_data"), ("Sin datos", "no_data")],
)
def test_level_synonyms(word, level):
    assert vocab.level_of(word) == level


def test_french_sheet(hti_sheets):
    ws = load(hti_sheets["fr"])
    assert ws.title == "Recommandations"
    assert ws["A3"].value == "État examiné"
    assert ws[f"E{FIRST_DATA_ROW}"].value in ("Acceptée", "Notée")


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    """Recommendation texts starting with = + - @ are written as text with the quote prefix."""
    src = tmp_path / "odd.csv"
    texts = ["=1+1 is not a recommendation", "+ratify the CAT", "-adopt a law", "@everyone ensure access", "Ensure a normal text"]
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Response", "Session"])
        for t in texts:
            w.writerow(["Haiti", t, "France", "Accepted", "12"])
    db = tmp_path / "odd.db"
    r = invoke("import", str(src), "--db", str(db))
    assert r.exit_code == 0, r.output
    out = tmp_path / "odd.xlsx"
    r = invoke("sheet", "HTI", "-o", str(out), "--db", str(db))
    assert r.exit_code == 0, r.output
    ws = load(out)
    cells = {ws.cell(r, 3).value: ws.cell(r, 3) for r in range(FIRST_DATA_ROW, ws.max_row + 1)}
    assert set(cells) == set(texts)
    for t, cell in cells.items():
        assert cell.data_type == "s"
        assert bool(cell.quotePrefix) == (t[0] in "=+-@"), t


def test_errors(export_store, tmp_path):
    r = invoke("sheet", "Atlantis", "-o", str(tmp_path / "x.xlsx"), "--db", str(export_store))
    assert r.exit_code == 2 and "unknown State 'Atlantis'" in r.output
    r = invoke("sheet", "HTI", "--session", "3", "-o", str(tmp_path / "x.xlsx"), "--db", str(export_store))
    assert r.exit_code == 1 and "no recommendations to Haiti (HTI) at session 3" in r.output
    r = invoke("sheet", "HTI", "-o", str(tmp_path / "x.csv"), "--db", str(export_store))
    assert r.exit_code == 2 and "name the output FILE.xlsx" in r.output
    r = invoke("sheet", "HTI", "--session", "12", "--cycle", "1", "-o", str(tmp_path / "x.xlsx"), "--db", str(export_store))
    assert r.exit_code == 2
    assert not list(tmp_path.glob("*.xlsx"))


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_opens_in_libreoffice(hti_sheets, tmp_path):
    """LibreOffice converts the sheet to PDF; the text of the header, rows and instructions is there."""
    from pypdf import PdfReader

    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(hti_sheets["en"])], check=True, capture_output=True, timeout=120)
    pdf = tmp_path / "HTI-en.pdf"
    assert pdf.exists()
    reader = PdfReader(pdf)
    first = reader.pages[0].extract_text()
    assert "follow-up response sheet" in first and "Level of implementation" in first and "HTI-12-" in first
    assert len(reader.pages) >= 3
