"""`upr import`: detect a file's format, normalise its records, write them in one transaction.

A file is read and checked whole before anything is written: one bad row and nothing
from the command is stored, and every problem is reported with its row and column.
IDs are derived from content, so importing the same rows again (or the .csv copy of
an .xls export) adds nothing.
"""

from __future__ import annotations

import gc
import hashlib
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path

from . import __version__, vocab
from .errors import FormatNotRecognised, InputError, Problem, ProblemList
from .formats import table, upr_info
from .formats.base import ReadResult, Record
from .formats.sniff import (
    cell_text,
    check_lines,
    container,
    csv_delimiter,
    csv_rows,
    decode,
    iter_csv_file,
    refuse_nul,
    scan_text_file,
    sheet_rows,
    with_path,
)
from .store import Store

Progress = Callable[[int], None]

EXPECTED_HEADERS = (
    "a UPR Info export (SuR, Rgrp, Org, Recommendation, RS, ... or To, To-Rgrp, ..., Session), "
    "a UHRI export (Text, Countries Concerned, Reccomending Body, ...), "
    "or a list with at least 'Recommendation' and 'State under review' columns (see docs/import.md)"
)


@dataclass(slots=True)
class Normalised:
    id: str
    sur: str
    session: int | None
    cycle: int | None
    year: int | None
    paragraph: str | None
    text: str
    response: str | None
    response_raw: str | None
    action: int | None
    is_pledge: bool
    document: str | None
    comment: str | None
    rs: list[tuple[str | None, str]]
    issues: list[str]
    themes: list[str]
    source_row: int


@dataclass
class ImportReport:
    file: str
    format: str
    sha256: str
    rows_read: int
    added: int = 0
    already_present: int = 0
    dry_run: bool = False
    import_id: int | None = None
    encoding: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)  # rows the reader left out on purpose, by reason
    records: list[Normalised] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "added": self.added,
            "already_present": self.already_present,
            "dry_run": self.dry_run,
            "import_id": self.import_id,
            "skipped": dict(self.skipped),
        }


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_file(path: Path, encoding: str | None = None) -> ReadResult:
    """Detect the format from content and return the reader's records."""
    kind = container(path)
    if kind == "pdf":
        raise InputError(
            f"{path}: this is a PDF document, not a recommendation list",
            hint="export the recommendations as .xlsx or .csv (UPR Info database, UHRI) or use the OHCHR matrix in .docx",
        )
    if kind in ("binary", "zip"):
        raise FormatNotRecognised(
            f"{path}: not a spreadsheet, CSV or Word file upr can read",
            hint="upr reads .xls, .xlsx, .ods, .csv and OHCHR matrices in .docx",
        )
    result: ReadResult | None = None
    if kind == "zip-docx":
        from .formats import ohchr_matrix

        if ohchr_matrix.sniff(path, b"PK"):
            result = ohchr_matrix.read(path)
        else:
            raise FormatNotRecognised(
                f"{path}: a Word document without an OHCHR matrix table",
                hint="upr reads OHCHR matrices of recommendations (a table with Recommendation and Position columns)",
            )
    elif kind in ("zip-xlsx", "ole2", "zip-ods"):
        if kind == "zip-xlsx":
            from .formats import uhri

            if uhri.sniff(path, b"PK"):
                return uhri.read(path)
        sheet, rows = sheet_rows(path)
        result = upr_info.read_rows(rows, sheet, "upr-info-xls")
        if result is None:
            refuse_response_sheet(path, rows)
            result = table.read_rows(rows, sheet, "table")
    else:
        result, rows = _read_csv(path, encoding)
    if result is None:
        raise FormatNotRecognised(
            f"{path}: the header matches no known format{_first_row(rows)}",
            hint=f"expected {EXPECTED_HEADERS}",
        )
    return result


@lru_cache(maxsize=1)
def _level_headers() -> dict[str, str]:
    from .sheets import TEXTS

    return {vocab.fold(t["headers"]["level"]): t["headers"]["level"] for t in TEXTS.values()}


