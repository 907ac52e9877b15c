"""Benchmark linking (issue 11): import the shared UPR Info exports plus both OHCHR China lists, with and without linking.

Each measurement is a whole `upr import` process on a fresh store, all files in one command
(the exports of sessions 1-13 and 14-17, then the 2013 and 2018 China matrices). The baseline
is the same command with `--no-link` (every row a record of its own), so the ratio says what
linking costs. The target (issue 11) is a ratio <= 1.2.

    .venv/bin/python bench/bench_linking.py          # medians of 3 runs
    .venv/bin/python bench/bench_linking.py --quick  # one run each

The real files are read from ../shared/data (or $UPR_SHARED/data/...) and never copied.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import OUT, SHARED, UPR, fresh, measure, median_of  # noqa: E402

DATA = SHARED / "data"


def inputs() -> list[Path]:
    files = sorted((DATA / "upr-info-export-2015").glob("*.csv")) + sorted((DATA / "upr-info-export-2015-sessions-14-17").glob("*.csv"))
    files += [DATA / "ohchr-matrix" / "Matrix_recommendations_2013.docx", DATA / "ohchr-matrix" / "Matrix_recommendations_2018.docx"]
    return [f for f in files if f.exists()]


def run(quick: bool = False) -> list[dict]:
    files = inputs()
    if not any(f.suffix == ".docx" for f in files):
        print(f"skipped: the China lists are not under {DATA} (set UPR_SHARED)", file=sys.stderr)
        return []
    OUT.mkdir(parents=True, exist_ok=True)
    runs = 1 if quick else 3
    db = OUT / "bench-linking.db"

    def upr(*extra: str):
        return measure([*UPR, "import", "--db", str(fresh(db)), *extra, *map(str, files)], env={"UPR_QUIET": "1"})

    unlinked = median_of(runs, lambda: upr("--no-link"))
    linked = median_of(runs, lambda: upr())
    conn = sqlite3.connect(db)
    chn17 = conn.execute("SELECT count(*) FROM recommendations WHERE sur = 'CHN' AND session = 17 AND NOT is_pledge").fetchone()[0]
    links = conn.execute("SELECT count(DISTINCT rec_pk) FROM record_sources").fetchone()[0]
    rows = conn.execute("SELECT count(*) FROM recommendations").fetchone()[0]
    conn.close()
    fresh(db)
    return [{
        "name": f"upr import exports + 2 China lists, linking ({len(files)} files; CHN-17: {chn17} records, {links} linked)",
        "seconds": round(linked[0], 3),
        "baseline_name": "the same import with --no-link",
        "baseline_seconds": round(unlinked[0], 3),
        "ratio": round(linked[0] / unlinked[0], 2) if unlinked[0] else None,
        "rows": rows,
        "peak_rss_mb": round(linked[1], 1),
        "cpu_seconds": round(linked[2], 3),
        "baseline_cpu_seconds": round(unlinked[2], 3),
        "cpu_ratio": round(linked[2] / unlinked[2], 2) if unlinked[2] else None,
    }]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each")
    args = parser.parse_args()
    for r in run(quick=args.quick):
        print(f"{r['name']}\n  linking {r['seconds']:.2f} s (cpu {r['cpu_seconds']:.2f} s), --no-link {r['baseline_seconds']:.2f} s "
              f"(cpu {r['baseline_cpu_seconds']:.2f} s): ratio {r['ratio']}x wall, {r['cpu_ratio']}x cpu; "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
