"""The follow-up round trip on the real exports: the HTI sheet, four filled copies, ingested.

Stakeholders fill sheets the way they really do:
  1. the State: the generated sheet, filled in (openpyxl), English drop-down wording;
  2. an NGO: the French sheet, French level words, French labels above the header;
  3. the NHRI: a hand-made copy: title block above the header, rows shuffled, ten deleted, texts
     retyped with typos and no IDs, a blank row, a merged section row, a vertically merged level
     cell, a hidden row, an extra column;
  4. a UN agency: a .csv with other column names, "Completed" / "Ongoing" / "No action" / "Unknown",
     no State named (found from the texts), stakeholder given by options.
Levels are chosen per recommendation so that a dozen recommendations have hand-computed indices.
"""

from __future__ import annotations

import csv
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from uprfollow.cli import app

F, P, N, D = "fully", "partially", "not", "no_data"
STAKEHOLDERS = ("Ministry of Justice of Haiti", "Réseau national de défense des droits humains", "Office de la protection du citoyen", "UN Country Team")
TYPES = ("state", "ngo", "nhri", "un")

# Index in sheet order -> levels of the four stakeholders (None = left blank), and the hand-computed IRI, level, dispute.
CHOSEN: dict[int, tuple[tuple[str | None, ...], float | None, str, bool]] = {
    0: ((F, P, None, None), 0.75, F, True),      # DOMAIN.md's example
    1: ((F, N, N, None), 0.33, P, True),         # three voices, 1/3 -> 0.33 -> partially
    2: ((F, F, N, None), 0.67, F, True),         # 2/3 -> 0.67 -> fully
    3: ((P, N, N, None), 0.17, N, True),
    4: ((P, P, N, F), 0.5, P, True),
    5: ((D, F, None, None), 1.0, F, False),      # no data left out, and makes no dispute
    6: ((D, None, None, None), None, D, False),
    7: ((N, None, None, None), 0.0, N, False),
    8: ((P, F, F, N), 0.63, P, True),            # 0.625 rounds half up
    9: ((None, None, None, None), None, "not_assessed", False),
    10: ((F, F, F, F), 1.0, F, False),
    11: ((P, P, D, P), 0.5, P, False),
}
CYCLE = (F, P, N, D)

WORDS = {
    0: {F: "Fully implemented", P: "Partially implemented", N: "Not implemented", D: "No data"},
    1: {F: "Entièrement mise en œuvre", P: "mise en œuvre partielle", N: "Non mise en œuvre", D: "Pas de données"},
    2: {F: "implemented", P: "In progress", N: "not implemented", D: "insufficient information"},
    3: {F: "Completed", P: "Ongoing", N: "No action", D: "Unknown"},
}


def level_for(k: int, s: int, deleted: set[int]) -> str | None:
    if k in CHOSEN:
        return CHOSEN[k][0][s]
    if s == 2 and k in deleted:
        return None
    if s == 3 and k % 7 == 0:
        return None
    return CYCLE[(k + s) % 4]


def typo(text: str, rnd: random.Random) -> str:
    """Two small typing slips (a swapped pair of letters, a wrong letter), a case change, a double space."""
    chars = list(text)
    letters = [i for i in range(1, len(chars) - 2) if chars[i].isalpha() and chars[i + 1].isalpha()]
    i = rnd.choice(letters)
    chars[i], chars[i + 1] = chars[i + 1], chars[i]
    j = rnd.choice([x for x in letters if abs(x - i) > 2])
    chars[j] = "x" if chars[j] != "x" else "y"
    out = "".join(chars)
    out = out[0].lower() + out[1:]
    return out.replace(" ", "  ", 1)


@dataclass
class Scenario:
    db: Path
    folder: Path
    sheet: Path
    ids: list[str]
    texts: list[str]
    rs: list[str]
    deleted: set[int]
    files: list[Path] = field(default_factory=list)
    results: list = field(default_factory=list)

    def expected(self) -> dict[str, dict[str, str]]:
        """rec id -> stakeholder -> level, as written in the four sheets."""
        out: dict[str, dict[str, str]] = {}
        for k, rid in enumerate(self.ids):
            for s, name in enumerate(STAKEHOLDERS):
                lv = level_for(k, s, self.deleted)
                if lv is not None:
                    out.setdefault(rid, {})[name] = lv
        return out

    def stored(self) -> dict[str, dict[str, str]]:
        con = sqlite3.connect(self.db)
        out: dict[str, dict[str, str]] = {}
        for rid, name, lv in con.execute(
            "SELECT r.id, s.name, a.level FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk "
            "JOIN stakeholders s ON s.id = a.stakeholder_id WHERE a.current = 1"
        ):
            out.setdefault(rid, {})[name] = lv
        con.close()
        return out


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def read_sheet(path: Path) -> tuple[list[str], list[str], list[str]]:
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    ids, texts, rs = [], [], []
    for row in ws.iter_rows(min_row=8, values_only=True):
        if row[0]:
            ids.append(row[0])
            texts.append(row[2])
            rs.append(row[3] or "")
    return ids, texts, rs


