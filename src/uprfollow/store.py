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
from urllib.request import pathname2url

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

    def __init__(self, conn: sqlite3.Connection, path: Path, *, tidy: bool = False):
        self.conn = conn
        self.path = path
        self.tidy = tidy  # a read-only open found no -wal/-shm beside the store: leave none behind

    def close(self) -> None:
        self.conn.close()
        if self.tidy:
            self.tidy = False
            _remove_wal_files(self.path)

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

    def map_file(self, size: int) -> None:
        """Read through a memory map of up to `size` bytes (for commands that scan a large store)."""
        self.conn.execute(f"PRAGMA mmap_size = {int(size)}")

    def recommendation_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM recommendations").fetchone()[0]

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


def _wal_files(path: Path) -> list[Path]:
    return [Path(f"{path}-wal"), Path(f"{path}-shm")]


def _read_one_page(path: Path, timeout: float) -> None:
    """A brief read-write connection that reads one page and closes: SQLite rolls back a killed write's hot journal
    at that first read, and at the close removes the -wal and -shm files if it is the last connection to the store."""
    conn = sqlite3.connect(_uri(path, mode="rw"), uri=True, timeout=timeout, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def _remove_wal_files(path: Path) -> None:
    """After a read-only open: the -wal and -shm files SQLite made for it (a `mode=ro` connection cannot remove them).
    Another process's connection keeps them; an empty log is checkpointed, so the store's own bytes are not written."""
    if not any(p.exists() for p in _wal_files(path)):
        return
    try:
        _read_one_page(path, 0.2)
    except sqlite3.Error:  # busy, or not ours to tidy: the files stay, as SQLite would leave them
        pass


def _interrupted(path: Path) -> bool:
    """A write with a rollback journal was killed: its -journal file is there, for the next write open to roll back."""
    journal = Path(f"{path}-journal")
    return path.is_file() and journal.is_file() and journal.stat().st_size > 0


def _roll_back_interrupted(path: Path) -> None:
    try:
        _read_one_page(path, busy_timeout())
    except sqlite3.DatabaseError as e:
        raise damaged(path, e) from e


def _check_file(path: Path, *, readonly: bool) -> None:
    """Refuse what cannot be a store (a folder, a device, another kind of file; for reading, a missing or empty file)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a store file", hint="pass a file path with --db or UPR_DB")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise StoreError(f"{path} is not a regular file", hint="pass the path of a upr store with --db or UPR_DB")
        if path.stat().st_size > 0:
            with open(path, "rb") as f:
                if f.read(16) != b"SQLite format 3\x00":
                    raise StoreError(f"{path} is not a upr store (not an SQLite database)", hint="check --db / UPR_DB")
        elif readonly:
            raise StoreError(f"{path} is an empty file, not a upr store",
                             hint="import recommendations first with `upr import FILE --db PATH`, or check --db / UPR_DB")
    elif readonly:
        raise StoreError(f"no store at {path}", hint="import recommendations first with `upr import FILE`")


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{pathname2url(str(path.resolve()))}?{query}"


def _writable(path: Path) -> bool:
    """The file (if any) and its folder can be written: SQLite needs the folder for its -wal and -shm files."""
    return (not path.exists() or os.access(path, os.W_OK)) and os.access(path.parent, os.W_OK | os.X_OK)


def open_store(path: str | Path | None = None, *, readonly: bool = False, require_current: bool = True) -> Store:
    """Open the store at `path` (default: $UPR_DB or the user's data folder).

    A write open creates the store if needed, refuses a store written by a newer upr,
    switches WAL on and applies pending migrations and vocabulary updates. A read-only
    open (`readonly=True`) opens the file with `mode=ro` and never writes: not the journal
    mode, not a migration, not the vocabularies; a store that needs any of them is refused
    with a hint to run a write command (or `upr db migrate`) first.

    An explicit path in a folder that does not exist is an error; only the default
    location gets its folder created. `require_current=False` lets a read-only open see a
    store in any state (`upr db check`, `upr db backup`).
    """
    default = default_db_path()
    path = Path(path) if path else default
    _check_file(path, readonly=readonly)
    if not path.parent.is_dir():
        if readonly or path != default:
            raise StoreError(f"the folder {path.parent} does not exist", hint="create it first, or check --db / UPR_DB")
        path.parent.mkdir(parents=True, exist_ok=True)
    if not readonly and not _writable(path):
        raise StoreError(
            f"the store {path} cannot be written (read-only file, folder or medium)",
            hint="check the permissions of the file and its folder, or copy the store somewhere writable",
        )
    tidy = False
    try:
        if readonly:
            # immutable=1 where SQLite could not create its -shm file (a read-only folder or medium)
            params = {"mode": "ro"} if os.access(path.parent, os.W_OK) else {"mode": "ro", "immutable": "1"}
            tidy = "immutable" not in params and os.access(path, os.W_OK) and not any(p.exists() for p in _wal_files(path))
            conn = sqlite3.connect(_uri(path, **params), uri=True, timeout=busy_timeout(), isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(path, timeout=busy_timeout(), isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        raise StoreError(f"cannot open the store {path}: {e}", hint="check --db / UPR_DB and the folder's permissions") from e
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = MEMORY")
        if readonly:
            if require_current:
                _require_current(conn, path)
        else:
            _refuse_newer(conn, path)
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                _retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)
    except StoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as e:
        conn.close()
        if readonly and _interrupted(path):
            # a write that was killed (the first import into a new store writes with a rollback journal): SQLite
            # rolls it back at the next write open; a read-only connection cannot
            raise StorePending(
                f"the store {path} holds a write that was interrupted (its -journal file is still there)",
                hint="run `upr db migrate` (or any command that writes) once: it rolls the interrupted write back; then try again",
            ) from e
        raise damaged(path, e) from e
    return Store(conn, path, tidy=tidy)


def damaged(path: Path | str, e: sqlite3.DatabaseError) -> StoreError:
    """The one error for a store SQLite cannot read or write (damaged pages, read-only medium)."""
    text = str(e)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the store {path} cannot be written: {text}",
                          hint="check the permissions of the file and its folder, or copy the store somewhere writable")
    return StoreError(f"the store {path} cannot be used: {text}", hint="run `upr db check`, or restore a backup (`upr db backup` makes them)")


class StorePending(StoreError):
    """The store needs migrations or a vocabulary update, which a read-only command may not apply."""


def store_state(conn: sqlite3.Connection) -> tuple[list[str], list[str], bool]:
    """(pending migrations, unknown migrations, vocabularies fresh) of an open store; reads only."""
    done = applied_migrations(conn)
    known = [name for name, _ in MIGRATIONS]
    pending = [n for n in known if n not in set(done)]
    unknown = [n for n in done if n not in set(known)]
    return pending, unknown, _vocab_fresh(conn)


def _refuse_newer(conn: sqlite3.Connection, path: Path) -> None:
    """A store written by a newer upr (a migration this version does not know, or user_version ahead) is never written to."""
    _, unknown, _ = store_state(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if unknown or version > len(MIGRATIONS):
        what = f"migrations this version does not know: {', '.join(unknown)}" if unknown else f"schema version {version}, this upr knows {len(MIGRATIONS)}"
        raise StoreError(
            f"the store {path} was written by a newer upr ({what}); this upr will not write to it",
            hint="upgrade upr (pip install -U uprfollow), or use another store with --db",
        )


def _require_current(conn: sqlite3.Connection, path: Path) -> None:
    pending, unknown, fresh = store_state(conn)
    if not pending and not unknown and conn.execute("PRAGMA user_version").fetchone()[0] > len(MIGRATIONS):
        unknown = ["user_version"]
    if pending:
        raise StorePending(
            f"the store {path} needs {len(pending)} schema update(s) ({', '.join(pending)}) that a read-only command does not make",
            hint="run `upr db migrate` (or any command that writes, such as `upr import`) once, then try again",
        )
    if not fresh and not unknown:
        raise StorePending(
            f"the store {path} holds older vocabularies (States, issues, sessions) than this upr",
            hint="run `upr db migrate` (or any command that writes, such as `upr import`) once, then try again",
        )


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
    if len(done) == len(MIGRATIONS) and _vocab_fresh(conn) and conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
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
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
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


def migrate_existing(path: str | Path) -> dict:
    """`upr db migrate`: open an existing store for writing (which migrates it) and say what changed."""
    path = Path(path)
    if _interrupted(path):
        _roll_back_interrupted(path)
    with open_store(path, readonly=True, require_current=False) as store:
        try:
            before = store_state(store.conn)
        except sqlite3.DatabaseError as e:
            raise damaged(path, e) from e
    with open_store(path) as store:
        version = store.schema_version()
    return {"path": str(path), "applied": before[0], "vocab_refreshed": not before[2], "schema_version": version}


@contextmanager
def open_existing(path: str | Path | None = None) -> Iterator[Store | None]:
    """The store opened read-only if there is one (a file with something in it), else None; never creates it."""
    p = Path(path) if path else default_db_path()
    if not p.exists() or (p.is_file() and p.stat().st_size == 0):
        if path and not p.parent.is_dir():
            raise StoreError(f"the folder {p.parent} does not exist", hint="create it first, or check --db / UPR_DB")
        yield None
        return
    with open_store(p, readonly=True) as store:
        yield store
