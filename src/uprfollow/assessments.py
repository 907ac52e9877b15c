"""The follow-up tables' repository: stakeholders, ingests and assessments, and every SQL statement on them.

`ingest`, `sheets` and the CLI ask this module ("who is this stakeholder?", "what are their
current assessments for this State?", "when did they last assess it?") and write through it
("record this ingest", "retire these assessments", "add these"), the way llm's `LogStore`
owns its log tables. The writes run inside the caller's `Store.write()` transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from . import __version__
from .store import Store


def now() -> str:
    """A timestamp for the history, to the microsecond so entries made within one second keep their order."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Stakeholder:
    id: int
    name: str
    type: str
    label: str | None


@dataclass
class Current:
    """One current assessment of a recommendation by a stakeholder."""

    id: int
    rec_pk: int
    level: str
    comment: str | None
    sources: str | None
    as_of: str | None


@dataclass
class NewAssessment:
    rec_pk: int
    level: str
    level_raw: str | None
    comment: str | None
    sources: str | None
    sheet: str | None
    row: int | None
    matched_by: str | None
    match_score: float | None


@dataclass
class IngestRecord:
    """One line of `upr db history` for an ingest (also written when an ingest changed nothing)."""

    file_name: str
    sha256: str
    format: str
    sheet: str | None
    stakeholder_id: int
    sur: str
    as_of: str | None
    rows_read: int
    added: int
    replaced: int
    unchanged: int


class Assessments:
    """The follow-up tables of one open store."""

    def __init__(self, store: Store):
        self.conn: sqlite3.Connection = store.conn

    # --- reads ----------------------------------------------------------------------------

    def stakeholder(self, name: str) -> Stakeholder | None:
        row = self.conn.execute("SELECT id, name, type, label FROM stakeholders WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
        return Stakeholder(row[0], row[1], row[2], row[3]) if row else None

    def stakeholder_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM stakeholders ORDER BY name")]

    def find_ingest(self, sha256: str, stakeholder_id: int, sur: str) -> tuple[int, str, str | None] | None:
        """The first ingest of this file by this stakeholder for this State: (id, started_at, as_of)."""
        row = self.conn.execute(
            "SELECT id, started_at, as_of FROM ingests WHERE sha256 = ? AND stakeholder_id = ? AND sur = ? ORDER BY id LIMIT 1",
            (sha256, stakeholder_id, sur),
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def last_as_of(self, stakeholder_id: int, sur: str, *, session: int | None = None,
                   cycle: int | None = None) -> tuple[str | None, str | None]:
        """The date of the stakeholder's latest current assessment of this State (and the file it came from)."""
        sql = ("SELECT max(a.as_of), max(i.file_name) FROM assessments a JOIN recommendations rc ON rc.pk = a.rec_pk "
               "LEFT JOIN ingests i ON i.id = a.ingest_id WHERE a.stakeholder_id = ? AND a.current = 1 AND rc.sur = ?")
        params: list[object] = [stakeholder_id, sur]
        if session is not None:
            sql += " AND rc.session = ?"
            params.append(session)
        if cycle is not None:
            sql += " AND rc.cycle = ?"
            params.append(cycle)
        row = self.conn.execute(sql, params).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def current(self, stakeholder_id: int, sur: str) -> dict[int, Current]:
        """The stakeholder's current assessments of recommendations to this State, by recommendation pk."""
        return {
            r[1]: Current(*r)
            for r in self.conn.execute(
                "SELECT a.id, a.rec_pk, a.level, a.comment, a.sources, a.as_of FROM assessments a "
                "JOIN recommendations rc ON rc.pk = a.rec_pk WHERE a.stakeholder_id = ? AND a.current = 1 AND rc.sur = ?",
                (stakeholder_id, sur),
            )
        }

    # --- writes (inside the caller's Store.write()) -----------------------------------------

    def add_stakeholder(self, name: str, type: str, label: str | None) -> int:
        cur = self.conn.execute("INSERT INTO stakeholders (name, type, label) VALUES (?,?,?)", (name, type, label))
        return int(cur.lastrowid or 0)

    def update_stakeholder(self, stakeholder_id: int, type: str, label: str | None) -> None:
        self.conn.execute("UPDATE stakeholders SET type = ?, label = coalesce(?, label) WHERE id = ?", (type, label, stakeholder_id))

    def record_ingest(self, rec: IngestRecord, *, started_at: str | None = None) -> int:
        stamp = now()
        cur = self.conn.execute(
            "INSERT INTO ingests (file_name, sha256, format, sheet, stakeholder_id, sur, as_of, rows_read, added, replaced, unchanged, "
            "started_at, finished_at, tool_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rec.file_name, rec.sha256, rec.format, rec.sheet, rec.stakeholder_id, rec.sur, rec.as_of, rec.rows_read,
             rec.added, rec.replaced, rec.unchanged, started_at or stamp, stamp, __version__),
        )
        return int(cur.lastrowid or 0)

    def retire(self, assessment_ids: Sequence[int], ingest_id: int) -> None:
        """Keep these assessments as history, replaced by `ingest_id`."""
        for n in range(0, len(assessment_ids), 900):
            chunk = list(assessment_ids[n : n + 900])
            self.conn.execute(
                f"UPDATE assessments SET current = 0, replaced_by = ? WHERE id IN ({','.join('?' * len(chunk))})", [ingest_id, *chunk]
            )

    def add(self, stakeholder_id: int, as_of: str | None, ingest_id: int, rows: Iterable[NewAssessment]) -> None:
        self.conn.executemany(
            "INSERT INTO assessments (rec_pk, stakeholder_id, level, level_raw, comment, sources, as_of, ingest_id, sheet, row, "
            "matched_by, match_score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(a.rec_pk, stakeholder_id, a.level, a.level_raw, a.comment, a.sources, as_of, ingest_id, a.sheet, a.row,
              a.matched_by, a.match_score) for a in rows],
        )
