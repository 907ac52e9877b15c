"""`upr serve`: Datasette on the store, read-only, checked in a real browser (headless Chromium).

The store is the real UPR Info export store (a private copy), plus constructed assessments:
two stakeholders who disagree on one Haitian recommendation (made up for the test).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("datasette")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def dump_dom(url: str) -> str:
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (Debian package 'chromium'; `make test` installs it): browser test skipped")
    profile = tempfile.mkdtemp(prefix="upr-chromium-")
    try:
        res = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url], capture_output=True, text=True, timeout=90)
        assert res.returncode == 0, res.stderr[-2000:]
        return res.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def served(export_store_copy):
    db = export_store_copy
    conn = sqlite3.connect(db)
    pk = conn.execute("SELECT pk FROM recommendations WHERE sur = 'HTI' ORDER BY pk LIMIT 1").fetchone()[0]
    conn.execute("INSERT INTO stakeholders (id, name, type) VALUES (1, 'Ministry of Justice', 'state'), (2, 'Réseau NGO', 'ngo')")
    conn.execute("INSERT INTO assessments (rec_pk, stakeholder_id, level) VALUES (?, 1, 'fully'), (?, 2, 'not')", (pk, pk))
    conn.commit()
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    from uprfollow.serve import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uprfollow", "serve", "--port", str(port), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}/{db.stem}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + ".json", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("upr serve stopped: " + proc.stderr.read())
                time.sleep(0.2)
        yield base, pk
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before, "upr serve wrote to the store"


def test_only_localhost(served):
    base, _ = served
    port = base.split(":")[2].split("/")[0]
    import socket

    with socket.socket() as s:  # bound to 127.0.0.1 only: another address of this machine is refused
        s.settimeout(2)
        other = socket.gethostbyname(socket.gethostname())
        if other.startswith("127."):
            pytest.skip("this machine has no address besides loopback to try")
        assert s.connect_ex((other, int(port))) != 0


def test_facet_page_in_a_browser(served):
    base, _ = served
    dom = dump_dom(base + "/recommendations_browse?sur=HTI")
    assert "Recommendations (browse by the eight categories and the level)" in dom
    for facet in ("sur_group", "rs_groups", "response", "action", "issues", "session", "level"):
        assert f'data-column="{facet}"' in dom, facet
    assert "not_assessed" in dom and "Accepted" in dom and "Women's rights" in dom
    assert "136 rows where sur = HTI" in dom or "136 rows" in dom


def test_canned_queries_in_a_browser(served):
    base, pk = served
    dom = dump_dom(base + "/state_recommendations?sur=HTI")
    assert "One State's recommendations, with every voice" in dom
    assert "Ministry of Justice" in dom and "Réseau NGO" in dom
    dom = dump_dom(base + "/contested_recommendations")
    assert "Contested recommendations" in dom and "Ministry of Justice (state): fully" in dom and "Réseau NGO (ngo): not" in dom
    dom = dump_dom(base + "/implementation_by_issue")
    assert "Implementation by issue" in dom and "triggered_percent" in dom


def test_search_box_uses_the_full_text_index(served):
    base, _ = served
    dom = dump_dom(base + "/recommendations_browse?_search=torture&sur=HTI")
    assert 'where search matches "torture"' in dom


def test_search_box_finds_english_lemmas(served, export_store):
    """Datasette's plain search box searches every column, so "woman" finds "women" through the lemmas."""
    import json

    base, _ = served
    data = json.load(urllib.request.urlopen(base + "/recommendations_browse.json?_search=woman&_size=0", timeout=30))
    conn = sqlite3.connect(export_store)
    women = conn.execute("SELECT count(*) FROM recommendations WHERE ' ' || lower(text) || ' ' LIKE '% women %'").fetchone()[0]
    assert women > 1000 and data["filtered_table_rows_count"] >= women


def test_serve_without_a_store_is_an_error(tmp_path, runner):
    from uprfollow.cli import app

    res = runner.invoke(app, ["serve", "--db", str(tmp_path / "none.db")])
    assert res.exit_code == 1 and "no store at" in res.output
    assert not (tmp_path / "none.db").exists()


def test_datasette_binds_loopback_and_opens_immutable(tmp_path):
    from uprfollow.serve import HOST, command

    cmd = command(Path("x.db"), tmp_path / "m.json", 9999)
    assert cmd[cmd.index("--host") + 1] == HOST == "127.0.0.1" and cmd[cmd.index("-i") + 1] == "x.db"
