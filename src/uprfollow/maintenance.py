"""Store maintenance: check a store's health, back it up safely, list what was ever imported.

`check_store()` opens the file without migrating or writing anything and reports every
problem it finds with what and where (table, rowid, recommendation ID):

- SQLite's own `integrity_check` and `foreign_key_check`;
- rows pointing at nothing: a recommendation from a UPR Info export without its
  recommending State (those exports always name one), the full-text index out of step
  with the recommendations, a current assessment marked as replaced;
- values outside the vocabularies: responses, action categories 1-5, sessions (and the
  cycle and year that follow from them), countries, issues, levels, stakeholder types.

`backup()` copies the store through SQLite's backup API in one read transaction, so the
copy is consistent even while another process writes (WAL readers never block writers).
It writes a temporary file next to the target and renames it into place, so a target
never holds half a backup.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import vocab
from .errors import StoreError, UprError
from .migrations import MIGRATIONS
from .paths import UnsafeOutputPath, safe_output_path

MAX_PER_CHECK = 200
LEVELS = vocab.LEVELS
STAKEHOLDER_TYPES = vocab.STAKEHOLDER_TYPES
# Formats whose every row names a recommending State (DOMAIN.md: one row per recommendation and RS)
FORMATS_WITH_RS = ("upr-info-csv", "upr-info-xls")


@dataclass
class Finding:
    """One problem in the store: which check, where (table, rowid, recommendation ID), what."""

    check: str
    message: str
    table: str | None = None
    rowid: int | None = None
    id: str | None = None

    def where(self) -> str:
        parts = []
        if self.table:
            parts.append(self.table)
        if self.rowid is not None:
            parts.append(f"rowid {self.rowid}")
        if self.id:
            parts.append(f"ID {self.id}")
        return " ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"[{self.check}] {where}: {self.message}" if where else f"[{self.check}] {self.message}"

    def as_dict(self) -> dict:
        return {"check": self.check, "table": self.table, "rowid": self.rowid, "id": self.id, "message": self.message}


@dataclass
class CheckReport:
    path: str
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    schema_version: int = 0
    schema_expected: int = len(MIGRATIONS)
    notes: list[str] = field(default_factory=list)
    truncated: dict[str, int] = field(default_factory=dict)  # check -> findings left out

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "ok": self.ok,
            "findings": [f.as_dict() for f in self.findings],
            "left_out": self.truncated,
            "counts": self.counts,
            "schema_version": self.schema_version,
            "schema_expected": self.schema_expected,
            "notes": self.notes,
        }


def _connect_existing(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store in any state (through the one opener: no migration, no write)."""
    from .store import open_store

    return open_store(path, readonly=True, require_current=False).conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


class _Collector:
    def __init__(self, report: CheckReport):
        self.report = report
        self.per_check: dict[str, int] = {}

    def add(self, check: str, message: str, table: str | None = None, rowid: int | None = None, id: str | None = None) -> None:
        n = self.per_check.get(check, 0) + 1
        self.per_check[check] = n
        if n <= MAX_PER_CHECK:
            self.report.findings.append(Finding(check, message, table, rowid, id))
        else:
            self.report.truncated[check] = n - MAX_PER_CHECK


def check_store(path: str | os.PathLike[str]) -> CheckReport:
    """Check the store at `path` without changing it; every problem becomes a Finding."""
    p = Path(path)
    conn = _connect_existing(p)
    report = CheckReport(path=str(p))
    out = _Collector(report)
    try:
        _run_checks(conn, out)
    except sqlite3.DatabaseError as e:
        out.add("integrity", f"the database cannot be read: {e}")
    finally:
        conn.close()
    return report


