"""Run every benchmark in bench/ and write one table: bench/RESULTS.md.

    .venv/bin/python bench/run.py            # what `make bench` runs
    .venv/bin/python bench/run.py --quick    # smaller data, fewer repeats (a first look)
    .venv/bin/python bench/run.py --only import --only query

Each `bench/bench_*.py` exposes `run(quick: bool = False) -> list[dict]`, one dict per
figure with `name`, `seconds`, `baseline_name`, `baseline_seconds`, `ratio`, and where
known `size` / `rows` / `data size` and `peak_rss_mb`. Every module runs in its own
process (so one that crashes or runs out of memory cannot take the others down); its
peak RSS, children included, is measured with wait4. A module that is missing or fails
is reported in RESULTS.md with the end of its error output, and the run goes on.

After the modules, the peak memory of `upr stats` on the 1,000,000-recommendation store
of bench_query.py is measured here, beside its pandas baseline, in the same run.
RESULTS.md also records the machine (CPU, cores, memory, load), the versions and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
EXPECTED = ("bench_import", "bench_query", "bench_ingest", "bench_mia", "bench_classify")  # the benchmarks the issues asked for

CHILD = """
import importlib, json, sys
sys.path.insert(0, {bench!r})
module = importlib.import_module({name!r})
results = module.run(quick={quick!r})
with open({out!r}, "w", encoding="utf-8") as f:
    json.dump(results, f, default=str)
"""


@dataclass
class ModuleRun:
    name: str
    status: str = "missing"        # ok, failed, missing, timeout
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    results: list[dict] = field(default_factory=list)
    error: str = ""
    quick: bool = False


def run_module(name: str, *, quick: bool, timeout: float) -> ModuleRun:
    """Run bench/NAME.py's run() in a child process; never raises."""
    m = ModuleRun(name)
    if not (BENCH / f"{name}.py").exists():
        return m
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        code = CHILD.format(bench=str(BENCH), name=name, quick=quick, out=str(out))
        err_path = Path(tmp) / "stderr.txt"
        start = time.perf_counter()
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=err, stderr=subprocess.STDOUT)
            deadline = start + timeout
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    proc.kill()
                    _pid, status, usage = os.wait4(proc.pid, 0)
                    m.status = "timeout"
                    break
                time.sleep(0.2)
        m.seconds = time.perf_counter() - start
        m.peak_rss_mb = usage.ru_maxrss / 1024  # Linux: KiB; the largest of the process and its reaped children
        proc.returncode = os.waitstatus_to_exitcode(status)
        log = err_path.read_text(encoding="utf-8", errors="replace")
        if m.status == "timeout":
            m.error = f"stopped after {timeout:.0f} s\n" + log[-1500:]
            return m
        if proc.returncode != 0 or not out.exists():
            m.status = "failed"
            m.error = f"exit {proc.returncode}\n" + log[-2500:]
            return m
        try:
            m.results = [r for r in json.loads(out.read_text(encoding="utf-8")) if isinstance(r, dict)]
        except (ValueError, TypeError) as e:
            m.status = "failed"
            m.error = f"run() did not return a list of dicts: {e}"
            return m
        m.status = "ok"
    return m


def _read_proc(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def machine() -> dict[str, str]:
    cpuinfo = _read_proc("/proc/cpuinfo")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), platform.processor())
    mem: dict[str, int] = {}
    for line in _read_proc("/proc/meminfo").splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            mem[key] = int(value.split()[0])
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    load = _read_proc("/proc/loadavg").split()[:3]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    sys.path.insert(0, str(ROOT / "src"))
    try:
        from uprfollow import __version__
    except ImportError:
        __version__ = "?"
    return {
        "CPU": model or "?",
        "cores": f"{os.cpu_count()} ({usable} usable by this process)",
        "memory": f"{mem.get('MemTotal', 0) / 1048576:.1f} GiB total, {mem.get('MemAvailable', 0) / 1048576:.1f} GiB available at start",
        "load average at start (1/5/15 min)": " / ".join(load) or "?",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "upr": f"{__version__}, commit {commit}{' + uncommitted changes' if dirty else ''}",
    }


