"""Assessments written straight into the m002 tables, for digest tests (until `upr ingest` can be used instead).

Everything is deterministic (seeded), so two stores built the same way are identical.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

LEVEL_WORDS = {"fully": "Fully implemented", "partially": "Partially implemented", "not": "Not implemented", "no_data": "No data"}


@dataclass(frozen=True)
class Stakeholder:
    name: str
    type: str
    label: str
    as_of: str
    coverage: float          # share of the State's recommendations it assesses
    weights: tuple[float, float, float, float]  # fully, partially, not, no_data


HTI_STAKEHOLDERS = (
    Stakeholder("Republic of Haiti, Ministry of Justice", "state", "State", "2013-09-30", 0.70, (0.45, 0.35, 0.12, 0.08)),
    Stakeholder("Joint Submission 1 (coalition of Haitian NGOs)", "ngo", "JS1", "2013-10-15", 0.55, (0.10, 0.40, 0.42, 0.08)),
    Stakeholder("Office de la Protection du Citoyen", "nhri", "OPC", "2013-11-04", 0.45, (0.20, 0.40, 0.30, 0.10)),
    Stakeholder("United Nations Country Team", "un", "UNCT", "2013-10-28", 0.30, (0.20, 0.45, 0.25, 0.10)),
)


def add_stakeholder(conn: sqlite3.Connection, name: str, type_: str, label: str | None) -> int:
    conn.execute("INSERT OR IGNORE INTO stakeholders (name, type, label) VALUES (?, ?, ?)", (name, type_, label))
    return conn.execute("SELECT id FROM stakeholders WHERE name = ?", (name,)).fetchone()[0]


def add_ingest(conn: sqlite3.Connection, file_name: str, stakeholder_id: int, sur: str, as_of: str | None, rows: int) -> int:
    cur = conn.execute(
        "INSERT INTO ingests (file_name, sha256, format, sheet, stakeholder_id, sur, as_of, rows_read, added, replaced, unchanged, "
        "started_at, finished_at, tool_version) VALUES (?, ?, 'xlsx', 'Sheet1', ?, ?, ?, ?, ?, 0, 0, ?, ?, 'test')",
        (file_name, f"{stakeholder_id:064x}", stakeholder_id, sur, as_of, rows, rows, "2014-01-01T00:00:00+00:00",
         "2014-01-01T00:00:01+00:00"),
    )
    return int(cur.lastrowid)


def add_assessment(conn: sqlite3.Connection, rec_pk: int, stakeholder_id: int, level: str, comment: str | None = None, *,
                   sources: str | None = None, as_of: str | None = None, ingest_id: int | None = None, row: int | None = None) -> None:
    conn.execute(
        "INSERT INTO assessments (rec_pk, stakeholder_id, level, level_raw, comment, sources, as_of, ingest_id, sheet, row, current) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'Sheet1', ?, 1)",
        (rec_pk, stakeholder_id, level, LEVEL_WORDS[level], comment, sources, as_of, ingest_id, row),
    )


def assess_state(db: Path | sqlite3.Connection, iso3: str, stakeholders=HTI_STAKEHOLDERS, *, seed: int = 6,
                 session: int | None = None) -> dict[int, dict[str, str]]:
    """Give each stakeholder a seeded share of the State's recommendations; returns {rec_pk: {label: level}}."""
    conn = db if isinstance(db, sqlite3.Connection) else sqlite3.connect(db)
    rng = random.Random(f"{seed}:{iso3}")
    where, params = "sur = ? AND NOT is_pledge", [iso3]
    if session is not None:
        where += " AND session = ?"
        params.append(session)
    pks = [r[0] for r in conn.execute(f"SELECT pk FROM recommendations WHERE {where} ORDER BY pk", params)]
    given: dict[int, dict[str, str]] = {}
    with conn:
        for sh in stakeholders:
            sid = add_stakeholder(conn, sh.name, sh.type, sh.label)
            chosen = sorted(rng.sample(pks, round(len(pks) * sh.coverage)))
            ingest = add_ingest(conn, f"{iso3}-{sh.label}.xlsx", sid, iso3, sh.as_of, len(chosen))
            for row, pk in enumerate(chosen, start=2):
                level = rng.choices(("fully", "partially", "not", "no_data"), weights=sh.weights)[0]
                comment = None if rng.random() < 0.1 else f"{sh.label}: {LEVEL_WORDS[level].lower()}, see the report of {sh.as_of[:4]} (item {row - 1})."
                add_assessment(conn, pk, sid, level, comment, sources="Annual report" if rng.random() < 0.3 else None,
                               as_of=sh.as_of, ingest_id=ingest, row=row)
                given.setdefault(pk, {})[sh.label] = level
    if not isinstance(db, sqlite3.Connection):
        conn.close()
    return given


HOSTILE_COMMENT = '<img src="file:///etc/passwd"> <script>alert(1)</script> see http://example.org/leak.png'


def synthetic_store(path: Path, states: list[str], per_state: int = 12, stakeholders: int = 3, *, seed: int = 1,
                    session: int = 12, assess: bool = True) -> Path:
    """A small store made by SQL: `per_state` recommendations for each State (session `session`), assessed by `stakeholders`."""
    from uprfollow.store import open_store
    from uprfollow.vocab import issues, sessions

    rng = random.Random(seed)
    issue_names = issues()
    year, cycle = sessions()[session].year, sessions()[session].cycle
    with open_store(path) as store, store.write() as conn:
        pk = conn.execute("SELECT coalesce(max(pk), 0) FROM recommendations").fetchone()[0]
        for iso3 in states:
            first = pk + 1
            for i in range(per_state):
                pk += 1
                conn.execute(
                    "INSERT INTO recommendations (pk, id, sur, session, cycle, year, text, response, response_raw, action) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (pk, f"{iso3}-{session}-{i:06x}", iso3, session, cycle, year,
                     f"Recommendation {i + 1} to {iso3}: adopt and implement measure number {i + 1} on human rights.",
                     rng.choice(("Accepted", "Accepted", "Noted")), "Accepted", rng.randint(1, 5)),
                )
                conn.execute("INSERT INTO recommending_states VALUES (?, 0, ?, ?)", (pk, "FRA", "France"))
                for issue in sorted(set(rng.sample(issue_names, 2))):
                    conn.execute("INSERT INTO recommendation_issues VALUES (?, ?)", (pk, issue))
            if not assess:
                continue
            for s in range(stakeholders):
                kind = ("state", "ngo", "nhri", "un")[s % 4]
                sid = add_stakeholder(conn, f"{iso3} stakeholder {s + 1}", kind, f"S{s + 1}")
                ingest = add_ingest(conn, f"{iso3}-S{s + 1}.xlsx", sid, iso3, f"2014-0{s + 1}-15", per_state)
                for rec in range(first, pk + 1):
                    if rng.random() < 0.8:
                        level = rng.choice(("fully", "partially", "not", "no_data"))
                        add_assessment(conn, rec, sid, level, f"Comment by S{s + 1} on recommendation {rec}.",
                                       as_of=f"2014-0{s + 1}-15", ingest_id=ingest, row=rec - first + 2)
    return path
