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
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, vocab
from .errors import FormatNotRecognised, InputError, Problem, ProblemList
from .formats import table, upr_info
from .formats.base import ReadResult, Record
from .formats.response_sheet import refuse_response_sheet
from .formats.sniff import cell_text, check_lines, container, csv_delimiter, csv_rows, decode, detect_encoding, iter_csv_file, refuse_nul, sheet_rows, with_path
from .lemmas import FORMAT_LANGUAGE, analyse, normalise_language
from .linking import PARAGRAPH_FORMATS, split_pairs
from .store import Store

if TYPE_CHECKING:
    from .linking import LinkReport

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
    sdgs: list[int] = field(default_factory=list)      # Sustainable Development Goals 1-17
    groups: list[str] = field(default_factory=list)    # affected persons / groups of persons, as written


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
    language: str | None = None  # the texts' language where the file says it ('en', 'fr', 'es'); else detected per text
    skipped: dict[str, int] = field(default_factory=dict)  # rows the reader left out on purpose, by reason
    notes: list[str] = field(default_factory=list)  # where file-level values came from ("State under review SVN from the file name")
    new_issues: list[str] = field(default_factory=list)  # issues of a UPR Info export that data/issues.csv lacks, added to the store
    records: list[Normalised] = field(default_factory=list, repr=False)
    added_pairs: int = 0             # records added (one per recommendation and recommending State)
    rows_in_file: int | None = None  # a paragraph with several recommending States is one row, several records (pairs)
    link: LinkReport | None = None

    def as_dict(self) -> dict:
        return {
            "unit": "pairs",
            "file": self.file,
            "format": self.format,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "added": self.added,
            "already_present": self.already_present,
            "dry_run": self.dry_run,
            "import_id": self.import_id,
            "skipped": dict(self.skipped),
            "notes": list(self.notes),
            "rows_in_file": self.rows_in_file,
            "added_pairs": self.added_pairs,
            **(self.link.as_dict() if self.link else {"linked": 0, "absorbed": 0, "unlinked": [], "conflicts": [], "contradictions": []}),
        }


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_file(path: Path, encoding: str | None = None, ignore_columns: Collection[str] = ()) -> ReadResult:
    """Detect the format from content and return the reader's records (`ignore_columns`: headers left out)."""
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
    if kind in ("ole2", "text"):
        from .formats import word_doc

        with open(path, "rb") as f:
            head = f.read(8)
        if word_doc.is_word_doc(path, head):  # Word 97-2003 or RTF: converted to .docx by LibreOffice
            return word_doc.read(path)
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
            refuse_response_sheet(path, rows, CSV_HEAD_ROWS)
            result = table.read_rows(rows, sheet, "table", ignore=ignore_columns)
    else:
        result, rows = _read_csv(path, encoding, ignore_columns)
    if result is None:
        raise FormatNotRecognised(
            f"{path}: the header matches no known format{_first_row(rows)}",
            hint=f"expected {EXPECTED_HEADERS}",
        )
    return result


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


def _read_csv(path: Path, encoding: str | None, ignore_columns: Collection[str] = ()) -> tuple[ReadResult | None, list[list[str]]]:
    """A CSV file: the encoding is judged on the whole file, then the rows are streamed.

    Returns the reader's result (None when no header matches) and the first rows.
    """
    data = path.read_bytes()
    check_lines(data, path)  # a file without line breaks (or one line of megabytes) is refused at once
    try:
        enc = detect_encoding(data, encoding)
        stream = enc in ("utf-8", "utf-8-sig", "cp1252", "mac_roman", "latin-1") and not encoding
        if not stream:
            text, enc = decode(data, encoding)
    except (UnicodeDecodeError, LookupError) as e:
        what = f"as {encoding}" if encoding else "as text"
        hint = "pass the file's encoding with --encoding, e.g. --encoding cp1252"
        if encoding:  # the given encoding is wrong: say what upr finds by itself, rather than guess another
            try:
                found = detect_encoding(data, None)
                decode(data, None)
                hint = f"drop --encoding: upr reads this file as {found} by itself"
            except (UnicodeDecodeError, LookupError):
                pass
        raise InputError(f"{path}: cannot decode the file {what}: {e}", hint=hint) from None
    except InputError as e:  # mixed encodings
        raise with_path(e, path) from None
    refuse_nul(data if stream else text, path)  # names the row
    rest: Iterator[list[str]] | None
    if stream:
        delimiter = csv_delimiter(data[:20000].decode(enc, errors="replace"))
        del data
        rest = iter_csv_file(path, enc, delimiter)
        head: list[list[str]] = list(islice(rest, CSV_HEAD_ROWS))
    else:
        try:
            head, rest = csv_rows(text), None
        except InputError as e:
            raise with_path(e, path) from None
    result = upr_info.read_rows(head, None, "upr-info-csv", rest)
    if result is None:
        refuse_response_sheet(path, head, CSV_HEAD_ROWS)
        result = table.read_rows(head, None, "table", rest, ignore=ignore_columns)
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


