"""Two `upr import` processes on one store, started at the same moment, both succeed with correct totals."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from uprfollow.sample import CSV_NAME, synthetic_export_csv, write_sample

# A real `upr` process that waits at a barrier: it announces itself, then spins until the
# go file appears, so both imports start within a millisecond of each other.
CHILD = """
import sys, time
from pathlib import Path
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.001)
from uprfollow.cli import main
sys.argv = ["upr", *sys.argv[3:]]
main()
"""


def import_together(db: Path, files: list[Path], tmp_path: Path) -> list[tuple[int, list[dict], str]]:
    """Run one `upr import --format json FILE` per file, all released at once; (exit code, report, stderr) each."""
    env = {**os.environ, "UPR_DB": str(db), "UPR_BUSY_TIMEOUT": "120"}
    env.pop("UPR_DEBUG", None)
    go = tmp_path / "go"
    procs = []
    for i, f in enumerate(files):
        ready = tmp_path / f"ready-{i}"
        args = [sys.executable, "-c", CHILD, str(ready), str(go), "import", "--format", "json", str(f)]
        procs.append((ready, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)))
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in procs):
        assert time.monotonic() < deadline, "the import processes did not start"
        time.sleep(0.005)
    go.touch()
    out = []
    for _, p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append((p.returncode, json.loads(stdout) if p.returncode == 0 else [], stderr))
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("concurrency")
    sample = write_sample(folder / "sample", size=400, seed=7)
    return {"sample": sample.folder / CSV_NAME, "synthetic": synthetic_export_csv(folder / "synthetic.csv", 3000, seed=7)}


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_two_imports_of_different_files_into_a_new_store(inputs, tmp_path):
    """Neither process finds a store: both create and migrate it, then both write, one after the other."""
    db = tmp_path / "upr.db"
    results = import_together(db, [inputs["sample"], inputs["synthetic"]], tmp_path)
    for code, _report, stderr in results:
        assert code == 0, stderr
        assert "locked" not in stderr
    assert [r[1][0]["added"] for r in results] == [400, 3000]
    assert count(db, "SELECT count(*) FROM recommendations") == 3400
    assert count(db, "SELECT count(*) FROM imports") == 2
    assert count(db, "SELECT count(*) FROM recommendations_fts WHERE recommendations_fts MATCH 'fictional'") == 3400
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_the_same_file_twice_at_once(inputs, tmp_path):
    """The second writer sees every row the first one wrote: N new once, N already present once."""
    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    db = tmp_path / "upr.db"
    with open_store(db) as store:
        import_files(store, [inputs["synthetic"]])
    results = import_together(db, [inputs["sample"], inputs["sample"]], tmp_path)
    for code, _report, stderr in results:
        assert code == 0, stderr
    outcomes = sorted((r[1][0]["added"], r[1][0]["already_present"]) for r in results)
    assert outcomes == [(0, 400), (400, 0)]
    assert count(db, "SELECT count(*) FROM recommendations") == 3400
    assert count(db, "SELECT count(DISTINCT id) FROM recommendations") == 3400
    assert count(db, "SELECT count(*) FROM imports") == 3
