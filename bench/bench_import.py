"""Benchmark `upr import` against `sqlite-utils insert --csv` of the same rows, and a 1,000,000-row import.

Each measurement is a whole process (start-up included) on a fresh store. The baseline
inserts the same rows raw (no normalisation, no IDs, no full-text index) with the
sqlite-utils command line, in the same run, so the ratio says what upr's checking,
normalising and indexing cost on this machine at this moment.

    .venv/bin/python bench/bench_import.py          # full: medians of 3, 1,000,000 rows
    .venv/bin/python bench/bench_import.py --quick  # one run each, 100,000 rows

Inputs generated here (the synthetic CSV, UTF-8 CSV copies of the .xls exports for the
baseline) are cached under bench/out/ (git-ignored). The real exports are read from
../shared/data/upr-info-export-2015 (or $UPR_SHARED/data/...) and never copied into the project.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SHARED = Path(os.environ.get("UPR_SHARED", ROOT.parent / "shared"))
EXPORTS = SHARED / "data" / "upr-info-export-2015"
BIN = Path(sys.executable).parent
UPR = [sys.executable, "-m", "uprfollow"]
SQLITE_UTILS = [str(BIN / "sqlite-utils")] if (BIN / "sqlite-utils").exists() else [sys.executable, "-m", "sqlite_utils"]
CSV_HEADER = ["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session"]


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants now (KiB; 0 for what has ended)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one process; fails loudly when it fails.

    Peak RSS is that of the process and its children together (`upr import` reads a large file in a
    forked child while it writes), sampled every 0.1 s, or wait4's figure (the largest one alone) if
    higher; CPU seconds include the children's."""

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    reader.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    reader.join()
    err = b"".join(err_chunks).decode(errors="replace")
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n{err[-2000:]}")
    return seconds, max(usage.ru_maxrss, peak[0]) / 1024, usage.ru_utime + usage.ru_stime  # KiB on Linux


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def upr_import(files: list[Path], db: Path) -> tuple[float, float, float]:
    return measure([*UPR, "import", "--db", str(fresh(db)), *map(str, files)], env={"UPR_QUIET": "1"})


def sqlite_utils_insert(files: list[tuple[Path, str]], db: Path) -> tuple[float, float, float]:
    """One `sqlite-utils insert DB rows FILE --csv` process per file, as a user would run them; times summed."""
    fresh(db)
    total, peak, cpu = 0.0, 0.0, 0.0
    for path, encoding in files:
        s, rss, c = measure([*SQLITE_UTILS, "insert", str(db), "rows", str(path), "--csv", "--encoding", encoding])
        total += s
        peak = max(peak, rss)
        cpu += c
    return total, peak, cpu


def xls_as_csv(path: Path) -> Path:
    """A UTF-8 CSV copy of an .xls export (for the baseline; sqlite-utils cannot read .xls), cached."""
    out = OUT / f"{path.stem}.xls.csv"
    if out.exists() and out.stat().st_mtime >= path.stat().st_mtime:
        return out
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_index(0).to_python()
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_HEADER)
        for row in rows[1:]:
            w.writerow(["" if v is None else (int(v) if isinstance(v, float) and v.is_integer() else v) for v in row[:11]])
    tmp.replace(out)
    return out


def count_rows(files: list[tuple[Path, str]]) -> int:
    n = 0
    for path, encoding in files:
        with open(path, encoding=encoding, newline="") as f:
            n += sum(1 for _ in csv.reader(f)) - 1
    return n


def median_of(runs: int, fn) -> tuple[float, float, float]:
    """Median wall time, highest peak RSS and median CPU time of `runs` runs."""
    results = [fn() for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), statistics.median(r[2] for r in results)


def entry(name: str, run: tuple[float, float, float], baseline_name: str, baseline: tuple[float, float, float], rows: int) -> dict:
    """One result. Wall times are what a user waits; CPU times are steadier on a busy machine."""
    seconds, rss, cpu = run
    return {
        "name": name,
        "seconds": round(seconds, 3),
        "baseline_name": baseline_name,
        "baseline_seconds": round(baseline[0], 3),
        "ratio": round(seconds / baseline[0], 2) if baseline[0] else None,
        "rows": rows,
        "peak_rss_mb": round(rss, 1),
        "cpu_seconds": round(cpu, 3),
        "baseline_cpu_seconds": round(baseline[2], 3),
    }


def synthetic_file(n_rows: int, seed: int = 1) -> Path:
    """The synthetic UPR Info-format CSV of `n_rows` rows, generated once and cached."""
    from uprfollow.sample import synthetic_export_csv

    path = OUT / f"synthetic-{n_rows}-seed{seed}.csv"
    if not path.exists():
        tmp = synthetic_export_csv(OUT / f".synthetic-{n_rows}-seed{seed}.tmp", n_rows, seed)
        tmp.replace(path)
    return path


def run(quick: bool = False) -> list[dict]:
    """Run the import benchmarks; one dict per measurement (see the module docstring)."""
    OUT.mkdir(parents=True, exist_ok=True)
    runs = 1 if quick else 3
    db, base_db = OUT / "bench-upr.db", OUT / "bench-baseline.db"
    results: list[dict] = []

    if EXPORTS.is_dir():
        xls = sorted(EXPORTS.glob("*.xls"))
        csvs = sorted(EXPORTS.glob("*.csv"))
        csv_inputs = [(p, "mac_roman") for p in csvs]
        all_inputs = [(xls_as_csv(p), "utf-8") for p in xls] + csv_inputs
        cases = [("exports .csv", csvs, csv_inputs)]
        if not quick:
            cases.insert(0, ("exports .xls + .csv", xls + csvs, all_inputs))
        for name, files, inputs in cases:
            ours = median_of(runs, lambda files=files: upr_import(files, db))
            theirs = median_of(runs, lambda inputs=inputs: sqlite_utils_insert(inputs, base_db))
            results.append(entry(f"upr import {name} ({len(files)} files)", ours,
                                 f"sqlite-utils insert --csv ({len(inputs)} processes)", theirs, count_rows(inputs)))
    else:
        print(f"skipped the real exports: {EXPORTS} not found (set UPR_SHARED)", file=sys.stderr)

    n = 100_000 if quick else 1_000_000
    big = synthetic_file(n)
    ours = upr_import([big], db)
    theirs = sqlite_utils_insert([(big, "mac_roman")], base_db)
    results.append(entry(f"upr import synthetic {n:,} rows", ours, "sqlite-utils insert --csv", theirs, n))
    for p in (db, base_db):
        fresh(p)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each and 100,000 synthetic rows")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = run(quick=args.quick)
    if args.json:
        import json

        print(json.dumps(results, indent=2))
        return
    width = max(len(r["name"]) for r in results)
    print(f"{'benchmark':<{width}}  {'rows':>9}  {'upr s':>8}  {'baseline s':>10}  {'ratio':>6}  {'upr cpu s':>9}  {'base cpu s':>10}  {'peak MB':>8}")
    for r in results:
        print(f"{r['name']:<{width}}  {r['rows']:>9,}  {r['seconds']:>8.2f}  {r['baseline_seconds']:>10.2f}  "
              f"{r['ratio']:>5.1f}x  {r['cpu_seconds']:>9.2f}  {r['baseline_cpu_seconds']:>10.2f}  {r['peak_rss_mb']:>8.0f}")
    print(f"wall seconds are medians of {1 if args.quick else 3} runs (the synthetic file: one run); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
