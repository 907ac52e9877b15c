"""Crash safety: SIGKILL `upr import` and `upr ingest` at random moments; the store is always before or after.

For each trial a fresh copy of a store holding earlier data gets `upr import BIG.csv`
(6,000 generated rows; 40 trials) or `upr ingest SHEET.csv` (a newer sheet from the same
stakeholder, replacing 4,000 current assessments and keeping the old ones as history;
20 trials) in a child process, which is killed with SIGKILL at a seeded
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
from hostile.make_corpus import filled_sheet_csv, upr_info_csv

from uprfollow.importer import import_files
from uprfollow.maintenance import check_store
from uprfollow.store import open_store

pytestmark = pytest.mark.slow

SEED = 20261123
IMPORT_TRIALS = 40
INGEST_TRIALS = 20
ROWS = 6_000
INGEST_ROWS = 4_000
COUNTS = tuple(f"SELECT count(*) FROM {t}" for t in (
    "recommendations", "recommending_states", "recommendation_issues", "recommendation_themes", "imports",
    "assessments", "ingests", "stakeholders")) + (
    "SELECT count(*) FROM assessments WHERE current = 1",
    "SELECT count(*) FROM assessments WHERE replaced_by IS NOT NULL",
    "SELECT coalesce(sum(length(comment)), 0) FROM assessments WHERE current = 1",
)
POLL = 0.003


def counts(db: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return tuple(conn.execute(sql).fetchone()[0] for sql in COUNTS)
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
    folder = tmp_path_factory.mktemp("crash-import")
    base = folder / "base.db"
    with open_store(base) as store:
        import_files(store, [upr_info_csv(folder / "earlier.csv", 300, seed=1, tag="earlier")])
    checkpoint(base)
    big = upr_info_csv(folder / "big.csv", ROWS, seed=2, tag="big")
    args = ["import", str(big)]
    before = counts(base)
    reference = folder / "reference.db"
    shutil.copyfile(base, reference)
    timeline = measure(args, reference)
    after = counts(reference)
    assert after[0] == before[0] + ROWS
    return folder, base, args, before, after, timeline


@pytest.fixture(scope="module")
def ingest_setup(tmp_path_factory):
    """A store with 4,000 recommendations to Haiti, all assessed by one NGO; then its newer sheet."""
    folder = tmp_path_factory.mktemp("crash-ingest")
    base = folder / "base.db"
    with open_store(base) as store:
        import_files(store, [upr_info_csv(folder / "hti.csv", INGEST_ROWS, seed=3, tag="hti", sur="Haiti")])
        ids = [r[0] for r in store.conn.execute("SELECT id FROM recommendations ORDER BY pk")]
    who = ["--stakeholder", "Réseau fictif", "--type", "ngo"]
    first = filled_sheet_csv(folder / "first.csv", ids, seed=1, comment="first")
    env = {**os.environ, "UPR_DB": str(base), "UPR_QUIET": "1"}
    subprocess.run([sys.executable, "-m", "uprfollow", "ingest", str(first), *who, "--as-of", "2026-01-15"], env=env, check=True)
    checkpoint(base)
    newer = filled_sheet_csv(folder / "newer.csv", ids, seed=2, comment="second round")
    args = ["ingest", str(newer), *who, "--as-of", "2026-09-30"]
    before = counts(base)
    reference = folder / "reference.db"
    shutil.copyfile(base, reference)
    timeline = measure(args, reference)
    after = counts(reference)
    assert after[5] == before[5] + INGEST_ROWS and after[8] == INGEST_ROWS  # new assessments; the old ones kept
    return folder, base, args, before, after, timeline


def run_trials(name: str, n: int, setup, seed: int) -> None:
    folder, base, args, before, after, timeline = setup
    trials = plan(n, timeline, random.Random(seed))
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda t: run_trial(t, args, base, folder, before, after), trials))
    killed = [t for t in done if t.killed]
    mid_write = [t for t in killed if t.mode == "mid-write" and t.wal_bytes > 0]
    rolled_back = [t for t in mid_write if t.state == "before"]
    print(
        f"\n{name} crash trials: {len(done)} (timeline: commit {timeline.write_start:.2f}-{timeline.write_end:.2f} s, "
        f"exit {timeline.end:.2f} s); killed {len(killed)}, of which {len(mid_write)} while the WAL held data "
        f"({len(rolled_back)} rolled back to before, {len(mid_write) - len(rolled_back)} already committed); "
        f"states: {sum(t.state == 'before' for t in done)} before, {sum(t.state == 'after' for t in done)} after"
    )
    assert len(done) == n
    assert len(killed) >= n // 2, "most trials should kill the child before it finishes"
    assert mid_write, "no kill landed while the child was writing: the test lost its point"


def test_sigkill_import(import_setup):
    run_trials("import", IMPORT_TRIALS, import_setup, SEED)


def test_sigkill_ingest(ingest_setup):
    run_trials("ingest", INGEST_TRIALS, ingest_setup, SEED + 1)


def test_enough_trials():
    assert IMPORT_TRIALS + INGEST_TRIALS >= 50
