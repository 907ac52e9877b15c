"""The one way to open the store: path resolution, pragmas, migrations, transactions.

Concurrency: the store runs in WAL mode; every write runs in `BEGIN IMMEDIATE` so a
second writer waits (up to the busy timeout) instead of failing, and readers never
block. A write either commits whole or rolls back whole.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import vocab
from .errors import StoreError
from .migrations import MIGRATIONS

DEFAULT_BUSY_TIMEOUT_S = 600.0


def default_db_path() -> Path:
    """`$UPR_DB`, else `$XDG_DATA_HOME/uprfollow/upr.db` (~/.local/share/uprfollow/upr.db)."""
    env = os.environ.get("UPR_DB")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "uprfollow" / "upr.db"


def busy_timeout() -> float:
    try:
        return float(os.environ.get("UPR_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT_S))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_S


class Store:
    """An open store. `conn` is a plain sqlite3 connection in autocommit mode."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: waits for other writers, commits whole or not at all."""
        _begin_immediate(self.conn)
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one snapshot, whatever other processes commit."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def schema_version(self) -> int:
        return self.conn.execute("SELECT count(*) FROM _migrations").fetchone()[0]


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, retrying past the busy handler so a writer waits rather than fails."""
    deadline = time.monotonic() + busy_timeout()
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if time.monotonic() > deadline:
                raise StoreError(
                    "the store stayed locked by another upr process for too long",
                    hint="wait for the other command to finish, or raise UPR_BUSY_TIMEOUT (seconds)",
                ) from e
            time.sleep(0.05)


def open_store(path: str | Path | None = None, *, readonly: bool = False) -> Store:
    """Open (creating if needed) the store at `path`, apply migrations, set pragmas."""
    path = Path(path) if path else default_db_path()
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file", hint="pass a file path with --db or UPR_DB")
    if readonly and not path.exists():
        raise StoreError(f"no store at {path}", hint="import recommendations first with `upr import FILE`")
    if not readonly:
        path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise StoreError(f"{path} is not a upr store (not an SQLite database)", hint="check --db / UPR_DB")
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout(), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        raise StoreError(f"cannot open the store {path}: {e}", hint="check --db / UPR_DB and the folder's permissions") from e
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            _retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        migrate(conn)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise StoreError(f"the store {path} cannot be used: {e}", hint="run `upr db check`, or restore a backup") from e
    return Store(conn, path)


def _retry_busy(fn) -> None:
    deadline = time.monotonic() + busy_timeout()
    while True:
        try:
            fn()
            return
        except sqlite3.OperationalError as e:
            if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone()
    if not exists:
        return []
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY id")]


def migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations and refresh the vocabulary tables, in one write transaction."""
    done = applied_migrations(conn)
    if len(done) == len(MIGRATIONS) and _vocab_fresh(conn):
        return
    _begin_immediate(conn)
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
        )
        done = set(applied_migrations(conn))
        for name, fn in MIGRATIONS:
            if name not in done:
                fn(conn)
                conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,))
        sync_vocab(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _vocab_signature() -> str:
    return f"{len(vocab.countries())}:{len(vocab.issues())}:{len(vocab.sessions())}:{vocab.alias_count()}"


def _vocab_fresh(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM _meta WHERE key = 'vocab'").fetchone()
    except sqlite3.OperationalError:
        return False
    return bool(row) and row[0] == _vocab_signature()


def sync_vocab(conn: sqlite3.Connection) -> None:
    """Copy the vocabularies into their tables (upserts: rows referenced elsewhere stay)."""
    conn.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.executemany(
        "INSERT INTO countries (iso3, iso2, name, un_member, regional_group, organisations) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(iso3) DO UPDATE SET iso2=excluded.iso2, name=excluded.name, un_member=excluded.un_member, "
        "regional_group=excluded.regional_group, organisations=excluded.organisations",
        [
            (c.iso3, c.iso2, c.name, int(c.un_member), c.regional_group, ";".join(c.organisations))
            for c in vocab.countries().values()
        ],
    )
    conn.execute("DELETE FROM country_organisations")
    conn.executemany(
        "INSERT INTO country_organisations VALUES (?, ?)",
        [(c.iso3, o) for c in vocab.countries().values() for o in c.organisations],
    )
    conn.executemany("INSERT OR IGNORE INTO issues (name) VALUES (?)", [(i,) for i in vocab.issues()])
    conn.executemany(
        "INSERT INTO action_categories VALUES (?,?,?) ON CONFLICT(level) DO UPDATE SET name=excluded.name, definition=excluded.definition",
        [(a.level, a.name, a.definition) for a in vocab.action_categories().values()],
    )
    conn.executemany(
        "INSERT INTO sessions VALUES (?,?,?) ON CONFLICT(session) DO UPDATE SET year=excluded.year, cycle=excluded.cycle",
        [(s.session, s.year, s.cycle) for s in vocab.sessions().values()],
    )
    conn.execute("INSERT OR REPLACE INTO _meta VALUES ('vocab', ?)", (_vocab_signature(),))
