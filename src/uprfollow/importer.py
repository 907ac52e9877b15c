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
from contextlib import contextmanager
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
    """Check and normalise every record; raise InputError listing all problems.

    `required`: fields every row of this format has ("rs", "session", "response" for UPR Info
    exports); a row without one is a row error (often the last row of a file cut off mid-row).
    """
    defaults = defaults or {}
    problems = ProblemList(file=file)
    out: list[Normalised] = []
    seen: Counter[tuple] = Counter()
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
    for rec in records:
        n += 1
        if progress and n % 1000 == 0:
            progress(1000)
        where = {"row": rec.row, "sheet": rec.sheet}

        def bad(field: str, value: str | None, message: str, hint: str | None = None) -> None:
            if value is not None and len(value) > 200:
                value = value[:199] + "…"
            problems.add(message, column=rec.columns.get(field), value=value, hint=hint, **where)

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
        rs_keys = tuple(c or fold(r) for c, r in rs)
        key = (sur, session, paragraph, tkey, rs_keys)
        ordinal = seen[key]
        seen[key] += 1
        s = sessions.get(session) if session else None
        out.append(
            Normalised(
                id=_make_id(sur, session, paragraph, tkey, ",".join(rs_keys), ordinal),
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
    return out


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


def _insert_recommendations(conn: sqlite3.Connection, new: list[Normalised], start: int, import_id: int | None) -> None:
    """Insert through a temporary staging table, one INSERT ... SELECT per 50,000 rows.

    The full-text index is kept by a trigger; FTS5 flushes its pending terms at every
    statement, so one INSERT per row would write one tiny index segment per row (a
    million-row file took minutes). Rows, pks and the trigger are the same either way.
    """
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


def write(store: Store | None, report: ImportReport, *, dry_run: bool = False) -> ImportReport:
    """Write one prepared file in one transaction (or just count, with dry_run, where `store` may be None: no store yet)."""
    started = datetime.now(UTC).isoformat(timespec="microseconds")
    recs = report.records
    if dry_run:
        existing = _existing_ids(store, [r.id for r in recs])
        report.already_present = len(existing)
        report.added = len(recs) - len(existing)
        report.dry_run = True
        return report
    assert store is not None
    with store.write() as conn:
        existing = _existing_ids(store, [r.id for r in recs])
        new = [r for r in recs if r.id not in existing]
        report.already_present = len(recs) - len(new)
        report.added = len(new)
        finished = datetime.now(UTC).isoformat(timespec="microseconds")
        cur = conn.execute(
            "INSERT INTO imports (file_name, sha256, format, rows_read, added, already_present, started_at, finished_at, tool_version) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (Path(report.file).name, report.sha256, report.format, report.rows_read, report.added,
             report.already_present, started, finished, __version__),
        )
        import_id = cur.lastrowid
        report.import_id = import_id
        start = conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM recommendations").fetchone()[0]
        _insert_recommendations(conn, new, start, import_id)
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
    return report


def prepare_files(
    paths: list[Path],
    *,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Read and check every file, without touching any store; raise InputError listing every problem."""
    if sur and vocab.country_code(sur) is None:
        raise InputError(f"--sur {sur!r}: unknown State", hint=vocab.country_hint(sur))
    prepared: list[ImportReport] = []
    errors: list[InputError] = []
    for p in paths:
        try:
            prepared.append(prepare(p, encoding=encoding, sur=sur, session=session, progress=progress))
        except InputError as e:
            errors.append(e)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        problems: list[Problem] = []
        for e in errors:
            problems.extend(e.problems or [Problem(e.message, hint=e.hint)])
        raise InputError(
            f"{len(errors)} of {len(paths)} files have problems, nothing imported",
            problems=problems,
            hint="fix the files named above and run the import again",
        )
    return prepared


def write_all(store: Store | None, prepared: list[ImportReport], *, dry_run: bool = False) -> list[ImportReport]:
    """Write prepared files, each in its own transaction."""
    with _no_gc():
        return [write(store, r, dry_run=dry_run) for r in prepared]


def import_files(
    store: Store,
    paths: list[Path],
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Check every file first; if all are good, write each in its own transaction."""
    prepared = prepare_files(paths, encoding=encoding, sur=sur, session=session, progress=progress)
    return write_all(store, prepared, dry_run=dry_run)