def peak_rss(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        _pid, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, text


def stats_memory(quick: bool) -> ModuleRun:
    """Peak RSS of `upr stats` on bench_query's synthetic store, beside pandas doing the same cross-tab."""
    m = ModuleRun("peak memory of upr stats (bench/run.py)", quick=quick)
    start = time.perf_counter()
    try:
        sys.path.insert(0, str(BENCH))
        import bench_query  # type: ignore[import-not-found]

        size = bench_query.QUICK_SIZE if quick else bench_query.FULL_SIZE
        db = str(bench_query.store_for(size))
        upr = [sys.executable, "-m", "uprfollow", "stats", "--db", db, "--by", "issue", "--by", "response", "--format", "csv"]
        seconds, rss, _ = peak_rss(upr)
        base_seconds, base_rss, _ = peak_rss([sys.executable, "-c", bench_query.PANDAS_STATS, db])
        m.results = [{
            "name": "upr stats --by issue --by response: peak memory (MB)",
            "seconds": round(seconds, 3),
            "baseline_name": "pandas cross-tab of the same store: peak memory (MB)",
            "baseline_seconds": round(base_seconds, 3),
            "ratio": round(rss / base_rss, 3) if base_rss else None,
            "ratio_of": "memory",
            "size": f"{size:,} recommendations",
            "peak_rss_mb": round(rss, 1),
            "baseline_peak_rss_mb": round(base_rss, 1),
        }]
        m.status = "ok"
        m.peak_rss_mb = max(rss, base_rss)
    except Exception as e:  # reported, never fatal
        m.status = "failed"
        m.error = f"{type(e).__name__}: {e}"
    m.seconds = time.perf_counter() - start
    return m


def _data(r: dict) -> str:
    for key in ("size", "data size", "data", "rows"):
        if r.get(key) not in (None, ""):
            v = r[key]
            return f"{v:,} rows" if isinstance(v, int) else str(v)
    return ""


def _num(v: object, fmt: str) -> str:
    return format(v, fmt) if isinstance(v, (int, float)) else ("" if v is None else str(v))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(runs: list[ModuleRun], info: dict[str, str], *, command: str, started: str, total: float, load_end: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` on {started}, in {total / 60:.1f} min."
        + (" Modules marked *quick* in the last table ran with smaller data and fewer repeats; `make bench` runs them all in full."
           if any(m.quick for m in runs) else ""),
        "Every figure is a whole process (Python start-up included) next to its baseline, measured in the same run on the",
        "same machine; ratio = upr / baseline (below 1: upr is faster; for the memory row, a ratio of peak memory).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {_cell(v)} |" for k, v in info.items()),
        f"| load average at end | {load_end} |",
        "",
        "## Results",
        "",
        "| benchmark | seconds | baseline | baseline seconds | ratio | data | peak RSS (MB) |",
        "|---|---:|---|---:|---:|---|---:|",
    ]
    for m in runs:
        for r in m.results:
            if r.get("markdown"):  # a module's own section, below
                continue
            rss = _num(r.get("peak_rss_mb"), ",.0f")
            if r.get("baseline_peak_rss_mb") is not None:
                rss += f" (baseline {_num(r['baseline_peak_rss_mb'], ',.0f')})"
            ratio = r.get("ratio")
            if ratio is None and isinstance(r.get("seconds"), (int, float)) and r.get("baseline_seconds"):
                ratio = r["seconds"] / r["baseline_seconds"]
            lines.append(
                f"| {_cell(str(r.get('name', '?')))} | {_num(r.get('seconds'), ',.3f')} | {_cell(str(r.get('baseline_name') or ''))} | "
                f"{_num(r.get('baseline_seconds'), ',.3f')} | {_num(ratio, '.2f')}{' (memory)' if r.get('ratio_of') == 'memory' else ''} | "
                f"{_cell(_data(r))} | {rss} |"
            )
    for m in runs:  # sections a module writes itself (bench_classify: agreement, confusion matrix)
        lines += [x for r in m.results if r.get("markdown") for x in ("", f"## {r['name']}", "", r["markdown"])]
    lines += [
        "",
        "## Benchmark modules",
        "",
        "| module | mode | status | figures | run time (s) | peak RSS of the module and its children (MB) |",
        "|---|---|---|---:|---:|---:|",
    ]
    for m in runs:
        mode = "quick" if m.quick else "full"
        lines.append(f"| {m.name} | {mode} | {m.status} | {len(m.results)} | {m.seconds:,.1f} | {_num(m.peak_rss_mb, ',.0f')} |")
    problems = [m for m in runs if m.status != "ok"]
    if problems:
        lines += ["", "## Missing or failed", ""]
        for m in problems:
            if m.status == "missing":
                lines.append(f"- **{m.name}**: missing (no bench/{m.name}.py)")
            else:
                lines += [f"- **{m.name}**: {m.status}", "", "```", m.error.strip()[-2500:], "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every bench/bench_*.py and write bench/RESULTS.md.")
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats")
    parser.add_argument("--full", action="append", default=[], help="with --quick: run this module in full anyway (e.g. --full import); repeatable")
    parser.add_argument("--only", action="append", default=[], help="run only this module (import, bench_query, ...); repeatable")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md", help="where to write the table (default: bench/RESULTS.md)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per module (default: 3600)")
    args = parser.parse_args(argv)

    found = sorted(p.stem for p in BENCH.glob("bench_*.py"))
    names = list(dict.fromkeys([*EXPECTED, *found]))
    if args.only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in args.only}
        names = [n for n in names if n in wanted]
    info = machine()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    runs: list[ModuleRun] = []
    full = {n if n.startswith("bench_") else f"bench_{n}" for n in args.full}
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        m = run_module(name, quick=args.quick and name not in full, timeout=args.timeout)
        m.quick = args.quick and name not in full
        print(f"[bench] {name}: {m.status} ({len(m.results)} figures, {m.seconds:.1f} s)", file=sys.stderr, flush=True)
        runs.append(m)
    if not args.only or "bench_query" in names:
        print("[bench] peak memory of upr stats ...", file=sys.stderr, flush=True)
        runs.append(stats_memory(args.quick and "bench_query" not in full))
    load_end = " / ".join(_read_proc("/proc/loadavg").split()[:3]) or "?"
    command = "make bench" if not argv and len(sys.argv) == 1 else "bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(runs, info, command=command, started=started, total=time.perf_counter() - t0, load_end=load_end)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps([m.__dict__ for m in runs], indent=2, default=str), encoding="utf-8")
    tmp = args.output.with_name(f".{args.output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.output)
    print(f"[bench] wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
