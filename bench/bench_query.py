"""Benchmark `upr stats` and `upr search` on a synthetic store of 1,000,000 recommendations.

Run as a script (`.venv/bin/python bench/bench_query.py [--quick] [--size N]`) or call `run()`.

The synthetic store is built once and cached under `bench/out/` (gitignored). Its rows use
the real vocabularies (the 193 UN members and the observers, their regional groups and
organisations, the 54 issues, the five action categories, sessions 1-54 with their years
and cycles) with skewed, UPR-like distributions, and texts assembled from the action
verbs and issue phrases, so full-text search has a realistic vocabulary.

Each figure is the median of several whole-process runs (`upr ...` in a subprocess,
Python start-up included), next to a baseline measured in the same run:
- `upr stats --by issue --by response` beside a pandas script doing the same cross-tab
  on the same store (pandas reads the two tables it needs and merges them);
- `upr search "death penalty" --count` beside a pandas script counting the same rows
  with `str.contains` on the texts;
- `upr --help` beside `python -c pass` (bare interpreter start-up).
Each line also gives the CPU time (user + system) of the process and the load average, as
wall-clock times on a shared machine say as much about the neighbours as about upr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable
UPR = str(Path(PYTHON).with_name("upr"))
FULL_SIZE = 1_000_000
QUICK_SIZE = 100_000

# phrases per issue: what a recommendation about that issue asks for
PHRASES = {
    "International instruments": [
        "the Optional Protocol to the Convention against Torture",
        "the International Convention for the Protection of All Persons from Enforced Disappearance",
        "the Rome Statute of the International Criminal Court",
        "the Convention on the Rights of Persons with Disabilities",
    ],
    "Women's rights": [
        "legislation criminalising domestic violence against women",
        "measures to eliminate discrimination against women and girls",
        "the participation of women in political life",
        "gender equality in employment",
    ],
    "Rights of the Child": [
        "the prohibition of corporal punishment of children in all settings",
        "birth registration for all children",
        "measures against child labour",
        "the minimum age of marriage at 18 years",
    ],
    "Death penalty": [
        "a moratorium on executions with a view to abolishing the death penalty",
        "the abolition of the death penalty",
        "the commutation of all death sentences",
    ],
    "Torture and other CID treatment": ["investigations into all allegations of torture and ill-treatment", "the criminalisation of torture in the penal code"],
    "Justice": ["the independence of the judiciary", "access to justice for all, including legal aid", "fair trial guarantees"],
    "Detention": ["conditions of detention in line with the Nelson Mandela Rules", "alternatives to pre-trial detention"],
    "Freedom of opinion and expression": ["freedom of expression online and offline", "the decriminalisation of defamation"],
    "Human rights defenders": ["a safe environment for human rights defenders and journalists"],
    "NHRI": ["a national human rights institution in line with the Paris Principles"],
    "Racial discrimination": ["measures to combat racial discrimination and hate speech", "a comprehensive anti-discrimination law"],
    "Right to education": ["free and compulsory primary education", "access to education for girls in rural areas"],
    "Right to health": ["access to health care services, including sexual and reproductive health", "maternal and infant mortality reduction"],
    "Trafficking": ["a national action plan to combat trafficking in persons", "protection and assistance for victims of trafficking"],
    "Migrants": ["the rights of migrant workers and their families"],
    "Asylum-seekers - refugees": ["the principle of non-refoulement for asylum-seekers and refugees"],
    "Disabilities": ["the inclusion of persons with disabilities in education and employment"],
    "Sexual Orientation and Gender Identity": [
        "the decriminalisation of consensual same-sex relations",
        "protection against discrimination based on sexual orientation and gender identity",
    ],
    "Treaty bodies": ["its overdue reports to the treaty bodies"],
    "Special procedures": ["a standing invitation to all special procedures"],
    "Technical assistance and cooperation": ["technical assistance from OHCHR"],
    "Poverty": ["its poverty reduction strategy"],
    "Labour": ["decent working conditions and the right to form trade unions"],
    "Corruption": ["its fight against corruption at all levels"],
    "Elections": ["free, fair and transparent elections"],
    "Indigenous peoples": ["the rights of indigenous peoples to their lands"],
    "Enforced disappearances": ["investigations into all cases of enforced disappearance"],
    "Freedom of religion and belief": ["freedom of religion or belief for all"],
    "Freedom of association and peaceful assembly": ["the right to peaceful assembly and association"],
    "Environment": ["measures to mitigate the effects of climate change"],
}
TAILS = [
    "",
    "",
    " in line with its international obligations",
    " as a matter of priority",
    ", with the support of the international community",
    " and allocate sufficient resources to that end",
    " in consultation with civil society",
    " throughout the country",
]


def _verbs() -> dict[int, list[str]]:
    from uprfollow import vocab

    out = {}
    for level, a in vocab.action_categories().items():
        out[level] = [v.strip().capitalize() for v in a.example_verbs.split(";")]
    return out


def build_store(path: Path, n: int, seed: int = 5) -> None:
    """Write n synthetic recommendations (~2.5% pledges) into a fresh store at `path`."""
    from uprfollow import vocab
    from uprfollow.store import open_store

    rnd = random.Random(seed)
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    store = open_store(tmp)
    conn = store.conn
    countries = list(vocab.countries().values())
    members = [c.iso3 for c in countries if c.un_member]
    rs_pool = [c.iso3 for c in countries]
    rs_weights = [3.0 if c.regional_group == "WEOG" else 0.2 if c.regional_group == "Observer" else 1.0 for c in countries]
    issues = vocab.issues()
    top = ["International instruments", "Women's rights", "Rights of the Child", "Justice", "Torture and other CID treatment"]
    issue_weights = [8.0 if i in top else 3.0 if i in PHRASES else 1.0 for i in issues]
    sessions = vocab.sessions()
    verbs = _verbs()
    responses = ["Accepted", "Noted", "Pending", "Voluntary Pledge"]
    response_weights = [72, 25, 0.5, 2.5]

    triggers = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'recommendations'")]
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'recommendations'")]
    conn.execute("PRAGMA synchronous = OFF")
    with store.write():
        for name in names:  # bulk load, then rebuild the full-text index once
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(
            "INSERT INTO imports (id, file_name, sha256, format, rows_read, added, already_present, started_at, finished_at, tool_version) "
            "VALUES (1, 'synthetic', '', 'synthetic', ?, ?, 0, datetime('now'), datetime('now'), 'bench')",
            (n, n),
        )
        batch_r, batch_s, batch_i = [], [], []
        for pk in range(1, n + 1):
            sur = rnd.choice(members)
            session = rnd.randint(1, 54)
            s = sessions[session]
            response = rnd.choices(responses, response_weights)[0]
            pledge = response == "Voluntary Pledge"
            action = rnd.choices([1, 2, 3, 4, 5], [2, 15, 9, 39, 34])[0]
            k = rnd.choices([1, 2, 3, 4], [53, 33, 12, 2])[0]
            rec_issues = list(dict.fromkeys(rnd.choices(issues, issue_weights, k=k)))
            subject = next((i for i in rec_issues if i in PHRASES), None)
            phrase = rnd.choice(PHRASES[subject]) if subject else f"its efforts on {rec_issues[0].lower()}"
            text = f"{rnd.choice(verbs[action])} {phrase}{rnd.choice(TAILS)}."
            if pledge:
                rs = [sur]
            else:
                rs = rnd.choices(rs_pool, rs_weights, k=rnd.choices([1, 2, 3], [95, 4, 1])[0])
                rs = list(dict.fromkeys(rs))
            batch_r.append(
                (
                    pk,
                    f"syn-{pk:07d}",
                    sur,
                    session,
                    s.cycle,
                    s.year,
                    f"{100 + pk % 60}.{pk % 200 + 1}",
                    text,
                    response,
                    response,
                    None if pledge else action,
                    int(pledge),
                    1,
                    pk,
                )
            )
            batch_s.extend((pk, j, code, vocab.countries()[code].name) for j, code in enumerate(rs))
            batch_i.extend((pk, i) for i in rec_issues)
            if len(batch_r) >= 50_000 or pk == n:
                conn.executemany(
                    "INSERT INTO recommendations (pk, id, sur, session, cycle, year, paragraph, text, response, response_raw, "
                    "action, is_pledge, import_id, source_row) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    batch_r,
                )
                conn.executemany("INSERT INTO recommending_states (rec_pk, position, iso3, name_raw) VALUES (?,?,?,?)", batch_s)
                conn.executemany("INSERT INTO recommendation_issues (rec_pk, issue) VALUES (?,?)", batch_i)
                batch_r, batch_s, batch_i = [], [], []
        conn.execute("INSERT INTO recommendations_fts(recommendations_fts) VALUES ('rebuild')")
        for sql in triggers:
            conn.execute(sql)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    tmp.rename(path)


def store_for(size: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"synthetic-{size}.db"
    if not path.exists():
        t = time.perf_counter()
        print(f"building {path} ({size:,} recommendations, once)...", file=sys.stderr)
        build_store(path, size)
        print(f"  built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    # bring the store up to date with the code's migrations before timing anything
    subprocess.run([UPR, "stats", "--db", str(path), "--by", "cycle", "--format", "json"], check=True, capture_output=True)
    return path


PANDAS_STATS = """
import sqlite3, sys, pandas as pd
db = sqlite3.connect(sys.argv[1])
recs = pd.read_sql("SELECT pk, response FROM recommendations WHERE is_pledge = 0", db)
issues = pd.read_sql("SELECT rec_pk, issue FROM recommendation_issues", db)
tab = issues.merge(recs, left_on="rec_pk", right_on="pk").groupby(["issue", "response"]).size()
print(tab.sort_values(ascending=False).to_csv())
"""

PANDAS_SEARCH = """
import sqlite3, sys, pandas as pd
db = sqlite3.connect(sys.argv[1])
recs = pd.read_sql("SELECT text FROM recommendations WHERE is_pledge = 0", db)
words = recs["text"].str.contains(r"\\bdeath", case=False) & recs["text"].str.contains(r"\\bpenalt", case=False)
print(int(words.sum()))
"""


def _time(cmd: list[str], runs: int) -> tuple[float, float, str]:
    """Median wall-clock seconds and median CPU seconds (user + system) of the whole process."""
    import resource

    times, cpus, out = [], [], ""
    env = dict(os.environ, UPR_QUIET="1")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr}")
        out = p.stdout
    return statistics.median(times), statistics.median(cpus), out


def run(quick: bool = False, size: int | None = None) -> list[dict]:
    """Time the commands and their baselines; return one dict per measurement."""
    size = size or (QUICK_SIZE if quick else FULL_SIZE)
    runs = 3 if quick else 5
    db = str(store_for(size))
    data = f"{size:,} recommendations"
    cases = [
        (
            "upr stats --by issue --by response",
            [UPR, "stats", "--db", db, "--by", "issue", "--by", "response", "--format", "csv"],
            "pandas cross-tab (read_sql + merge + groupby)",
            [PYTHON, "-c", PANDAS_STATS, db],
        ),
        (
            'upr search "death penalty" --count',
            [UPR, "search", "death penalty", "--db", db, "--count"],
            "pandas str.contains count",
            [PYTHON, "-c", PANDAS_SEARCH, db],
        ),
        ("upr --help", [UPR, "--help"], "python -c pass", [PYTHON, "-c", "pass"]),
    ]
    results = []
    for name, cmd, base_name, base_cmd in cases:
        _time(cmd, 1)  # warm the page cache
        seconds, cpu, out = _time(cmd, runs)
        base_seconds, base_cpu, base_out = _time(base_cmd, runs if "pandas" not in base_name else max(3, runs - 2))
        if name.startswith("upr search"):
            assert int(out.strip()) == int(base_out.strip()), (out, base_out)  # same rows counted
        results.append(
            {
                "name": name,
                "seconds": round(seconds, 3),
                "baseline_name": base_name,
                "baseline_seconds": round(base_seconds, 3),
                "ratio": round(seconds / base_seconds, 3),
                "cpu_seconds": round(cpu, 3),
                "baseline_cpu_seconds": round(base_cpu, 3),
                "load_average": round(os.getloadavg()[0], 2),
                "data size": data,
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} recommendations, fewer runs")
    parser.add_argument("--size", type=int, help="number of synthetic recommendations")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = run(quick=args.quick, size=args.size)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'measure':38} {'wall s':>7} {'cpu s':>6}  {'baseline':46} {'wall s':>7} {'cpu s':>6} {'ratio':>6}  load  data")
    for r in results:
        print(
            f"{r['name']:38} {r['seconds']:7.3f} {r['cpu_seconds']:6.3f}  {r['baseline_name']:46} {r['baseline_seconds']:7.3f} "
            f"{r['baseline_cpu_seconds']:6.3f} {r['ratio']:6.2f}  {r['load_average']:4.1f}  {r['data size']}"
        )
    print("wall s: median whole-process time; cpu s: its user + system CPU time (less sensitive to a busy machine)")


if __name__ == "__main__":
    main()
