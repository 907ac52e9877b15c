"""Benchmark: `upr ingest` of 20 filled response sheets of 300 rows each, as one command.

The store is synthetic (20 States x 300 recommendations, imported with `upr import` from a
generated CSV); each State's sheet is written with `upr sheet` and filled with openpyxl
(levels, comments, sources on every row). The timed step is the whole ingest: reading,
header and level recognition, matching by ID, checking history, and the one write
transaction, on a fresh copy of the store each time.

The baselines run in the same process on the same 20 files: reading them with openpyxl alone
(read-only mode, every value), and with pandas.read_excel (openpyxl engine). The ratio says
what the checks and the write cost over just reading the cells.

    python bench/bench_ingest.py [--quick]
"""

from __future__ import annotations

import csv
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

STATES = 20
ROWS = 300
LEVEL_WORDS = ("Fully implemented", "Partially implemented", "Not implemented", "No data")
VERBS = ("Ensure", "Adopt", "Strengthen", "Consider ratifying", "Continue", "Establish", "Guarantee", "Take measures to improve")
TOPICS = ("access to justice", "the rights of the child", "prison conditions", "freedom of expression", "women's rights",
          "the national human rights institution", "education for all", "the fight against trafficking", "health services",
          "the independence of the judiciary")


def _synthetic_store(folder: Path) -> tuple[Path, list[str]]:
    from uprfollow import vocab
    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    rnd = random.Random(42)
    codes = sorted(c.iso3 for c in vocab.countries().values() if c.un_member)
    states = rnd.sample(codes, STATES)
    src = folder / "recommendations.csv"
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Response", "Session", "Issues"])
        for sur in states:
            for n in range(ROWS):
                text = f"{rnd.choice(VERBS)} {rnd.choice(TOPICS)} and {rnd.choice(TOPICS)}, in line with commitment {n + 1} of {sur}"
                w.writerow([sur, text, rnd.choice(codes), rnd.choice(("Accepted", "Noted")), "30", "Justice"])
    db = folder / "base.db"
    with open_store(db) as store:
        import_files(store, [src])
    return db, states


def _filled_sheets(db: Path, states: list[str], folder: Path) -> list[Path]:
    from openpyxl import load_workbook

    from uprfollow.formats.response_sheet import FIRST_DATA_ROW
    from uprfollow.sheets import write_sheet
    from uprfollow.store import open_store

    rnd = random.Random(7)
    out = []
    with open_store(db) as store:
        for sur in states:
            blank = folder / f"{sur}-blank.xlsx"
            write_sheet(store, sur, blank)
            wb = load_workbook(blank)
            ws = wb.active
            ws["C4"] = f"NGO coalition of {sur}"
            ws["E4"] = "NGO"
            ws["E5"] = "2019-06-01"
            for r in range(FIRST_DATA_ROW, ws.max_row + 1):
                ws.cell(r, 7, rnd.choice(LEVEL_WORDS))
                ws.cell(r, 8, "The government adopted a plan; the budget is not allocated yet. " * rnd.randint(1, 3))
                ws.cell(r, 9, "Annual report 2019")
            path = folder / f"{sur}-filled.xlsx"
            wb.save(path)
            out.append(path)
    return out


def _copy(src: Path, dest: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    a, b = sqlite3.connect(src), sqlite3.connect(dest)
    a.backup(b)
    a.close()
    b.close()


def _median(fn: Callable[[], object], repeats: int, setup: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(repeats):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(quick: bool = False) -> list[dict]:
    from uprfollow.ingest import ingest_files
    from uprfollow.store import open_store

    repeats = 1 if quick else 5
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        base, states = _synthetic_store(folder)
        sheets = _filled_sheets(base, states, folder)
        work = folder / "work.db"
        rows = STATES * ROWS

        def ingest() -> None:
            with open_store(work) as store:
                result = ingest_files(store, sheets)
            assert sum(r.added for r in result.reports) == rows, [r.as_dict() for r in result.reports]

        def openpyxl_read() -> None:
            from openpyxl import load_workbook

            n = 0
            for p in sheets:
                wb = load_workbook(p, read_only=True)
                for row in wb.active.iter_rows(values_only=True):
                    n += len(row)
                wb.close()

        def pandas_read() -> None:
            import pandas as pd

            for p in sheets:
                pd.read_excel(p, header=6, engine="openpyxl")

        t_ingest = _median(ingest, repeats, setup=lambda: _copy(base, work))
        t_openpyxl = _median(openpyxl_read, repeats)
        t_pandas = _median(pandas_read, repeats)
    name = f"ingest {STATES} sheets x {ROWS} rows, one command"
    return [
        {"name": name, "seconds": round(t_ingest, 4), "baseline_name": "openpyxl read-only read of the same sheets",
         "baseline_seconds": round(t_openpyxl, 4), "ratio": round(t_ingest / t_openpyxl, 2), "rows": rows},
        {"name": name, "seconds": round(t_ingest, 4), "baseline_name": "pandas.read_excel (openpyxl) of the same sheets",
         "baseline_seconds": round(t_pandas, 4), "ratio": round(t_ingest / t_pandas, 2), "rows": rows},
    ]


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv[1:]):
        print(f"{r['name']}: {r['seconds']:.3f} s median ({r['rows']:,} rows, {r['rows'] / r['seconds']:,.0f} rows/s); "
              f"{r['baseline_name']}: {r['baseline_seconds']:.3f} s; ratio {r['ratio']:.2f}")