def fill_generated(src: Path, dest: Path, s: int, *, name: str, type_label: str, as_of: str, deleted: set[int]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(src)
    ws = wb.active
    ws["C4"] = name
    ws["E4"] = type_label
    ws["E5"] = as_of
    for k, r in enumerate(range(8, ws.max_row + 1)):
        lv = level_for(k, s, deleted)
        if lv is not None:
            ws.cell(r, 7, WORDS[s][lv])
            ws.cell(r, 8, f"comment {s} on row {k}")
            ws.cell(r, 9, f"source {s}")
    wb.save(dest)


def hand_made(sc: Scenario, dest: Path) -> None:
    """The NHRI's copy: its own layout, rows shuffled, ten deleted, texts retyped, no IDs."""
    from openpyxl import Workbook

    rnd = random.Random(3)
    keep = [k for k in range(len(sc.ids)) if k not in sc.deleted]
    rnd.shuffle(keep)
    wb = Workbook()
    ws = wb.active
    ws.title = "Suivi EPU"
    ws["A1"] = "Mid-term assessment of the recommendations to Haiti"
    ws.merge_cells("A1:E1")
    ws["A2"] = "Organisation: " + STAKEHOLDERS[2]
    ws["A3"] = "Type"
    ws["B3"] = "NHRI"
    ws["A4"] = "Date"
    ws["B4"] = "2013-05-02"
    ws.append([])
    ws.append(["Recommendation", "Recommending State", "Status", "Comments", "Internal notes"])
    header = ws.max_row
    for n, k in enumerate(keep):
        lv = level_for(k, 2, sc.deleted)
        if n == 20:
            ws.append([])                                   # a blank row
            ws.append(["Section: justice and detention"])   # a section title, merged across
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=5)
        ws.append([typo(sc.texts[k], rnd), sc.rs[k], WORDS[2][lv] if lv else None, f"nhri comment {k}" if lv else None, "internal"])
        if n == 40:
            ws.row_dimensions[ws.max_row].hidden = True
    # one vertically merged level cell over two rows that have the same level
    rows = list(range(header + 1, ws.max_row + 1))
    for a, b in zip(rows, rows[1:]):
        va, vb = ws.cell(a, 3).value, ws.cell(b, 3).value
        if va and va == vb and ws.cell(a, 1).value and ws.cell(b, 1).value:
            ws.cell(b, 3).value = None
            ws.merge_cells(start_row=a, start_column=3, end_row=b, end_column=3)
            break
    wb.save(dest)


def un_csv(sc: Scenario, dest: Path) -> None:
    with open(dest, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Recommendation text", "Recommended by", "Implementation status", "Notes", "Evidence", "Agency focal point"])
        for k, text in enumerate(sc.texts):
            lv = level_for(k, 3, sc.deleted)
            w.writerow([text, sc.rs[k], WORDS[3][lv] if lv else "", f"un comment {k}" if lv else "", "UNCT report" if lv else "", "J. Doe"])


def build_scenario(export_store: Path, folder: Path) -> Scenario:
    db = folder / "followup.db"
    src = sqlite3.connect(export_store)
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    sheet = folder / "HTI.xlsx"
    r = invoke("sheet", "HTI", "-o", str(sheet), "--db", str(db))
    assert r.exit_code == 0, r.output
    fr = folder / "HTI-fr.xlsx"
    r = invoke("sheet", "HTI", "-o", str(fr), "--lang", "fr", "--db", str(db))
    assert r.exit_code == 0, r.output
    ids, texts, rs = read_sheet(sheet)
    rnd = random.Random(7)
    deleted = set(rnd.sample([k for k in range(len(ids)) if k not in CHOSEN], 10))
    sc = Scenario(db=db, folder=folder, sheet=sheet, ids=ids, texts=texts, rs=rs, deleted=deleted)
    f1, f2, f3, f4 = folder / "1-state.xlsx", folder / "2-ngo-fr.xlsx", folder / "3-nhri.xlsx", folder / "4-un.csv"
    fill_generated(sheet, f1, 0, name=STAKEHOLDERS[0], type_label="State", as_of="2013-04-15", deleted=deleted)
    fill_generated(fr, f2, 1, name=STAKEHOLDERS[1], type_label="ONG", as_of="2013-04-20", deleted=deleted)
    hand_made(sc, f3)
    un_csv(sc, f4)
    sc.files = [f1, f2, f3, f4]
    sc.results.append(invoke("ingest", str(f1), str(f2), str(f3), "--db", str(db), "--format", "json"))
    sc.results.append(invoke("ingest", str(f4), "--stakeholder", STAKEHOLDERS[3], "--type", "un", "--as-of", "2013-06-01",
                             "--db", str(db), "--format", "json"))
    return sc
