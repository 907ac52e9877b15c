"""Crash safety: SIGKILL `upr import` at random moments; the store is always exactly before or after.

For each trial a fresh copy of a store holding earlier data gets `upr import BIG.csv`
(6,000 generated rows) in a child process, which is killed with SIGKILL at a seeded
random moment. A third of the moments are spread over the whole run (start-up, reading,
checking, building the transaction in memory); the others fall within the commit, once
the child starts writing the transaction to the WAL file (SQLite keeps the pages of a
transaction in its cache until COMMIT), and its checkpoint, so the kill lands mid-write. After each kill: `PRAGMA integrity_check` is ok, `upr db check`
finds nothing, the store opens with `open_store`, and the row counts of every table
equal exactly the counts before the command or after it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile.make_corpus import upr_info_csv

from uprfollow.maintenance import check_store
from uprfollow.store import open_store

pytestmark = pytest.mark.slow

SEED = 20261123
IMPORT_TRIALS = 50
ROWS = 6_000
TABLES = ("recommendations", "recommending_states", "recommendation_issues", "recommendation_themes", "imports",
          "assessments", "ingests", "stakeholders")
POLL = 0.003


def counts(db: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
    finally:
        conn.close()


def checkpoint(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@dataclass
class Timeline:
    write_start: float   # seconds from launch until the WAL first grows (the commit begins)
    write_end: float     # seconds from launch until the WAL stops growing
    end: float           # seconds from launch until the child exits


@dataclass
class Trial:
    n: int
    mode: str            # "anytime" or "mid-write"
    delay: float
    killed: bool = False
    wal_bytes: int = 0   # size of the WAL at the moment of the kill
    state: str = ""      # "before" or "after"


def launch(args: list[str], db: Path) -> subprocess.Popen:
    env = {**os.environ, "UPR_DB": str(db), "UPR_QUIET": "1"}
    env.pop("UPR_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "uprfollow", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wal_size(db: Path) -> int:
    try:
        return os.path.getsize(str(db) + "-wal")
    except OSError:
        return 0


def measure(args: list[str], db: Path) -> Timeline:
    start = time.monotonic()
    proc = launch(args, db)
    write_start = write_end = None
    last = 0
    while proc.poll() is None:
        size = wal_size(db)
        now = time.monotonic() - start
        if size > 0 and write_start is None:
            write_start = now
        if size > last:
            write_end = now
        last = size
        time.sleep(POLL / 3)
    end = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    if write_start is None or write_end is None:
        write_start, write_end = end * 0.9, end
    return Timeline(write_start, write_end, end)


def run_trial(trial: Trial, args: list[str], base: Path, folder: Path, before: tuple, after: tuple) -> Trial:
    db = folder / f"trial-{trial.n}.db"
    shutil.copyfile(base, db)
    start = time.monotonic()
    proc = launch(args, db)
    if trial.mode == "mid-write":
        # wait for the write to begin, then kill after a random part of the write's duration
        while proc.poll() is None and wal_size(db) == 0:
            time.sleep(POLL)
        start = time.monotonic()
    while proc.poll() is None and time.monotonic() - start < trial.delay:
        time.sleep(POLL)
    trial.wal_bytes = wal_size(db)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        trial.killed = True
    proc.wait()
    if proc.stderr:
        proc.stderr.close()
    if not trial.killed:
        assert proc.returncode == 0
    got = counts(db)  # integrity_check inside
    assert got in (before, after), f"trial {trial.n} ({trial.mode}, {trial.delay:.3f} s): counts {got} are neither {before} nor {after}"
    trial.state = "before" if got == before else "after"
    report = check_store(db)
    assert report.ok, [str(f) for f in report.findings]
    open_store(db).close()  # the store opens (and would migrate) normally
    for p in folder.glob(f"trial-{trial.n}.db*"):
        p.unlink()
    return trial


def plan(n: int, timeline: Timeline, rnd: random.Random) -> list[Trial]:
    commit = max(timeline.write_end - timeline.write_start, 0.01)
    after_commit = max(timeline.end - timeline.write_end, 0.01)
    trials = []
    for i in range(n):
        if i % 3 == 0:
            trials.append(Trial(i, "anytime", rnd.uniform(0, timeline.end * 1.05)))
        elif i % 3 == 1:
            trials.append(Trial(i, "mid-write", rnd.uniform(0, commit * 1.5)))
        else:  # the checkpoint and closing after the commit
            trials.append(Trial(i, "mid-write", commit + rnd.uniform(0, after_commit)))
    return trials


@pytest.fixture(scope="module")
def import_setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    base = folder / "base.db"
    with open_store(base) as store:
        from uprfollow.importer import import_files

        import_files(store, [upr_info_csv(folder / "earlier.csv", 300, seed=1, tag="earlier")])
    checkpoint(base)
    big = upr_info_csv(folder / "big.csv", ROWS, seed=2, tag="big")
    before = counts(base)
    reference = folder / "reference.db"
    shutil.copyfile(base, reference)
    timeline = measure(["import", str(big)], reference)
    after = counts(reference)
    assert after[0] == before[0] + ROWS
    return folder, base, big, before, after, timeline


def test_sigkill_import(import_setup):
    folder, base, big, before, after, timeline = import_setup
    rnd = random.Random(SEED)
    trials = plan(IMPORT_TRIALS, timeline, rnd)
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda t: run_trial(t, ["import", str(big)], base, folder, before, after), trials))
    killed = [t for t in done if t.killed]
    mid_write = [t for t in killed if t.mode == "mid-write" and t.wal_bytes > 0]
    rolled_back = [t for t in mid_write if t.state == "before"]
    print(
        f"\nimport crash trials: {len(done)} (timeline: commit {timeline.write_start:.2f}-{timeline.write_end:.2f} s, exit {timeline.end:.2f} s); "
        f"killed {len(killed)}, of which {len(mid_write)} while the WAL held data "
        f"({len(rolled_back)} rolled back to before, {len(mid_write) - len(rolled_back)} already committed); "
        f"states: {sum(t.state == 'before' for t in done)} before, {sum(t.state == 'after' for t in done)} after"
    )
    assert len(done) >= 50
    assert len(killed) >= len(done) // 2, "most trials should kill the child before it finishes"
    assert rolled_back, "no kill landed in the middle of the write transaction: the test lost its point"