def refuse_response_sheet(path: Path, rows: list[list[object]]) -> None:
    """A response sheet (`upr sheet`, filled or not) lists recommendations already in the store: importing it
    would add them again, without their session. Refused, pointing to `upr ingest`."""
    headers = _level_headers()
    for n, row in enumerate(rows[:CSV_HEAD_ROWS], start=1):
        for c in row:
            text = cell_text(c).strip()
            if text and vocab.fold(text) in headers:
                raise InputError(
                    f"{path}: a response sheet (row {n} has the column {text!r}), not a list of recommendations; "
                    "nothing imported",
                    hint=f"to store a stakeholder's assessments from it: upr ingest {path} --stakeholder NAME --type TYPE "
                         "(its recommendations are already in the store)",
                    problems=[Problem("a response sheet, not a list of recommendations", file=str(path), row=n, column=text)],
                )


def _first_row(rows: list[list[object]]) -> str:
    """' (first row: 'Name', 'Age', ...)' for the message of a file no reader recognises."""
    for row in rows[:20]:
        cells = [cell_text(c).strip() for c in row]
        cells = [c for c in cells if c]
        if cells:
            shown = ", ".join(short(c, 40) for c in cells[:8]) + (", ..." if len(cells) > 8 else "")
            return f" (first row: {shown})"
    return " (no row with any value in the first 20)"


CSV_HEAD_ROWS = 20  # the header is looked for in the first rows; the others are streamed


def _read_csv(path: Path, encoding: str | None) -> tuple[ReadResult | None, list[list[str]]]:
    """A CSV file: the encoding is judged on the whole file, then the rows are streamed.

    Returns the reader's result (None when no header matches) and the first rows.
    """
    stream = not encoding
    if stream:  # judged in one pass over the file in chunks: never the whole file in memory
        enc, sample = scan_text_file(path)
        stream = enc in ("utf-8", "utf-8-sig", "cp1252", "mac_roman", "latin-1")
    if not stream:
        data = path.read_bytes()
        check_lines(data, path)
        try:
            text, enc = decode(data, encoding)
        except (UnicodeDecodeError, LookupError) as e:
            what = f"as {encoding}" if encoding else "as text"
            raise InputError(f"{path}: cannot decode the file {what}: {e}",
                             hint="pass the file's encoding with --encoding, e.g. --encoding cp1252") from None
        except InputError as e:  # mixed encodings
            raise with_path(e, path) from None
        del data
        refuse_nul(text, path)
    rest: Iterator[list[str]] | None
    if stream:
        delimiter = csv_delimiter(sample.decode(enc, errors="replace"))
        rest = iter_csv_file(path, enc, delimiter)
        head: list[list[str]] = list(islice(rest, CSV_HEAD_ROWS))
    else:
        try:
            head, rest = csv_rows(text), None
        except InputError as e:
            raise with_path(e, path) from None
    result = upr_info.read_rows(head, None, "upr-info-csv", rest)
    if result is None:
        refuse_response_sheet(path, head)
        result = table.read_rows(head, None, "table", rest)
    if result:
        result.defaults.setdefault("encoding", enc)
    return result, head


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def text_key(text: str) -> str:
    """The text as it counts for identity: case, spaces, quotes and final punctuation ignored."""
    if not text.isascii():  # ASCII is already NFKC and holds none of the quotes
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    # str.split() and the regex \s agree on what white space is
    return " ".join(text.lower().split()).rstrip(" .;,")