def _run_checks(conn: sqlite3.Connection, out: _Collector) -> None:
    report = out.report
    for (line,) in conn.execute("PRAGMA integrity_check(100)"):
        if line != "ok":
            out.add("integrity", line)
    tables = _tables(conn)
    if "_migrations" in tables:
        names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY id")]
        report.schema_version = len(names)
        known = [n for n, _ in MIGRATIONS]
        for n in names:
            if n not in known:
                out.add("schema", f"migration {n!r} is not known to this version of upr", "_migrations")
        if len(names) < len(known):
            report.notes.append(
                f"schema version {len(names)} of {len(known)}: the next upr command that opens the store upgrades it"
            )
    else:
        report.notes.append("no schema yet: the store is empty")
    for name in ("recommendations", "recommending_states", "recommendation_issues", "assessments", "stakeholders", "imports", "ingests"):
        if name in tables:
            report.counts[name] = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    _check_foreign_keys(conn, out)
    if "recommendations" in tables:
        _check_links(conn, out, tables)
        _check_vocabularies(conn, out, tables)


def _check_foreign_keys(conn: sqlite3.Connection, out: _Collector) -> None:
    fk_cols: dict[tuple[str, int], str] = {}
    for table, rowid, parent, fkid in conn.execute("PRAGMA foreign_key_check"):
        key = (table, fkid)
        if key not in fk_cols:
            for r in conn.execute(f"PRAGMA foreign_key_list({table})"):
                fk_cols[(table, r[0])] = r[3]
        col = fk_cols.get(key, "?")
        value = None
        if rowid is not None and col != "?":
            row = conn.execute(f"SELECT {col} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
            value = row[0] if row else None
        rec_id = _rec_id_of(conn, table, rowid)
        out.add("foreign_key", f"{col} = {value!r} points at no row of {parent}", table, rowid, rec_id)


def _rec_id_of(conn: sqlite3.Connection, table: str, rowid: int | None) -> str | None:
    if rowid is None:
        return None
    if table == "recommendations":
        row = conn.execute("SELECT id FROM recommendations WHERE rowid = ?", (rowid,)).fetchone()
    elif table in ("recommending_states", "recommendation_issues", "recommendation_themes", "assessments"):
        row = conn.execute(
            f"SELECT r.id FROM {table} t JOIN recommendations r ON r.pk = t.rec_pk WHERE t.rowid = ?", (rowid,)
        ).fetchone()
    else:
        return None
    return row[0] if row else None


def _check_links(conn: sqlite3.Connection, out: _Collector, tables: set[str]) -> None:
    if "imports" in tables and "recommending_states" in tables:
        marks = ",".join("?" * len(FORMATS_WITH_RS))
        for pk, rid, fmt in conn.execute(
            "SELECT r.pk, r.id, i.format FROM recommendations r JOIN imports i ON i.id = r.import_id "
            f"WHERE i.format IN ({marks}) AND NOT EXISTS (SELECT 1 FROM recommending_states s WHERE s.rec_pk = r.pk) "
            "ORDER BY r.pk",
            FORMATS_WITH_RS,
        ):
            out.add("missing_link", f"no recommending State, but it came from a {fmt} file, which always names one",
                    "recommendations", pk, rid)
    for pk, rid in conn.execute("SELECT pk, id FROM recommendations WHERE trim(coalesce(text, '')) = '' ORDER BY pk"):
        out.add("missing_link", "empty recommendation text", "recommendations", pk, rid)
    if "recommendations_fts_docsize" in tables:
        for pk, rid in conn.execute(
            "SELECT pk, id FROM recommendations WHERE pk NOT IN (SELECT id FROM recommendations_fts_docsize) ORDER BY pk"
        ):
            out.add("search_index", "missing from the full-text index (upr search would not find it)", "recommendations", pk, rid)
        for (rowid,) in conn.execute(
            "SELECT id FROM recommendations_fts_docsize WHERE id NOT IN (SELECT pk FROM recommendations) ORDER BY id"
        ):
            out.add("search_index", "indexed text of a recommendation that no longer exists", "recommendations_fts", rowid)
    if "assessments" in tables:
        for aid, rid in conn.execute(
            "SELECT a.id, r.id FROM assessments a LEFT JOIN recommendations r ON r.pk = a.rec_pk "
            "WHERE a.current = 1 AND a.replaced_by IS NOT NULL ORDER BY a.id"
        ):
            out.add("missing_link", "assessment marked current but also replaced by a later ingest", "assessments", aid, rid)


def _bad_values(
    conn: sqlite3.Connection,
    out: _Collector,
    check: str,
    table: str,
    column: str,
    allowed: set,
    describe: str,
    *,
    id_sql: str = "NULL",
    join: str = "",
) -> None:
    """Report every row of `table` whose non-NULL `column` is not in `allowed`."""
    values = [r[0] for r in conn.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")]
    bad = [v for v in values if v not in allowed]
    for v in bad:
        for rowid, rid in conn.execute(
            f"SELECT t.rowid, {id_sql} FROM {table} t {join} WHERE t.{column} = ? ORDER BY t.rowid", (v,)
        ):
            out.add(check, f"{column} {v!r} is not {describe}", table, rowid, rid)


def _check_vocabularies(conn: sqlite3.Connection, out: _Collector, tables: set[str]) -> None:
    countries = set(vocab.countries())
    sessions = vocab.sessions()
    rec_join = "JOIN recommendations r ON r.pk = t.rec_pk"
    _bad_values(conn, out, "vocabulary", "recommendations", "response", set(vocab.CANONICAL_RESPONSES),
                "a response (" + ", ".join(vocab.CANONICAL_RESPONSES) + ")", id_sql="t.id")
    _bad_values(conn, out, "vocabulary", "recommendations", "action", set(vocab.action_categories()),
                "an action category 1-5", id_sql="t.id")
    _bad_values(conn, out, "vocabulary", "recommendations", "session", set(sessions),
                f"a UPR session 1-{max(sessions)}", id_sql="t.id")
    _bad_values(conn, out, "vocabulary", "recommendations", "sur", countries, "a known country (ISO3)", id_sql="t.id")
    for pk, rid, session, cycle, year in conn.execute(
        "SELECT pk, id, session, cycle, year FROM recommendations WHERE session IS NOT NULL ORDER BY pk"
    ):
        s = sessions.get(session)
        if s and (cycle != s.cycle or year != s.year):
            out.add("vocabulary", f"session {session} is cycle {s.cycle}, {s.year}, but the row says cycle {cycle}, {year}",
                    "recommendations", pk, rid)
    if "recommending_states" in tables:
        _bad_values(conn, out, "vocabulary", "recommending_states", "iso3", countries, "a known country (ISO3)",
                    id_sql="r.id", join=rec_join)
    # issues a UPR Info export added to the store's vocabulary carry a note (migration m008)
    noted = {r[0] for r in conn.execute("SELECT name FROM issues WHERE note IS NOT NULL")} if "issues" in tables and any(
        c[1] == "note" for c in conn.execute("PRAGMA table_info(issues)")) else set()
    if "recommendation_issues" in tables:
        _bad_values(conn, out, "vocabulary", "recommendation_issues", "issue", set(vocab.issues()) | noted,
                    "one of UPR Info's 54 issues (see `upr vocab issues`)", id_sql="r.id", join=rec_join)
    if "issues" in tables:
        _bad_values(conn, out, "vocabulary", "issues", "name", set(vocab.issues()) | noted, "one of UPR Info's 54 issues")
    if "countries" in tables:
        _bad_values(conn, out, "vocabulary", "countries", "iso3", countries, "a country of data/countries.csv")
    if "assessments" in tables:
        _bad_values(conn, out, "vocabulary", "assessments", "level", set(LEVELS), "a level (" + ", ".join(LEVELS) + ")",
                    id_sql="r.id", join="LEFT JOIN recommendations r ON r.pk = t.rec_pk")
    if "stakeholders" in tables:
        _bad_values(conn, out, "vocabulary", "stakeholders", "type", set(STAKEHOLDER_TYPES),
                    "a stakeholder type (" + ", ".join(STAKEHOLDER_TYPES) + ")")
    if "ingests" in tables:
        _bad_values(conn, out, "vocabulary", "ingests", "sur", countries, "a known country (ISO3)")


@dataclass
class BackupReport:
    source: str
    path: str
    bytes: int
    sha256: str
    seconds: float
    counts: dict[str, int]

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def backup(source: str | os.PathLike[str], dest: str | os.PathLike[str], *, force: bool = False) -> BackupReport:
    """Copy the store at `source` to `dest` with SQLite's backup API, consistently, atomically.

    The copy is made in one read transaction (a snapshot: writers in other processes go
    on), into a temporary file beside `dest` that is checked, switched to a single-file
    journal mode, synced and then renamed over `dest`. Refuses a `dest` that is a
    symbolic link, the store itself, or an existing file without `force`.
    """
    src_path = Path(source)
    target = safe_output_path(dest, force=force)
    if target.exists() and src_path.exists() and os.path.samefile(target, src_path):
        raise UnsafeOutputPath(f"{target} is the store itself", hint="back up to another file")
    start = time.monotonic()
    src = _connect_existing(src_path)
    tmp = target.parent / f".{target.name}.upr-backup-{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.close(fd)
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")
            result = dst.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise StoreError(f"the backup failed its check: {result}", hint="run `upr db check` on the store")
            tables = _tables(dst)
            counts = {
                t: dst.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("recommendations", "assessments", "imports", "ingests")
                if t in tables
            }
        finally:
            dst.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if target.is_symlink():
            raise UnsafeOutputPath(f"{target} became a symbolic link during the backup; nothing was written there")
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except sqlite3.Error as e:
        raise StoreError(f"the backup of {src_path} failed: {e}", hint="check the free space and the target folder") from e
    except OSError as e:
        raise UprError(f"cannot write the backup {target}: {e.strerror or e}", hint="check the folder's permissions and free space") from e
    finally:
        src.close()
        tmp.unlink(missing_ok=True)
    return BackupReport(
        source=str(src_path),
        path=str(target),
        bytes=target.stat().st_size,
        sha256=_sha256(target),
        seconds=round(time.monotonic() - start, 3),
        counts=counts,
    )


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


HISTORY_FIELDS = (
    "kind", "id", "started_at", "finished_at", "file", "sha256", "format", "rows_read",
    "added", "replaced", "unchanged", "stakeholder", "sur", "tool_version",
)


def history(conn: sqlite3.Connection) -> list[dict]:
    """Every import and ingest, oldest first: when, file, SHA-256, what it added or replaced, tool version."""
    tables = _tables(conn)
    rows: list[dict] = []
    if "imports" in tables:
        for r in _dict_rows(conn, "SELECT * FROM imports"):
            rows.append({
                "kind": "import", "id": r["id"], "started_at": r.get("started_at"), "finished_at": r.get("finished_at"),
                "file": r.get("file_name"), "sha256": r.get("sha256"), "format": r.get("format"),
                "rows_read": r.get("rows_read"), "added": r.get("added"), "replaced": 0,
                "unchanged": r.get("already_present"), "stakeholder": None, "sur": None, "tool_version": r.get("tool_version"),
            })
    if "ingests" in tables:
        names: dict[int, str] = {}
        if "stakeholders" in tables:
            names = {r[0]: r[1] for r in conn.execute("SELECT id, name FROM stakeholders")}
        for r in _dict_rows(conn, "SELECT * FROM ingests"):
            rows.append({
                "kind": "ingest", "id": r["id"], "started_at": r.get("started_at"), "finished_at": r.get("finished_at"),
                "file": r.get("file_name"), "sha256": r.get("sha256"), "format": r.get("format"),
                "rows_read": r.get("rows_read"), "added": r.get("added"), "replaced": r.get("replaced"),
                "unchanged": r.get("unchanged"), "stakeholder": names.get(r.get("stakeholder_id")),  # type: ignore[arg-type]
                "sur": r.get("sur"), "tool_version": r.get("tool_version"),
            })
    rows.sort(key=lambda r: (r["finished_at"] or "", r["started_at"] or "", r["kind"], r["id"]))
    return rows


def _dict_rows(conn: sqlite3.Connection, sql: str) -> Iterator[dict]:
    cur = conn.execute(sql)
    cols = [d[0] for d in cur.description]
    for row in cur:
        yield dict(zip(cols, row))
