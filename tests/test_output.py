"""The one output module (cli/output.py) and files that open well (issue 15): xlsx exports with a title row,
frozen header, filter, widths and wrapped text; CSV with a byte-order mark for Excel; one "N rows written to FILE"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from followup_fixtures import invoke

SRC = Path(__file__).resolve().parents[1] / "src" / "uprfollow"


def _xlsx(path: Path):
    from openpyxl import load_workbook

    return load_workbook(path).active


def test_search_xlsx_reads_like_the_response_sheet(export_store, tmp_path):
    out = tmp_path / "haiti.xlsx"
    r = invoke("search", "--sur", "HTI", "--cycle", "1", "-o", str(out), "--db", str(export_store))
    assert r.exit_code == 0, r.output
    ws = _xlsx(out)
    assert re.fullmatch(r"upr search: sur=HTI, cycle=1 \(\d{4}-\d\d-\d\d\)", ws["A1"].value)  # what was asked, and when
    assert ws["A1"].font.bold
    header = [c.value for c in ws[2]]
    assert header[:2] == ["id", "sur"] and all(c.font.bold for c in ws[2])
    assert ws.freeze_panes == "A3"
    last = ws.max_row
    assert last == 2 + 136
    assert ws.auto_filter.ref == f"A2:{ws.cell(2, len(header)).column_letter}{last}"
    text_col = ws.cell(2, header.index("text") + 1).column_letter
    assert ws.column_dimensions[text_col].width >= 60
    assert ws[f"{text_col}3"].alignment.wrap_text
    assert ws.column_dimensions["B"].width < 20  # a code column stays narrow


def test_stats_xlsx_has_the_same_layout(export_store, tmp_path):
    out = tmp_path / "issues.xlsx"
    r = invoke("stats", "--by", "issue", "--sur-group", "GRULAC", "-o", str(out), "--db", str(export_store))
    assert r.exit_code == 0, r.output
    ws = _xlsx(out)
    assert ws["A1"].value.startswith("upr stats --by issue: sur-group=GRULAC (")
    assert [c.value for c in ws[2]][:2] == ["issue", "count"]
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")
    assert ws.column_dimensions["A"].width > 20  # sized to the issue names


def test_csv_bom_for_excel(export_store, tmp_path):
    """`--bom` starts the CSV with a byte-order mark (Excel on Windows then reads UTF-8); without it, no mark."""
    with_bom, without = tmp_path / "a.csv", tmp_path / "b.csv"
    for path, extra in ((with_bom, ["--bom"]), (without, [])):
        r = invoke("search", "--sur", "HTI", "-o", str(path), *extra, "--db", str(export_store))
        assert r.exit_code == 0, r.output
    assert with_bom.read_bytes().startswith(b"\xef\xbb\xbfid,sur,")
    assert without.read_bytes().startswith(b"id,sur,")
    assert with_bom.read_bytes()[3:] == without.read_bytes()
    r = invoke("stats", "--by", "cycle", "--format", "csv", "--bom", "--db", str(export_store))
    assert r.stdout.startswith("\ufeffcycle,count")


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx"])
@pytest.mark.parametrize("command", [["search", "--sur", "HTI"], ["stats", "--by", "cycle"]])
def test_every_output_file_says_how_many_rows(export_store, tmp_path, suffix, command):
    out = tmp_path / f"out{suffix}"
    r = invoke(*command, "-o", str(out), "--db", str(export_store))
    assert r.exit_code == 0, r.output
    n = 136 if command[0] == "search" else 2
    assert f"{n} rows written to {out}" in r.stderr
    if suffix == ".json":
        assert len(json.loads(out.read_text(encoding="utf-8"))) == n


def test_sheet_says_rows_written_the_same_way(export_store, tmp_path):
    out = tmp_path / "HTI.xlsx"
    r = invoke("sheet", "HTI", "--session", "12", "-o", str(out), "--db", str(export_store))
    assert r.exit_code == 0, r.output
    assert f"136 rows written to {out}" in r.stderr


def test_one_output_module():
    """grep: one formula-neutraliser (the leading-character tuple was copied three times), one -o suffix inference,
    one xlsx writer, rich tables and progress bars only in cli/output.py."""
    sources = {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}
    tuples = {n for n, t in sources.items() if re.search(r'\("=", "\+", "-", "@"', t)}
    assert tuples == {"formats/cells.py"}
    suffixes = {n for n, t in sources.items() if re.search(r'"\.csv": .*"\.json": .*"\.xlsx"', t)}
    assert suffixes == {"cli/output.py"}
    cli = {n: t for n, t in sources.items() if n.startswith("cli/")}
    assert {n for n, t in cli.items() if "rich.table" in t} == {"cli/output.py"}
    assert {n for n, t in cli.items() if "Workbook(" in t} == {"cli/output.py"}
    assert {n for n, t in cli.items() if "rich.progress" in t} <= {"cli/output.py", "cli/report_cmd.py"}
    assert {n for n, t in cli.items() if re.search(r'^\s+table = "table"', t, re.M)} == {"cli/output.py"}  # one format enum


@pytest.mark.parametrize("args", [["db", "history"], ["import", "x.csv"], ["ingest", "x.xlsx"], ["status", "HTI"]])
def test_commands_with_fewer_formats_refuse_the_others(args, tmp_path):
    r = invoke(*args, "--format", "xlsx", "--db", str(tmp_path / "none.db"))
    assert r.exit_code == 2, r.output
    assert "use table or json" in r.output or "not available for upr" in r.output
    r = invoke("vocab", "issues", "--format", "csv")
    assert r.exit_code == 2 and "use table or json" in r.output