def _make_id(sur: str, session: int | None, paragraph: str | None, tkey: str, rs_key: str, ordinal: int) -> str:
    """The stable ID (normalise builds the same string inline, hashing its first five parts only once)."""
    key = "\x1f".join([sur, str(session or ""), paragraph or "", tkey, rs_key, str(ordinal)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{sur}-{session or 0:02d}-{digest}"


def short(value: object, limit: int = 80) -> str:
    """repr() of a value for a message, cut to `limit` characters (a cell can hold a whole page)."""
    text = str(value)
    if len(text) > limit:
        return repr(text[: limit - 1]) + f"… ({len(text):,} characters)"
    return repr(text)


def _hint_choices(value: str, choices: list[str], what: str) -> str:
    close = vocab.closest(value, choices)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return f"expected one of: {', '.join(choices)}" if len(choices) <= 12 else f"see `upr vocab {what}`"


def normalise(
    records: Iterable[Record],
    file: str,
    *,
    defaults: dict[str, str] | None = None,
    progress: Progress | None = None,
    required: tuple[str, ...] = (),
) -> list[Normalised]:
    """Check and normalise every record; raise InputError listing all problems."""
    out: list[Normalised] = []
    for batch in normalise_batches(records, file, defaults=defaults, progress=progress, required=required):
        out.extend(batch)
    return out


BATCH_ROWS = 50_000


def normalise_batches(
    records: Iterable[Record],
    file: str,
    *,
    defaults: dict[str, str] | None = None,
    progress: Progress | None = None,
    required: tuple[str, ...] = (),
    batch: int | None = None,
) -> Iterator[list[Normalised]]:
    """Check and normalise the records as a stream, `batch` rows at a time (bounded memory).

    Yields batches while every row so far is good; after the first bad row it yields no more
    but goes on checking, and at the end raises InputError listing every problem (so the
    caller, writing batches inside one transaction, rolls them all back).

    `required`: fields every row of this format has ("rs", "session", "response" for UPR Info
    exports); a row without one is a row error (often the last row of a file cut off mid-row).
    """
    defaults = defaults or {}
    batch = batch or BATCH_ROWS
    problems = ProblemList(file=file)
    out: list[Normalised] = []
    # ordinals of identical rows: the key of every row is kept as a 64-bit digest, not as its text
    seen: set[int] = set()
    repeats: Counter[int] = Counter()
    responses = sorted({r["spelling"] for r in vocab.response_spellings()} | set(vocab.CANONICAL_RESPONSES))
    # the same few hundred values repeat on every row: look each up once
    country_code = lru_cache(maxsize=8192)(vocab.country_code)
    fold = lru_cache(maxsize=8192)(vocab.fold)
    canonical_response = lru_cache(maxsize=1024)(vocab.canonical_response)
    issue_name = lru_cache(maxsize=1024)(vocab.issue_name)
    action_level = lru_cache(maxsize=256)(vocab.action_level)
    session_number = lru_cache(maxsize=1024)(vocab.session_number)
    names: dict[str, str] = {}  # one string object per distinct name, however many rows repeat it
    sessions = vocab.sessions()
    n = 0
    rec: Record

    def bad(field: str, value: str | None, message: str, hint: str | None = None) -> None:
        """A problem at the current row (`rec`, the loop's record, as it is when called)."""
        if value is not None and len(value) > 200:
            value = value[:199] + "…"
        problems.add(message, column=rec.columns.get(field), value=value, hint=hint, row=rec.row, sheet=rec.sheet)

    for rec in records:
        n += 1
        if progress and n % 1000 == 0:
            progress(1000)

        sur_raw = rec.sur or defaults.get("sur")
        sur = None
        if not sur_raw:
            bad("sur", None, "no State under review", "fill the State-under-review column, or pass --sur ISO3")
        else:
            sur = country_code(sur_raw)
            if sur is None:
                bad("sur", sur_raw, f"unknown State under review {short(sur_raw)}", vocab.country_hint(sur_raw[:200]))
        text = (rec.text or "").strip()
        if not text:
            bad("text", None, "empty recommendation text", "every row needs the text of the recommendation")
        rs: list[tuple[str | None, str]] = []
        for name in rec.rs:
            name = names.setdefault(name, name)
            code = country_code(name)
            if code is None and not vocab.is_unknown_state(name):
                parts = [p.strip() for p in re.split(r",|\band\b", name) if p.strip()]
                codes = [country_code(p) for p in parts]
                if len(parts) > 1 and all(codes):
                    rs.extend((c, p) for c, p in zip(codes, parts))
                    continue
                bad("rs", name, f"unknown recommending State {short(name)}", vocab.country_hint(name[:200]))
            rs.append((code, name))
        if required and not (rec.rs and rec.response and (rec.session or defaults.get("session"))):
            for name, value, what in (("rs", rec.rs, "recommending State"), ("response", rec.response, "response"),
                                      ("session", rec.session or defaults.get("session"), "session")):
                if name in required and not value:
                    bad(name, None, f"no {what}", "every row of this format has one: is the row cut off (a truncated file)?")
        response = None
        response_raw = rec.response
        if response_raw:
            response_raw = names.setdefault(response_raw, response_raw)
            response = canonical_response(response_raw)
            if response is None:
                bad("response", response_raw, f"unknown response {short(response_raw)}",
                    _hint_choices(response_raw[:200], responses, "responses"))
        action = None
        if rec.action:
            try:
                action = action_level(rec.action)
            except ValueError:
                bad("action", rec.action, f"action category {short(rec.action)} is not 1-5", "see `upr vocab actions`")
        issues: list[str] = []
        for raw in rec.issues:
            name = issue_name(raw)
            if name is None:
                bad("issues", raw, f"unknown issue {short(raw)}", _hint_choices(raw[:200], vocab.issues(), "issues"))
            elif name not in issues:
                issues.append(name)
        session = None
        session_raw = rec.session or defaults.get("session")
        if session_raw:
            try:
                session = session_number(session_raw)
            except ValueError:
                bad("session", session_raw, f"session {short(session_raw)} is not a UPR session number",
                    f"expected a number 1-{max(sessions)}, such as 12 or '36th Session'")
        if problems or sur is None:
            continue
        paragraph = (rec.paragraph or "").strip() or None
        tkey = text_key(text)
        rs_key = ",".join([c or fold(r) for c, r in rs])
        base = "\x1f".join((sur, str(session or ""), paragraph or "", tkey, rs_key))  # what _make_id hashes, but the ordinal
        key = int.from_bytes(hashlib.blake2b(base.encode(), digest_size=8).digest())
        if key in seen:
            repeats[key] += 1
            ordinal = repeats[key]
        else:
            seen.add(key)
            ordinal = 0
        s = sessions.get(session) if session else None
        out.append(
            Normalised(
                id=f"{sur}-{session or 0:02d}-{hashlib.sha256(f'{base}{chr(31)}{ordinal}'.encode()).hexdigest()[:12]}",
                sur=sur,
                session=session,
                cycle=s.cycle if s else None,
                year=s.year if s else None,
                paragraph=paragraph,
                text=text,
                response=response,
                response_raw=response_raw,
                action=action,
                is_pledge=response == "Voluntary Pledge",
                document=rec.document,
                comment=rec.comment,
                rs=rs,
                issues=issues,
                themes=list(dict.fromkeys(rec.themes)),
                source_row=rec.row,
            )
        )
        if len(out) >= batch:
            yield out
            out = []
    if progress:
        progress(n % 1000)
    if n == 0:
        problems.add("the file has a header but no recommendation rows", hint="check that you exported the right file")
    if problems:
        count = len(problems.problems)
        raise InputError(
            f"{file}: {count}{'+' if count >= problems.limit else ''} problem{'s' if count != 1 else ''}, nothing imported",
            problems=problems.problems,
            hint="fix the rows named above and import the file again",
        )
    if out:
        yield out


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small objects.

    The records hold no reference cycles; without this, each full collection walks every
    record built so far, and reading a million rows spends most of its time there.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Fields every row of a format has (DOMAIN.md: one row per recommendation and recommending State)
REQUIRED = {"upr-info-csv": ("rs", "response", "session"), "upr-info-xls": ("rs", "response", "session")}


def prepare(
    path: Path,
    *,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read and check one file; nothing is written."""
    result = read_file(path, encoding)
    defaults = dict(result.defaults)
    if sur:
        defaults["sur"] = sur
    if session:
        defaults["session"] = session
    try:
        with _no_gc():
            recs = normalise(result.records, str(path), defaults=defaults, progress=progress,
                             required=REQUIRED.get(result.format, ()))
    except UnicodeDecodeError as e:  # pragma: no cover - readers decode up front
        raise InputError(f"{path}: cannot decode: {e}", hint="pass --encoding") from None
    return ImportReport(
        file=str(path),
        format=result.format,
        sha256=sha256_of(path),
        rows_read=len(recs),
        encoding=result.defaults.get("encoding"),
        skipped=dict(result.skipped),
        records=recs,
    )


def _existing_ids(store: Store | None, ids: list[str]) -> set[str]:
    found: set[str] = set()
    if store is None:
        return found
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        q = f"SELECT id FROM recommendations WHERE id IN ({','.join('?' * len(chunk))})"
        found.update(r[0] for r in store.conn.execute(q, chunk))
    return found


REC_COLUMNS = ("pk, id, sur, session, cycle, year, paragraph, text, response, response_raw, "
               "action, is_pledge, document, comment, import_id, source_row")
STAGE_ROWS = 50_000


def _insert_recommendations(conn: sqlite3.Connection, new: list[Normalised], start: int, import_id: int | None,
                            *, bulk: bool = False) -> None:
    """Insert through a temporary staging table, one INSERT ... SELECT per 50,000 rows.

    The full-text index is kept by a trigger; FTS5 flushes its pending terms at every
    statement, so one INSERT per row would write one tiny index segment per row (a
    million-row file took minutes). Rows, pks and the trigger are the same either way.
    In a bulk import (the insert trigger dropped for the transaction, see `_bulk_begin`)
    the rows go straight in and the full-text index gets them in one statement.
    """
    if bulk:
        conn.executemany(
            f"INSERT INTO recommendations ({REC_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((start + i, r.id, r.sur, r.session, r.cycle, r.year, r.paragraph, r.text, r.response, r.response_raw,
              r.action, int(r.is_pledge), r.document, r.comment, import_id, r.source_row) for i, r in enumerate(new)),
        )
        conn.execute("INSERT INTO recommendations_fts (rowid, text) SELECT pk, text FROM recommendations WHERE pk >= ? ORDER BY pk",
                     (start,))
        return
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS _stage_recommendations AS SELECT {REC_COLUMNS} FROM recommendations WHERE 0")
    try:
        for lo in range(0, len(new), STAGE_ROWS):
            conn.executemany(
                f"INSERT INTO temp._stage_recommendations ({REC_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (start + i, r.id, r.sur, r.session, r.cycle, r.year, r.paragraph, r.text, r.response, r.response_raw,
                     r.action, int(r.is_pledge), r.document, r.comment, import_id, r.source_row)
                    for i, r in enumerate(new[lo : lo + STAGE_ROWS], start=lo)
                ),
            )
            conn.execute(f"INSERT INTO recommendations ({REC_COLUMNS}) SELECT {REC_COLUMNS} FROM temp._stage_recommendations ORDER BY pk")
            conn.execute("DELETE FROM temp._stage_recommendations")
    finally:
        conn.execute("DROP TABLE IF EXISTS temp._stage_recommendations")


def write(store: Store, report: ImportReport) -> ImportReport:
    """Write one file prepared whole by `prepare` in one transaction (kept for scripts; the command streams)."""
    report.rows_read = report.added = report.already_present = 0  # counted again as the rows are written
    with store.write() as conn:
        import_id = _start_import(conn, report)
        _write_batch(store, report, report.records, import_id)
        _finish_import(conn, report, import_id)
    return report


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _start_import(conn: sqlite3.Connection, report: ImportReport) -> int:
    """The file's line in the `imports` table; its counts are set by `_finish_import` in the same transaction."""
    cur = conn.execute(
        "INSERT INTO imports (file_name, sha256, format, rows_read, added, already_present, started_at, finished_at, tool_version) "
        "VALUES (?,?,?,0,0,0,?,?,?)",
        (Path(report.file).name, report.sha256, report.format, _now(), _now(), __version__),
    )
    report.import_id = int(cur.lastrowid or 0)
    return report.import_id


def _finish_import(conn: sqlite3.Connection, report: ImportReport, import_id: int) -> None:
    conn.execute(
        "UPDATE imports SET rows_read = ?, added = ?, already_present = ?, finished_at = ? WHERE id = ?",
        (report.rows_read, report.added, report.already_present, _now(), import_id),
    )


def _write_batch(store: Store | None, report: ImportReport, batch: list[Normalised], import_id: int | None,
                 *, bulk: bool = False, fresh: bool = False) -> None:
    """Count one batch of checked rows (new / already present) and, with an import_id, insert the new ones.

    `fresh`: the store was empty when the command began and this is its only file, so no ID can be
    present already (IDs within a file are distinct by construction): nothing to look up.
    """
    existing = set() if fresh else _existing_ids(store, [r.id for r in batch])
    new = [r for r in batch if r.id not in existing] if existing else batch
    report.rows_read += len(batch)
    report.already_present += len(batch) - len(new)
    report.added += len(new)
    if import_id is None or not new or store is None:
        return
    conn = store.conn
    start = conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM recommendations").fetchone()[0]
    _insert_recommendations(conn, new, start, import_id, bulk=bulk)
    conn.executemany(
        "INSERT INTO recommending_states (rec_pk, position, iso3, name_raw) VALUES (?,?,?,?)",
        ((start + i, j, code, raw) for i, r in enumerate(new) for j, (code, raw) in enumerate(r.rs)),
    )
    conn.executemany(
        "INSERT INTO recommendation_issues (rec_pk, issue) VALUES (?,?)",
        ((start + i, issue) for i, r in enumerate(new) for issue in r.issues),
    )
    conn.executemany(
        "INSERT INTO recommendation_themes (rec_pk, theme) VALUES (?,?)",
        ((start + i, t) for i, r in enumerate(new) for t in r.themes),
    )


@dataclass
class Source:
    """A file whose format and header were recognised; its rows are read, checked and written as a stream."""

    path: Path
    result: ReadResult
    defaults: dict[str, str]

    def report(self) -> ImportReport:
        return ImportReport(file=str(self.path), format=self.result.format, sha256=sha256_of(self.path), rows_read=0,
                            encoding=self.result.defaults.get("encoding"))

    def batches(self, progress: Progress | None = None) -> Iterator[list[Normalised]]:
        return normalise_batches(self.result.records, str(self.path), defaults=self.defaults, progress=progress,
                                 required=REQUIRED.get(self.result.format, ()))


def open_sources(
    paths: list[Path],
    *,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
) -> tuple[list[Source], list[InputError]]:
    """Recognise every file (format, header), without touching any store: the sources, and the files refused."""
    if sur and vocab.country_code(sur) is None:
        raise InputError(f"--sur {sur!r}: unknown State", hint=vocab.country_hint(sur))
    sources: list[Source] = []
    errors: list[InputError] = []
    for p in paths:
        try:
            result = read_file(p, encoding)
        except InputError as e:
            errors.append(e)
            continue
        defaults = dict(result.defaults)
        if sur:
            defaults["sur"] = sur
        if session:
            defaults["session"] = session
        sources.append(Source(Path(p), result, defaults))
    return sources, errors


def _combined(errors: list[InputError], n_files: int) -> InputError:
    if len(errors) == 1:
        return errors[0]
    problems: list[Problem] = []
    for e in errors:
        problems.extend(e.problems or [Problem(e.message, hint=e.hint)])
    return InputError(
        f"{len(errors)} of {n_files} files have problems, nothing imported",
        problems=problems,
        hint="fix the files named above and run the import again",
    )


def import_sources(
    store: Store | None,
    sources: list[Source],
    *,
    dry_run: bool = False,
    errors: list[InputError] | None = None,
    n_files: int | None = None,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Check and write every file's rows in bounded batches, all in one write transaction.

    Nothing is kept whole in memory: rows are read, checked and inserted 50,000 at a time.
    The first bad row stops the inserting (the other rows and files are still checked, so
    every problem is listed) and the whole transaction is rolled back: one bad row and
    nothing from the command is stored. With dry_run (and `store` read-only or None) the
    rows are only checked and counted.
    """
    errors = list(errors or [])
    n_files = n_files or len(sources) + len(errors)
    reports: list[ImportReport] = []
    writing = not dry_run and store is not None
    with _no_gc(), (store.write() if writing else nullcontext()) as conn:  # type: ignore[union-attr]
        bulk = writing and not errors and _is_bulk(conn, sources)
        fresh = bulk and len(sources) == 1 and conn.execute("SELECT max(pk) FROM recommendations").fetchone()[0] is None
        if bulk:
            indexes = _bulk_begin(conn)
        for src in sources:
            report = src.report()
            report.dry_run = dry_run
            insert = writing and not errors
            import_id = _start_import(conn, report) if insert else None
            try:
                for batch in src.batches(progress):
                    _write_batch(store if not errors else None, report, batch, import_id, bulk=bulk, fresh=fresh)
            except InputError as e:
                errors.append(e)
                continue
            report.skipped = dict(src.result.skipped)
            if import_id is not None:
                _finish_import(conn, report, import_id)
            reports.append(report)
        if errors:
            raise _combined(errors, n_files)  # inside the transaction: it rolls back
        if bulk:
            for sql in indexes:  # indexes built by sorting, once, instead of row by row; the trigger back
                conn.execute(sql)
    return reports


# A first import of a large file into a small store builds the secondary indexes once at the end
# (sorting) rather than row by row: a million rows into an empty store, about 10 s of CPU less.
BULK_BYTES = 20 << 20
BULK_TABLES = ("recommendations", "recommending_states", "recommendation_issues")


def _is_bulk(conn: sqlite3.Connection, sources: list[Source]) -> bool:
    size = sum(s.path.stat().st_size for s in sources)
    if size < BULK_BYTES:
        return False
    held = conn.execute("SELECT coalesce(max(pk), 0) FROM recommendations").fetchone()[0]
    return held * 250 < size  # the store holds fewer rows than the files bring (about 250 bytes a row)


def _bulk_begin(conn: sqlite3.Connection) -> list[str]:
    """Inside the import's transaction: drop the secondary indexes of the tables it fills and the full-text
    insert trigger (the rows are indexed per batch instead); return the SQL that makes them again.

    Schema changes are part of the transaction: if the import fails or is killed, they roll back with it.
    """
    marks = ",".join("?" * len(BULK_TABLES))
    rows = conn.execute(
        f"SELECT type, name, sql FROM sqlite_master WHERE ((type = 'index' AND tbl_name IN ({marks})) "
        "OR (type = 'trigger' AND name = 'recommendations_ai')) AND sql IS NOT NULL",
        BULK_TABLES,
    ).fetchall()
    for kind, name, _ in rows:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, _, sql in rows]


def import_files(
    store: Store | None,
    paths: list[Path],
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Import files into an open store: each file checked and written as a stream, all in one transaction."""
    sources, errors = open_sources(paths, encoding=encoding, sur=sur, session=session)
    return import_sources(store, sources, dry_run=dry_run, errors=errors, n_files=len(paths), progress=progress)


def run_import(
    db: str | Path | None,
    paths: list[Path],
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
) -> tuple[list[ImportReport], int]:
    """`upr import`: the reports and the store's total of recommendations afterwards.

    Files are recognised before the store is opened; a dry run opens it read-only (or not
    at all when there is none); a failed import leaves no store where there was none.
    """
    from .store import default_db_path, open_existing, open_store

    sources, errors = open_sources(paths, encoding=encoding, sur=sur, session=session)
    if errors or dry_run:  # check (and count) only
        if errors and not sources:
            raise _combined(errors, len(paths))
        with open_existing(db) if not errors else nullcontext(None) as store:
            reports = import_sources(store, sources, dry_run=True, errors=errors, n_files=len(paths), progress=progress)
            return reports, store.recommendation_count() if store else 0
    path = Path(db) if db else default_db_path()
    created = not path.exists()
    try:
        with open_store(path) as store:
            reports = import_sources(store, sources, progress=progress)
            return reports, store.recommendation_count()
    except InputError:
        if created:  # the rows were rolled back; the empty store made for them goes too
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
