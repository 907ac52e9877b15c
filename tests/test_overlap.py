"""Cron overlap: several upr processes on one store at once all succeed, with correct results.

The jobs: two imports, an ingest (writers); a status query, a stats query, an MIA digest,
a backup and a check (readers).

The store runs in WAL mode and every write is `BEGIN IMMEDIATE` with a busy timeout:
readers never wait, a second writer waits for the first instead of failing. To make the
overlap certain rather than lucky, the test itself holds the write lock while it starts
the processes: the readers must finish while it is held, the writers must wait for it,
then proceed, and all must exit 0. With a busy timeout shorter than the lock, a writer
gives up with a clear message and writes nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile.make_corpus import filled_sheet_csv, upr_info_csv

from uprfollow.importer import import_files
from uprfollow.store import open_store

HOLD = 3.0  # seconds the test holds the write lock
WHO = ["--stakeholder", "Réseau fictif", "--type", "ngo"]


@pytest.fixture
def scene(tmp_path):
    """A store with 2,000 recommendations to Haiti assessed once, and the files the jobs will read."""
    db = tmp_path / "upr.db"
    with open_store(db) as store:
        import_files(store, [upr_info_csv(tmp_path / "hti.csv", 2000, seed=3, tag="hti", sur="Haiti")])
        ids = [r[0] for r in store.conn.execute("SELECT id FROM recommendations ORDER BY pk")]
    first = filled_sheet_csv(tmp_path / "first.csv", ids, seed=1, comment="first")
    env = {**os.environ, "UPR_DB": str(db), "UPR_QUIET": "1"}
    subprocess.run([sys.executable, "-m", "uprfollow", "ingest", str(first), *WHO, "--as-of", "2026-01-15"], env=env, check=True)
    return {
        "db": db,
        "ids": ids,
        "import_a": upr_info_csv(tmp_path / "a.csv", 3000, seed=4, tag="a", sur="Norway"),
        "import_b": upr_info_csv(tmp_path / "b.csv", 1000, seed=5, tag="b", sur="Kenya"),
        "newer": filled_sheet_csv(tmp_path / "newer.csv", ids, seed=2, comment="second round"),
        "backup": tmp_path / "backup.db",
        "digest": tmp_path / "MIA-HTI.html",
        "tmp": tmp_path,
    }


def start(args: list[str], db: Path, **extra_env: str) -> subprocess.Popen:
    env = {**os.environ, "UPR_DB": str(db), **extra_env}
    env.pop("UPR_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "uprfollow", *args], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def jobs(scene) -> dict[str, list[str]]:
    return {
        "import": ["import", str(scene["import_a"])],
        "import (second writer)": ["import", str(scene["import_b"])],
        "ingest": ["ingest", str(scene["newer"]), *WHO, "--as-of", "2026-09-30", "--format", "json"],
        "status (query)": ["status", "HTI", "--format", "json"],
        "stats (query)": ["stats", "--by", "level", "--sur", "HTI", "--format", "json"],
        "backup (snapshot)": ["db", "backup", str(scene["backup"]), "--format", "json"],
        "digest": ["mia", "HTI", "-o", str(scene["digest"]), "--format", "html"],
        "check": ["db", "check", "--format", "json"],
    }


def test_overlapping_jobs_all_succeed(scene):
    db = scene["db"]
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another writer is busy: everybody arrives now
    started = time.monotonic()
    procs = {name: start(args, db) for name, args in jobs(scene).items()}
    readers = ("status (query)", "stats (query)", "backup (snapshot)", "check", "digest")
    reader_out = {}
    try:
        for name in readers:
            out, err = procs[name].communicate(timeout=60)
            assert procs[name].returncode == 0, f"{name}: {err}"
            reader_out[name] = out
        readers_done = time.monotonic() - started
        time.sleep(max(0.0, HOLD - readers_done))
        writers_waiting = [n for n, p in procs.items() if n not in readers and p.poll() is None]
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    # the readers finished while the lock was still held (a reader waiting for the writer would have hit the
    # 60 s timeout above), whatever the machine's load; no timing assertion needed
    assert set(writers_waiting) == {"import", "import (second writer)", "ingest"}, (
        f"writers should still be waiting for the lock after {HOLD} s: {writers_waiting}"
    )
    outputs = {}
    for name, p in procs.items():
        if name in readers:
            continue
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{name} failed instead of waiting: {err}"
        outputs[name] = out

    # every write landed whole
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 2000 + 3000 + 1000
    assert conn.execute("SELECT count(*) FROM assessments WHERE current = 1").fetchone()[0] == 2000
    assert conn.execute("SELECT count(*) FROM assessments WHERE current = 0").fetchone()[0] == 2000
    assert conn.execute("SELECT count(*) FROM assessments WHERE current = 1 AND comment LIKE 'second round%'").fetchone()[0] == 2000
    assert conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 3
    conn.close()
    report = json.loads(outputs["ingest"])
    assert report[0]["added"] == 2000 and report[0]["replaced"] == 2000
    # the digest and the stats ran while the lock was held: they show the first round of assessments
    assert digest_rounds(scene["digest"]) == {"first"}
    conn = sqlite3.connect(db)
    first_round = dict(conn.execute("SELECT level, count(*) FROM assessments WHERE current = 0 GROUP BY level").fetchall())
    conn.close()
    stats = {r["level"]: r["count"] for r in json.loads(reader_out["stats (query)"])}
    assert {k: stats.get(k, 0) for k in first_round} == first_round
    assert sum(stats.get(k, 0) for k in ("fully", "partially", "not", "no_data")) == 2000


def digest_rounds(path: Path) -> set[str]:
    """Which sheets' comments a digest shows: 'first', 'second round' or both (which would be a torn read)."""
    import re

    text = path.read_text(encoding="utf-8")
    return set(re.findall(r"\b(first|second round) \d+", text))


