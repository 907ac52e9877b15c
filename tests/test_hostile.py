"""Hostile and broken files: each is refused with its message, exit 1, the store byte-for-byte unchanged.

The corpus is generated at test time by tests/hostile/make_corpus.py (nothing big is committed).
Each file is imported by a real `upr` process so its peak memory can be measured. There are no
time limits (the project's rule: no timing assertions in unit tests, the machine is noisy); a
generous hang guard (`run_measured`'s timeout) only stops a process that never ends.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile.make_corpus import CASES, UPR_INFO_HEADER, Case, build_all, upr_info_csv, upr_info_rows

from uprfollow.cli import app
from uprfollow.paths import UnsafeOutputPath, safe_name, safe_output_path

UPR = [sys.executable, "-m", "uprfollow"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_all(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A store holding 20 recommendations, checkpointed so its files only change on a real write."""
    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    folder = tmp_path_factory.mktemp("seeded")
    src = upr_info_csv(folder / "seed.csv", 20, seed=3)
    db = folder / "upr.db"
    with open_store(db) as store:
        import_files(store, [src])
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def store_hash(db: Path) -> str:
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(db) + suffix)
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


def _vm_hwm_mb(pid: int) -> float:
    """The peak RSS so far of a running process (VmHWM), in MB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_measured(args: list[str], db: Path, timeout: float = 120) -> tuple[int, str, str, float, float]:
    """Run upr in a child process: (exit code, stdout, stderr, seconds, peak RSS in MB of that child).

    The peak is sampled from /proc every 10 ms. wait4's ru_maxrss would be wrong here: a child
    started with vfork/fork carries the test process's own peak RSS (hundreds of MB late in a run).
    """
    import threading

    env = {**os.environ, "UPR_DB": str(db)}
    env.pop("UPR_DEBUG", None)
    start = time.monotonic()
    proc = subprocess.Popen([*UPR, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        chunks[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, st)) for n, st in (("out", proc.stdout), ("err", proc.stderr))]
    for t in threads:
        t.start()
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _vm_hwm_mb(proc.pid))
        if time.monotonic() - start > timeout:
            proc.kill()
            proc.wait()
            pytest.fail(f"upr {' '.join(args)} took more than {timeout} s")
        time.sleep(0.01)
    for t in threads:
        t.join()
    return proc.returncode, chunks["out"].decode(), chunks["err"].decode(), time.monotonic() - start, peak


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file_is_refused(case: Case, corpus, seeded, tmp_path):
    db = tmp_path / "upr.db"
    db.write_bytes(seeded.read_bytes())
    before = store_hash(db)
    code, out, err, _seconds, rss = run_measured(["import", str(corpus[case.name]), *case.args], db)
    assert code == case.exit_code, f"exit {code}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
    assert case.expected in err, err[:3000]
    assert "Traceback" not in err
    assert store_hash(db) == before, "the store changed"
    assert rss < case.max_rss_mb, f"peak memory {rss:.0f} MB"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 20


def test_zip_bomb_is_tiny_but_huge(corpus):
    import zipfile

    p = corpus["zip-bomb.xlsx"]
    assert p.stat().st_size < 3_000_000
    with zipfile.ZipFile(p) as z:
        assert sum(i.file_size for i in z.infolist()) > 2_000_000_000


def test_long_cell_message_is_short(corpus, seeded, tmp_path):
    db = tmp_path / "upr.db"
    db.write_bytes(seeded.read_bytes())
    code, _out, err, _s, _r = run_measured(["import", str(corpus["long-cell.csv"])], db)
    assert code == 1
    assert len(err) < 5_000


def test_a_good_file_still_imports(seeded, tmp_path):
    """The guards do not refuse ordinary files: a real .xlsx written by openpyxl, and a CSV."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(UPR_INFO_HEADER)
    for row in upr_info_rows(50, seed=11, tag="x"):
        ws.append(row)
    xlsx = tmp_path / "good.xlsx"
    wb.save(xlsx)
    db = tmp_path / "upr.db"
    db.write_bytes(seeded.read_bytes())
    code, out, err, _s, _r = run_measured(["import", str(xlsx)], db)
    assert code == 0, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM recommendations").fetchone()[0] == 70


# --- output paths: symbolic links and names escaping their folder ---------------------------