def make_id(sur: str, session: int | None, paragraph: str | None, text: str, rs: list[tuple[str | None, str]], ordinal: int) -> str:
    rs_key = ",".join(code or vocab.fold(raw) for code, raw in rs)
    return _make_id(sur, session, paragraph, text_key(text), rs_key, ordinal)


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
    review_sessions: Mapping[tuple[str, int], int] | None = None,
    split: bool = False,
    required: tuple[str, ...] = (),
) -> list[Normalised]:
    """Check and normalise every record; raise InputError listing all problems.

    With `split` (OHCHR/UHRI lists), a paragraph made by several States gives one record per State.
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
    missing = lru_cache(maxsize=8192)(vocab.is_missing)
    names: dict[str, str] = {}  # one string object per distinct name, however many rows repeat it
    sessions = vocab.sessions()
    add_issues = defaults.get("new_issues") == "add"  # UPR Info's own export: its newer issues are added, not refused
    new_issues: dict[str, str] = {}
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

        sur_raw = (rec.sur if not missing(rec.sur) else None) or defaults.get("sur")
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
            if missing(name):  # "NA", "-", "none": no State, not Namibia
                continue
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
        response_raw = rec.response if not missing(rec.response) else None
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
            if name is None and add_issues and raw.strip() and len(raw) <= 200:
                name = new_issues.setdefault(fold(raw), " ".join(raw.split()))  # a UPR Info issue newer than data/issues.csv
            if name is None:
                bad("issues", raw, f"unknown issue {short(raw)}", _hint_choices(raw[:200], vocab.issues(), "issues"))
            elif name not in issues:
                issues.append(name)
        session = None
        session_raw = (rec.session if not missing(rec.session) else None) or defaults.get("session")
        if session_raw:
            try:
                session = session_number(session_raw)
            except ValueError:
                bad("session", session_raw, f"session {short(session_raw)} is not a UPR session number",
                    f"expected a number 1-{max(sessions)}, such as 12 or '36th Session'")
        sdgs: list[int] = []
        for raw in rec.sdgs:
            number = vocab.sdg_number(raw)
            if number is None:
                bad("sdgs", raw, f"unknown Sustainable Development Goal {short(raw)}", "expected 1-17, such as '16 - PEACE, JUSTICE AND STRONG INSTITUTIONS'")
            elif number not in sdgs:
                sdgs.append(number)
        year = None
        if rec.year and not missing(rec.year) and session is None:
            try:
                year = int(float(rec.year.strip()))
            except ValueError:
                year = 0
            if not 2008 <= year <= max(s.year for s in sessions.values()):
                bad("year", rec.year, f"year {short(rec.year)} is not a year of the UPR", "expected a year from 2008, such as 2019")
            elif sur and review_sessions is not None and (sur, year) in review_sessions:
                session, year = review_sessions[(sur, year)], None  # the State's one review that year
        if problems or sur is None:
            continue
        paragraph = (rec.paragraph or "").strip() or None
        s = sessions.get(session) if session else None
        cycles = {x.cycle for x in sessions.values() if x.year == year} if year and not s else set()
        # a numbered paragraph made by several States: one record per (text, State) pair, as UPR Info counts
        pairs = split_pairs(text, rs) if split and paragraph and len(rs) > 1 else [(text, rs)]
        for text, rs in pairs:
            tkey = text_key(text)
            rs_keys = tuple(c or fold(r) for c, r in rs)
            key = (sur, session, paragraph, tkey, rs_keys)
            ordinal = seen[key]
            seen[key] += 1
            out.append(
                Normalised(
                    id=_make_id(sur, session, paragraph, tkey, ",".join(rs_keys), ordinal),
                    sur=sur,
                    session=session,
                    cycle=s.cycle if s else (min(cycles) if len(cycles) == 1 else None),
                    year=s.year if s else year,
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
                    sdgs=sdgs,
                    groups=list(dict.fromkeys(g for g in rec.groups if not missing(g))),
                )
            )
    if progress:
        progress(n % 1000)
    if n == 0 and not problems.problems:  # nothing row by row to fix: say what is wrong, not "fix the rows named above"
        raise InputError(f"{file}: the file has a header but no recommendation rows, nothing imported", hint="check that you exported the right file")
    if n == 0:
        problems.add("the file has a header but no recommendation rows", hint="check that you exported the right file")
    if problems:
        count = len(problems.problems)
        raise InputError(
            f"{file}: {count}{'+' if count >= problems.limit else ''} problem{'s' if count != 1 else ''}, nothing imported",
            problems=problems.problems,
            hint="fix the rows named above and import the file again",
        )
    if new_issues:
        defaults["added_issues"] = "\x1f".join(sorted(new_issues.values()))
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
    ignore_columns: Collection[str] = (),
    review_sessions: Mapping[tuple[str, int], int] | None = None,
) -> ImportReport:
    """Read and check one file; nothing is written."""
    try:
        result = read_file(path, encoding, ignore_columns)
    except InputError as e:  # readers that do not know the file's name (formats/table.py) leave it to be added here
        if str(path) not in e.message:
            e.message = f"{path}: {e.message}"
            e.args = (e.message,)
        for p in e.problems:
            p.file = p.file or str(path)
        raise
    defaults = dict(result.defaults)
    notes = _check_hints(path, defaults, sur, session)
    if sur:
        defaults["sur"] = sur
    if session:
        defaults["session"] = session
    try:
        with _no_gc():
            recs = normalise(result.records, str(path), defaults=defaults, progress=progress, review_sessions=review_sessions,
                             split=result.format in PARAGRAPH_FORMATS, required=REQUIRED.get(result.format, ()))
    except UnicodeDecodeError as e:  # pragma: no cover - readers decode up front
        raise InputError(f"{path}: cannot decode: {e}", hint="pass --encoding") from None
    return ImportReport(
        file=str(path),
        format=result.format,
        sha256=sha256_of(path),
        rows_read=len(recs),
        rows_in_file=len({r.source_row for r in recs}),
        encoding=result.defaults.get("encoding"),
        language=normalise_language(result.defaults.get("language")),
        skipped=dict(result.skipped),
        records=recs,
        notes=notes + _issue_notes(defaults),
        new_issues=[i for i in defaults.get("added_issues", "").split("\x1f") if i],
    )


def _issue_notes(defaults: dict[str, str]) -> list[str]:
    added = [i for i in defaults.get("added_issues", "").split("\x1f") if i]
    if not added:
        return []
    shown = ", ".join(repr(i) for i in added[:5]) + (", ..." if len(added) > 5 else "")
    return [f"{len(added)} issue(s) of the UPR Info database that data/issues.csv lacks, added to the store's vocabulary: {shown}"]


def _check_hints(path: Path, found: dict[str, str], sur: str | None, session: str | None) -> list[str]:
    """Notes on where the file's State under review and session were read; a --sur/--session that
    contradicts what the document itself states is an error (the file name alone may be overridden)."""
    notes: list[str] = []
    for key, given, label, option in (("sur", sur, "State under review", "--sur"), ("session", session, "session", "--session")):
        value, where = found.get(key), found.get(f"{key}_from")
        if not value or not where:
            continue
        same = vocab.country_code(value) if key == "sur" else value
        if given:
            try:
                mine = vocab.country_code(given) if key == "sur" else str(vocab.session_number(given))
            except ValueError:
                continue  # reported as a bad session by normalise
            if mine != same and where != "the file name":
                raise InputError(
                    f"{path}: {option} {given} contradicts the document, whose {label} is {value} ({where})",
                    hint=f"leave out {option}, or check that this is the file you meant",
                    problems=[Problem(f"{option} {given} contradicts {where}: {value}", file=str(path))],
                )
            continue
        if where == "the page header":
            continue  # the usual place: nothing to say
        shown = vocab.country_code(value) if key == "sur" else value
        notes.append(f"{label} {shown} read from {where}" + (f"; pass {option} if that is wrong" if where == "the file name" else ""))
    return notes
def _has_aliases(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'record_aliases'").fetchone() is not None


def _existing_ids(store: Store | None, ids: list[str]) -> set[str]:
    """The IDs the store knows: its records' own and the aliases a link gave them (the other source's IDs)."""
    found: set[str] = set()
    if store is None:  # a dry run without a store: everything would be new
        return found
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" * len(chunk))
        if _has_aliases(store.conn):
            q = f"SELECT id FROM recommendations WHERE id IN ({marks}) UNION SELECT id FROM record_aliases WHERE id IN ({marks})"
            found.update(r[0] for r in store.conn.execute(q, chunk + chunk))
        else:  # a store opened below the schema that links (fixture builders of older versions)
            found.update(r[0] for r in store.conn.execute(f"SELECT id FROM recommendations WHERE id IN ({marks})", chunk))
    return found


REC_COLUMNS = ("pk, id, sur, session, cycle, year, paragraph, text, response, response_raw, "
               "action, is_pledge, document, comment, import_id, source_row")
LEMMA_COLUMNS = ", language, lemmas"  # from migration m011 on (tests/fixtures/make_store_v1.py writes at the first schema)
STAGE_ROWS = 50_000


def _insert_recommendations(conn: sqlite3.Connection, new: list[Normalised], start: int, import_id: int | None,
                            language: str | None = None) -> None:
    """Insert through a temporary staging table, one INSERT ... SELECT per 50,000 rows.

    The full-text index is kept by a trigger; FTS5 flushes its pending terms at every
    statement, so one INSERT per row would write one tiny index segment per row (a
    million-row file took minutes). Rows, pks and the trigger are the same either way.
    Each text's language (the file's `language`, else detected) and lemmas are added here.
    """
    lemmas = any(row[1] == "lemmas" for row in conn.execute("PRAGMA table_info(recommendations)"))
    columns = REC_COLUMNS + (LEMMA_COLUMNS if lemmas else "")
    marks = ",".join("?" * len(columns.split(",")))
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS _stage_recommendations AS SELECT {columns} FROM recommendations WHERE 0")
    try:
        for lo in range(0, len(new), STAGE_ROWS):
            conn.executemany(
                f"INSERT INTO temp._stage_recommendations ({columns}) VALUES ({marks})",
                (
                    (start + i, r.id, r.sur, r.session, r.cycle, r.year, r.paragraph, r.text, r.response, r.response_raw,
                     r.action, int(r.is_pledge), r.document, r.comment, import_id, r.source_row,
                     *(analyse(r.text, language) if lemmas else ()))
                    for i, r in enumerate(new[lo : lo + STAGE_ROWS], start=lo)
                ),
            )
            conn.execute(f"INSERT INTO recommendations ({columns}) SELECT {columns} FROM temp._stage_recommendations ORDER BY pk")
            conn.execute("DELETE FROM temp._stage_recommendations")
    finally:
        conn.execute("DROP TABLE IF EXISTS temp._stage_recommendations")


def _insert_new(conn: sqlite3.Connection, new: list[Normalised], import_id: int | None, language: str | None = None) -> dict[str, int]:
    """Insert records of their own (with their States, issues, themes, SDGs and groups); returns {id: pk}."""
    start = conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM recommendations").fetchone()[0]
    _insert_recommendations(conn, new, start, import_id, language)
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
    if any(r.sdgs or r.groups for r in new):  # (only lists of OHCHR/UHRI have them)
        conn.executemany(
            "INSERT INTO recommendation_sdgs (rec_pk, sdg) VALUES (?,?)",
            ((start + i, g) for i, r in enumerate(new) for g in r.sdgs),
        )
        conn.executemany(
            "INSERT INTO recommendation_groups (rec_pk, grp) VALUES (?,?)",
            ((start + i, g) for i, r in enumerate(new) for g in r.groups),
        )
    return {r.id: start + i for i, r in enumerate(new)}


def _count(report: ImportReport, recs: list[Normalised], new: list[Normalised], p: Any) -> None:
    """`added` / `already_present` in rows of the file (a paragraph of several States is one row); `added_pairs` in records."""
    new_ids = {r.id for r in new}
    report.already_present = len({r.source_row for r in recs if r.id not in new_ids})
    report.added = len({r.source_row for r in [*p.insert, *(c for c, _ in p.copies)]})
    report.added_pairs = len(p.insert) + len(p.copies)


def write(store: Store | None, report: ImportReport, *, dry_run: bool = False, link: bool = True) -> ImportReport:
    """Write one prepared file in one transaction (or just count, with dry_run).

    With `link` (the default), records of a review the store already holds from another source
    are joined to the records they describe (`linking.py`) inside the same transaction.
    """
    from . import linking

    started = datetime.now(UTC).isoformat(timespec="microseconds")  # microseconds: history keeps its order within a second
    recs = report.records
    if dry_run:
        existing = _existing_ids(store, [r.id for r in recs])
        new = [r for r in recs if r.id not in existing]
        report.already_present = len(existing)
        # (no store yet: nothing to link to)
        p = linking.plan(store.conn, new, report.format) if link and store is not None else linking.Plan(insert=new)
        report.link = p.report
        _count(report, recs, new, p)
        report.dry_run = True
        return report
    assert store is not None, "only a dry run goes without a store"
    with store.write() as conn:
        existing = _existing_ids(store, [r.id for r in recs])
        new = [r for r in recs if r.id not in existing]
        p = linking.plan(conn, new, report.format) if link else linking.Plan(insert=new)
        report.link = p.report
        _count(report, recs, new, p)
        if existing:  # UPR Info's coding for recommendations `upr classify` predicted replaces the predictions
            from .coding import adopt_human

            adopt_human(conn, ((r.id, r.action, r.issues) for r in recs if r.id in existing))
        finished = datetime.now(UTC).isoformat(timespec="microseconds")
        cur = conn.execute(
            "INSERT INTO imports (file_name, sha256, format, rows_read, added, already_present, started_at, finished_at, tool_version) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (Path(report.file).name, report.sha256, report.format, report.rows_read, report.added_pairs,
             report.rows_read - len(new), started, finished, __version__),
        )
        import_id = cur.lastrowid
        report.import_id = import_id
        if report.new_issues:
            note = f"added by upr import from {Path(report.file).name} ({report.format}); not in data/issues.csv"
            conn.executemany("INSERT OR IGNORE INTO issues (name, note) VALUES (?, ?)", ((i, note) for i in report.new_issues))
        language = report.language or FORMAT_LANGUAGE.get(report.format)
        if p.insert is new:
            _insert_new(conn, new, import_id, language)
        else:
            linking.apply(conn, p, import_id, lambda rs: _insert_new(conn, rs, import_id, language))
            if p.into_existing:  # UPR Info's coding that linking brought to a record replaces `upr classify`'s predictions
                from .coding import drop_superseded

                drop_superseded(conn)
    return report


def prepare_files(
    paths: list[Path],
    *,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
    ignore_columns: Collection[str] = (),
    review_sessions: Mapping[tuple[str, int], int] | None = None,
) -> list[ImportReport]:
    """Read and check every file, without touching any store; raise InputError listing every problem.

    `review_sessions` ((SuR, year) -> session, see `review_sessions()`) gives the session of lists that give a year."""
    if sur:
        vocab.resolve_state(sur, "--sur")
    prepared: list[ImportReport] = []
    errors: list[InputError] = []
    for p in paths:
        try:
            prepared.append(prepare(p, encoding=encoding, sur=sur, session=session, progress=progress, ignore_columns=ignore_columns,
                                    review_sessions=review_sessions))
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


class StoreReviews(Mapping[tuple[str, int], int]):
    """`review_sessions(db)`, read only when a list that gives a year without a session asks for it
    (so an import that needs none never opens the store before writing, and a refused one leaves no trace)."""

    def __init__(self, db: str | Path | None):
        self.db = db
        self._found: dict[tuple[str, int], int] | None = None

    def _all(self) -> dict[tuple[str, int], int]:
        if self._found is None:
            self._found = review_sessions(self.db)
        return self._found

    def __getitem__(self, key: tuple[str, int]) -> int:
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def review_sessions(db: str | Path | None) -> dict[tuple[str, int], int]:
    """(SuR, year) -> the session of the State's one review that year, as far as the store knows (read-only; {} without a store)."""
    from .errors import UprError
    from .store import default_db_path, open_store

    path = Path(db) if db else default_db_path()
    if not path.is_file():
        return {}
    try:
        with open_store(path, readonly=True) as store:
            rows = store.conn.execute(
                "SELECT sur, year, min(session) FROM recommendations WHERE session IS NOT NULL AND year IS NOT NULL "
                "GROUP BY sur, year HAVING count(DISTINCT session) = 1"
            ).fetchall()
    except (UprError, sqlite3.Error):
        return {}
    return {(sur, year): session for sur, year, session in rows}


def write_all(store: Store | None, prepared: list[ImportReport], *, dry_run: bool = False, link: bool = True) -> list[ImportReport]:
    """Write prepared files, each in its own transaction."""
    with _no_gc():
        return [write(store, r, dry_run=dry_run, link=link) for r in prepared]


def import_files(
    store: Store,
    paths: list[Path],
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
    ignore_columns: Collection[str] = (),
    link: bool = True,
) -> list[ImportReport]:
    """Check every file first; if all are good, write each in its own transaction."""
    prepared = prepare_files(paths, encoding=encoding, sur=sur, session=session, progress=progress, ignore_columns=ignore_columns)
    return write_all(store, prepared, dry_run=dry_run, link=link)