def test_readers_see_a_consistent_snapshot_while_writers_write(scene):
    """A query and a backup running during an import and an ingest see before or after, never half."""
    db = scene["db"]
    procs = {name: start(args, db) for name, args in jobs(scene).items() if name != "check"}
    results = {name: p.communicate(timeout=120) + (p.returncode,) for name, p in procs.items()}
    for name, (_out, err, code) in results.items():
        assert code == 0, f"{name}: {err}"
    status = json.loads(results["status (query)"][0])
    assert len(status) == 2000
    comments = {v["comment"].split(" ")[0] for s in status for v in s["voices"]}
    assert comments in ({"first"}, {"second"}), f"the query saw a mix of two ingests: {comments}"
    assert len(digest_rounds(scene["digest"])) == 1, "the digest mixed two rounds of assessments"
    backup = sqlite3.connect(scene["backup"])
    assert backup.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    recs = backup.execute("SELECT count(*) FROM recommendations").fetchone()[0]
    assert recs in (2000, 5000, 3000, 6000)
    current = backup.execute("SELECT count(*) FROM assessments WHERE current = 1").fetchone()[0]
    total = backup.execute("SELECT count(*) FROM assessments").fetchone()[0]
    assert current == 2000 and total in (2000, 4000)
    backup.close()


def test_writer_gives_up_cleanly_after_the_busy_timeout(scene):
    db = scene["db"]
    before = sqlite3.connect(db).execute("SELECT count(*) FROM recommendations").fetchone()[0]
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        p = start(["import", str(scene["import_b"])], db, UPR_BUSY_TIMEOUT="1")
        out, err = p.communicate(timeout=60)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert p.returncode == 1
    assert "the store stayed locked by another upr process for too long" in err
    assert "UPR_BUSY_TIMEOUT" in err and "Traceback" not in err
    assert sqlite3.connect(db).execute("SELECT count(*) FROM recommendations").fetchone()[0] == before


def test_query_during_an_import_to_the_same_state(scene):
    """upr status reads one snapshot: an import for the same State committing mid-query cannot tear it (it used to: KeyError)."""
    db = scene["db"]
    more = upr_info_csv(scene["tmp"] / "more-hti.csv", 3000, seed=12, tag="more", sur="Haiti")
    writer = start(["import", str(more)], db, UPR_QUIET="1")
    failures = []
    while writer.poll() is None:
        p = start(["status", "HTI", "--format", "json"], db)
        out, err = p.communicate(timeout=60)
        if p.returncode != 0:
            failures.append(err.strip().splitlines()[-1])
    writer.communicate()
    assert writer.returncode == 0
    assert not failures, failures