def test_safe_name_refuses_path_tricks():
    assert safe_name("HTI") == "HTI"
    assert safe_name("Côte d'Ivoire NGO") == "Côte d'Ivoire NGO"
    for bad in ("../../etc", "..", ".", "", "a/b", "a\\b", "x\x00", "/etc/passwd", "-rf", "a..b"):
        with pytest.raises(UnsafeOutputPath):
            safe_name(bad, what="State code")


def test_safe_output_path_refuses_escape_and_links(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert safe_output_path("HTI.xlsx", base=out) == out / "HTI.xlsx"
    for bad in ("../../etc/passwd", "../x.xlsx", "/etc/passwd", "sub/../../x"):
        with pytest.raises(UnsafeOutputPath, match="leaves the folder"):
            safe_output_path(bad, base=out)
    (tmp_path / "elsewhere").mkdir()
    (out / "linkdir").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeOutputPath, match="symbolic link|leaves the folder"):
        safe_output_path("linkdir/HTI.xlsx", base=out)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "HTI.pdf").symlink_to(victim)
    for force in (False, True):
        with pytest.raises(UnsafeOutputPath, match="symbolic link"):
            safe_output_path(out / "HTI.pdf", force=force)
    (out / "dangling.pdf").symlink_to(tmp_path / "nothing-here")
    with pytest.raises(UnsafeOutputPath, match="symbolic link"):
        safe_output_path(out / "dangling.pdf")
    (out / "exists.pdf").write_text("x")
    with pytest.raises(UnsafeOutputPath, match="already exists"):
        safe_output_path(out / "exists.pdf")
    assert safe_output_path(out / "exists.pdf", force=True) == out / "exists.pdf"
    assert victim.read_text() == "precious"


def test_open_new_file_never_follows_a_link(tmp_path):
    from uprfollow.paths import open_new_file

    target = tmp_path / "new.bin"
    with open_new_file(target) as f:
        f.write(b"data")
    assert target.read_bytes() == b"data"
    with pytest.raises(UnsafeOutputPath, match="already exists"):
        open_new_file(target)
    with open_new_file(target, force=True) as f:
        f.write(b"again")
    assert target.read_bytes() == b"again"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "link.bin"
    link.symlink_to(victim)
    for force in (False, True):
        with pytest.raises(UnsafeOutputPath):
            open_new_file(link, force=force)
    assert victim.read_text() == "precious"


def test_backup_refuses_symlink_output(runner, seeded, tmp_path):
    db = tmp_path / "upr.db"
    db.write_bytes(seeded.read_bytes())
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "backup.db"
    link.symlink_to(victim)
    for extra in ([], ["--force"]):
        result = runner.invoke(app, ["db", "backup", str(link), "--db", str(db), *extra])
        assert result.exit_code == 1
        assert "is a symbolic link: upr does not write through links" in result.output
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_log_file_refuses_symlink(runner, seeded, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "upr.log"
    link.symlink_to(victim)
    result = runner.invoke(app, ["--log-file", str(link), "db", "check", "--db", str(seeded)])
    assert result.exit_code == 1
    assert "cannot write the log file" in result.output and "symbolic link" in result.output
    assert victim.read_text() == "precious"


# --- commands writing files: sheet, mia, stats, search ----------------------------------------

@pytest.fixture
def assessed_store(tmp_path) -> Path:
    """20 recommendations to Haiti, assessed by one NGO."""
    from hostile.make_corpus import filled_sheet_csv

    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    db = tmp_path / "upr.db"
    with open_store(db) as store:
        import_files(store, [upr_info_csv(tmp_path / "hti.csv", 20, seed=4, tag="hti", sur="Haiti")])
        ids = [r[0] for r in store.conn.execute("SELECT id FROM recommendations")]
    sheet = filled_sheet_csv(tmp_path / "filled.csv", ids)
    code, _o, err, _s, _r = run_measured(["ingest", str(sheet), "--stakeholder", "NGO", "--type", "ngo"], db)
    assert code == 0, err
    return db


WRITERS = {
    "sheet": lambda out: ["sheet", "HTI", "-o", str(out)],
    "mia": lambda out: ["mia", "HTI", "-o", str(out), "--format", "html"],
    "stats -o": lambda out: ["stats", "--by", "level", "--sur", "HTI", "--format", "csv", "-o", str(out)],
    "stats --chart": lambda out: ["stats", "--by", "level", "--sur", "HTI", "--chart", str(out)],
    "search -o": lambda out: ["search", "--sur", "HTI", "--format", "csv", "-o", str(out)],
    "search -o json": lambda out: ["search", "--sur", "HTI", "--format", "json", "-o", str(out)],
    "search -o xlsx": lambda out: ["search", "--sur", "HTI", "--format", "xlsx", "-o", str(out)],
    "search --count -o": lambda out: ["search", "--sur", "HTI", "--count", "-o", str(out)],
    "stats -o xlsx": lambda out: ["stats", "--by", "level", "--sur", "HTI", "--format", "xlsx", "-o", str(out)],
}
SUFFIX = {"sheet": ".xlsx", "mia": ".html", "stats -o": ".csv", "stats --chart": ".svg", "search -o": ".csv",
          "search -o json": ".json", "search -o xlsx": ".xlsx", "search --count -o": ".txt", "stats -o xlsx": ".xlsx"}


@pytest.mark.parametrize("command", list(WRITERS))
def test_output_link_never_writes_through(command, assessed_store, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / f"out{SUFFIX[command]}"
    link.symlink_to(victim)
    run_measured(WRITERS[command](link), assessed_store)
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("command", list(WRITERS))
def test_output_link_is_refused(command, assessed_store, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / f"out{SUFFIX[command]}"
    link.symlink_to(victim)
    code, _out, err, _s, _r = run_measured(WRITERS[command](link), assessed_store)
    assert code == 1 and "symbolic link" in err, err
    assert "Traceback" not in err
    assert link.is_symlink() and victim.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


@pytest.mark.parametrize("command", list(WRITERS))
def test_dangling_output_link_is_refused(command, assessed_store, tmp_path):
    """A link to a file that does not exist yet: following it would create the file wherever it points."""
    link = tmp_path / f"out{SUFFIX[command]}"
    link.symlink_to(tmp_path / "elsewhere" / "planted")
    (tmp_path / "elsewhere").mkdir()
    code, _out, err, _s, _r = run_measured(WRITERS[command](link), assessed_store)
    assert code == 1 and "symbolic link" in err, err
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("command", list(WRITERS))
def test_output_replaces_a_regular_file(command, assessed_store, tmp_path):
    """An existing file (not a link) is still replaced, with the usual permissions, and no temporary file is left."""
    out = tmp_path / f"out{SUFFIX[command]}"
    out.write_text("old")
    code, _out, err, _s, _r = run_measured(WRITERS[command](out), assessed_store)
    assert code == 0, err
    assert not out.is_symlink() and out.read_bytes() != b"old" and out.stat().st_size > 0
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_sheet_ignores_a_planted_temporary_link(assessed_store, tmp_path):
    """Links planted at the old predictable temporary names are never followed: the sheet goes to a fresh mkstemp file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in (".out.xlsx.tmp", ".out.xlsx.part", "out.xlsx.tmp"):
        (tmp_path / name).symlink_to(victim)
    code, _o, err, _s, _r = run_measured(["sheet", "HTI", "-o", str(tmp_path / "out.xlsx")], assessed_store)
    assert code == 0, err
    assert victim.read_text() == "precious"
    out = tmp_path / "out.xlsx"
    assert not out.is_symlink() and out.read_bytes()[:2] == b"PK"


def test_state_codes_cannot_escape_the_output_folder(assessed_store, tmp_path):
    """A State code like ../../etc: refused on the command line, and refused when it comes from a tampered store."""
    out = tmp_path / "digests"
    out.mkdir()
    for args in (["mia", "../../etc", "--out-dir", str(out), "--format", "html"], ["sheet", "../../etc", "-o", str(out / "x.xlsx")]):
        code, _o, err, _s, _r = run_measured(args, assessed_store)
        assert code in (1, 2) and "unknown State '../../etc'" in err
    conn = sqlite3.connect(assessed_store)
    conn.execute("INSERT INTO countries (iso3, name, un_member, regional_group) VALUES ('../../escaped', 'x', 1, 'Asia')")
    conn.execute("UPDATE recommendations SET sur = '../../escaped'")
    conn.commit()
    conn.close()
    code, _o, err, _s, _r = run_measured(["mia", "--all", "--out-dir", str(out), "--format", "html"], assessed_store)
    assert code == 1
    assert not list(tmp_path.rglob("*escaped*"))
    assert list(out.iterdir()) == []
