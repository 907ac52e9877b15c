"""`upr import`: detect a file's format, normalise its records, write them in one transaction.

A file is read and checked whole before anything is written: one bad row and nothing
from the command is stored, and every problem is reported with its row and column.
IDs are derived from content, so importing the same rows again (or the .csv copy of
an .xls export) adds nothing.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, vocab
from .errors import FormatNotRecognised, InputError, Problem, ProblemList, StoreError
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
    return _id_of(sur, session, _identity(sur, session, paragraph, tkey, rs_key), ordinal)


def _identity(sur: str, session: int | None, paragraph: str | None, tkey: str, rs_key: str) -> str:
    """What a record's ID hashes, but its ordinal among identical rows."""
    return "\x1f".join((sur, str(session or ""), paragraph or "", tkey, rs_key))


def _id_of(sur: str, session: int | None, identity: str, ordinal: int) -> str:
    digest = hashlib.sha256(f"{identity}\x1f{ordinal}".encode()).hexdigest()[:12]
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
    """Check and normalise every record; raise InputError listing all problems (see `normalise_batches`)."""
    out: list[Normalised] = []
    for batch in normalise_batches(records, file, defaults=defaults, progress=progress, review_sessions=review_sessions,
                                   split=split, required=required):
        out.extend(batch)
    return out


BATCH_ROWS = 10_000


def normalise_batches(
    records: Iterable[Record],
    file: str,
    *,
    defaults: dict[str, str] | None = None,
    progress: Progress | None = None,
    review_sessions: Mapping[tuple[str, int], int] | None = None,
    split: bool = False,
    required: tuple[str, ...] = (),
    batch: int | None = None,
    new_issues: dict[str, str] | None = None,
) -> Iterator[list[Normalised]]:
    """Check and normalise the records as a stream, about `batch` records at a time (bounded memory).

    Yields batches while every row so far is good; after the first bad row it yields no more but
    goes on checking, and at the end raises InputError listing every problem (the caller, writing
    the batches inside one transaction, rolls them all back). A row's records are never split
    between batches.

    With `split` (OHCHR/UHRI lists), a paragraph made by several States gives one record per State.
    `required`: fields every row of this format has ("rs", "session", "response" for UPR Info
    exports); a row without one is a row error (often the last row of a file cut off mid-row).
    `new_issues` (folded name -> name) collects, as they come, the issues of a UPR Info export
    that data/issues.csv lacks (the caller adds them to the store before the batch that uses them).
    """
    defaults = defaults if defaults is not None else {}
    batch = batch or BATCH_ROWS
    problems = ProblemList(file=file)
    out: list[Normalised] = []
    # ordinals of identical rows: each row's identity is kept as a 64-bit digest, not as its text
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
    missing = lru_cache(maxsize=8192)(vocab.is_missing)
    names: dict[str, str] = {}  # one string object per distinct name, however many rows repeat it
    sessions = vocab.sessions()
    add_issues = defaults.get("new_issues") == "add"  # UPR Info's own export: its newer issues are added, not refused
    if new_issues is None:
        new_issues = {}
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
        if required and not (rec.rs and rec.response and (rec.session or defaults.get("session"))):
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
        cycles = {x.cycle for x in sessions.values() if x.year == year} if year and not s else ()
        # a numbered paragraph made by several States: one record per (text, State) pair, as UPR Info counts
        pairs = split_pairs(text, rs) if split and paragraph and len(rs) > 1 else [(text, rs)]
        for text, rs in pairs:
            tkey = text_key(text)
            rs_key = ",".join([c or fold(r) for c, r in rs])
            base = _identity(sur, session, paragraph, tkey, rs_key)
            key = int.from_bytes(hashlib.blake2b(base.encode(), digest_size=8).digest())  # deterministic, unlike hash()
            if key in seen:
                repeats[key] += 1
                ordinal = repeats[key]
            else:
                seen.add(key)
                ordinal = 0
            out.append(
                Normalised(
                    id=_id_of(sur, session, base, ordinal),
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
                    themes=list(dict.fromkeys(rec.themes)) if rec.themes else [],
                    source_row=rec.row,
                    sdgs=sdgs,
                    groups=list(dict.fromkeys(g for g in rec.groups if not missing(g))) if rec.groups else [],
                )
            )
        if len(out) >= batch and not problems:
            yield out
            out = []
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


@dataclass
class Source:
    """A file whose format and header were recognised; its rows are read, checked and written as a stream."""

    path: Path
    result: ReadResult
    defaults: dict[str, str]
    notes: list[str]
    new_issues: dict[str, str] = field(default_factory=dict)  # filled as the rows are read (see normalise_batches)
    rows_in_file: int | None = None  # set by _rows_in_child

    def report(self) -> ImportReport:
        return ImportReport(
            file=str(self.path),
            format=self.result.format,
            sha256=sha256_of(self.path),
            rows_read=0,
            encoding=self.result.defaults.get("encoding"),
            language=normalise_language(self.result.defaults.get("language")),
            notes=list(self.notes),
        )

    def batches(self, progress: Progress | None = None,
                review_sessions: Mapping[tuple[str, int], int] | None = None) -> Iterator[list[Normalised]]:
        try:
            yield from normalise_batches(self.result.records, str(self.path), defaults=self.defaults, progress=progress,
                                         review_sessions=review_sessions, split=self.result.format in PARAGRAPH_FORMATS,
                                         required=REQUIRED.get(self.result.format, ()), new_issues=self.new_issues)
        except UnicodeDecodeError as e:  # pragma: no cover - readers decode up front
            raise InputError(f"{self.path}: cannot decode: {e}", hint="pass --encoding") from None

    def finish(self, report: ImportReport) -> None:
        """After the last row: what only the whole file tells (issues added, rows left out on purpose)."""
        report.skipped = dict(self.result.skipped)
        report.notes = list(self.notes) + _issue_notes(self.defaults)
        report.new_issues = sorted(self.new_issues.values())


def open_source(
    path: Path,
    *,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    ignore_columns: Collection[str] = (),
) -> Source:
    """Recognise one file (format, header, file-level values); its rows are not read yet."""
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
    return Source(Path(path), result, defaults, notes)


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
    """Read and check one file whole, records in memory (for scripts and fixtures; `upr import` streams); nothing is written."""
    src = open_source(path, encoding=encoding, sur=sur, session=session, ignore_columns=ignore_columns)
    report = src.report()
    with _no_gc():
        for batch in src.batches(progress, review_sessions):
            report.records.extend(batch)
    src.finish(report)
    report.rows_read = len(report.records)
    report.rows_in_file = len({r.source_row for r in report.records})
    return report


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


def _existing_ids(conn: sqlite3.Connection | None, ids: list[str]) -> set[str]:
    """The IDs the store knows: its records' own and the aliases a link gave them (the other source's IDs)."""
    found: set[str] = set()
    if conn is None:  # a dry run without a store: everything would be new
        return found
    aliases = _has_aliases(conn)
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" * len(chunk))
        if aliases:
            q = f"SELECT id FROM recommendations WHERE id IN ({marks}) UNION SELECT id FROM record_aliases WHERE id IN ({marks})"
            found.update(r[0] for r in conn.execute(q, chunk + chunk))
        else:  # a store opened below the schema that links (fixture builders of older versions)
            found.update(r[0] for r in conn.execute(f"SELECT id FROM recommendations WHERE id IN ({marks})", chunk))
    return found


REC_COLUMNS = ("pk, id, sur, session, cycle, year, paragraph, text, response, response_raw, "
               "action, is_pledge, document, comment, import_id, source_row")
LEMMA_COLUMNS = ", language, lemmas"  # from migration m011 on (tests/fixtures/make_store_v1.py writes at the first schema)


def _has_lemmas(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "lemmas" for row in conn.execute("PRAGMA table_info(recommendations)"))


@dataclass
class _Rows:
    """A batch of new records as the parameters of the INSERTs that store them (pks from `start` on)."""

    start: int
    columns: str
    recs: list[tuple] = field(default_factory=list)
    states: list[tuple] = field(default_factory=list)
    issues: list[tuple] = field(default_factory=list)
    themes: list[tuple] = field(default_factory=list)
    sdgs: list[tuple] = field(default_factory=list)
    groups: list[tuple] = field(default_factory=list)
    language: str | None = None  # with lemmas_pending: the file's language, for `add_lemmas`
    lemmas_pending: bool = False  # the store keeps lemmas, not found yet (see _rows_in_child)

    def add_lemmas(self) -> None:
        """Each text's language and lemmas, where the batch was made without them."""
        if self.lemmas_pending:
            self.recs = [(*r, *analyse(r[7], self.language)) for r in self.recs]  # r[7]: the text (REC_COLUMNS)
            self.columns += LEMMA_COLUMNS
            self.lemmas_pending = False


def _rows_of(new: list[Normalised], start: int, import_id: int | None, language: str | None, lemmas: bool) -> _Rows:
    """The INSERT parameters of `new`; each text's language (the file's `language`, else detected) and lemmas with `lemmas`."""
    rows = _Rows(start, REC_COLUMNS + (LEMMA_COLUMNS if lemmas else ""))
    rows.recs = [
        (start + i, r.id, r.sur, r.session, r.cycle, r.year, r.paragraph, r.text, r.response, r.response_raw,
         r.action, int(r.is_pledge), r.document, r.comment, import_id, r.source_row,
         *(analyse(r.text, language) if lemmas else ()))
        for i, r in enumerate(new)
    ]
    rows.states = [(start + i, j, code, raw) for i, r in enumerate(new) for j, (code, raw) in enumerate(r.rs)]
    rows.issues = [(start + i, issue) for i, r in enumerate(new) for issue in r.issues]
    rows.themes = [(start + i, t) for i, r in enumerate(new) for t in r.themes]
    rows.sdgs = [(start + i, g) for i, r in enumerate(new) for g in r.sdgs]
    rows.groups = [(start + i, g) for i, r in enumerate(new) for g in r.groups]
    return rows


def _insert_rows(conn: sqlite3.Connection, rows: _Rows, *, bulk: bool = False) -> None:
    """Insert a batch's records with their States, issues, themes, SDGs and groups.

    Records go through a temporary staging table, one INSERT ... SELECT per batch: the full-text
    index is kept by a trigger, and FTS5 flushes its pending terms at every statement, so one
    INSERT per row would write one tiny index segment per row (a million-row file took minutes).
    In a bulk import (the insert trigger dropped for the transaction, see `_bulk_begin`) the rows
    go straight in and the full-text index gets them in one statement.
    """
    columns = rows.columns
    marks = ",".join("?" * len(columns.split(",")))
    if bulk:
        conn.executemany(f"INSERT INTO recommendations ({columns}) VALUES ({marks})", rows.recs)
        conn.execute("INSERT INTO recommendations_fts (rowid, text, lemmas) SELECT pk, text, lemmas FROM recommendations "
                     "WHERE pk >= ? ORDER BY pk", (rows.start,))
    else:
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS _stage_recommendations AS SELECT {columns} FROM recommendations WHERE 0")
        try:
            conn.executemany(f"INSERT INTO temp._stage_recommendations ({columns}) VALUES ({marks})", rows.recs)
            conn.execute(f"INSERT INTO recommendations ({columns}) SELECT {columns} FROM temp._stage_recommendations ORDER BY pk")
        finally:
            conn.execute("DROP TABLE IF EXISTS temp._stage_recommendations")
    conn.executemany("INSERT INTO recommending_states (rec_pk, position, iso3, name_raw) VALUES (?,?,?,?)", rows.states)
    conn.executemany("INSERT INTO recommendation_issues (rec_pk, issue) VALUES (?,?)", rows.issues)
    conn.executemany("INSERT INTO recommendation_themes (rec_pk, theme) VALUES (?,?)", rows.themes)
    if rows.sdgs:  # (only lists of OHCHR/UHRI have them)
        conn.executemany("INSERT INTO recommendation_sdgs (rec_pk, sdg) VALUES (?,?)", rows.sdgs)
    if rows.groups:
        conn.executemany("INSERT INTO recommendation_groups (rec_pk, grp) VALUES (?,?)", rows.groups)


def _next_pk(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM recommendations").fetchone()[0]


def _insert_new(conn: sqlite3.Connection, new: list[Normalised], import_id: int | None, language: str | None = None,
                *, bulk: bool = False) -> dict[str, int]:
    """Insert records of their own in batches of BATCH_ROWS; returns {id: pk}."""
    start = _next_pk(conn)
    lemmas = _has_lemmas(conn)
    for lo in range(0, len(new), BATCH_ROWS):
        _insert_rows(conn, _rows_of(new[lo : lo + BATCH_ROWS], start + lo, import_id, language, lemmas), bulk=bulk)
    return {r.id: start + i for i, r in enumerate(new)}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")  # microseconds: history keeps its order within a second


def _start_import(conn: sqlite3.Connection, report: ImportReport) -> int:
    """The file's line in `imports`; its counts are set by `_finish_import` in the same transaction."""
    cur = conn.execute(
        "INSERT INTO imports (file_name, sha256, format, rows_read, added, already_present, started_at, finished_at, tool_version) "
        "VALUES (?,?,?,0,0,0,?,?,?)",
        (Path(report.file).name, report.sha256, report.format, _now(), _now(), __version__),
    )
    report.import_id = int(cur.lastrowid or 0)
    return report.import_id


def _finish_import(conn: sqlite3.Connection, report: ImportReport, new_records: int) -> None:
    conn.execute(
        "UPDATE imports SET rows_read = ?, added = ?, already_present = ?, finished_at = ? WHERE id = ?",
        (report.rows_read, report.added_pairs, report.rows_read - new_records, _now(), report.import_id),
    )


class _Tally:
    """A file's rows as its batches pass: all, already present, added. A paragraph of several States is one row of the
    file and several records, so lists that split paragraphs count distinct rows; in other formats a row is a record."""

    def __init__(self, split: bool):
        self.sets: tuple[set[int], set[int], set[int]] | None = (set(), set(), set()) if split else None
        self.counts = [0, 0, 0]

    def add(self, which: int, recs: Iterable[Normalised]) -> None:
        if self.sets is not None:
            self.sets[which].update(r.source_row for r in recs)
        else:
            self.counts[which] += sum(1 for _ in recs)

    def get(self, which: int) -> int:
        return len(self.sets[which]) if self.sets is not None else self.counts[which]


def _import_source(conn: sqlite3.Connection | None, src: Source | _Prepared, *, writing: bool, link: bool,
                   progress: Progress | None, review_sessions: Mapping[tuple[str, int], int] | None,
                   bulk: bool = False) -> ImportReport:
    """Check one file's rows batch by batch and (`writing`, inside the caller's transaction) insert them.

    Records of a review the store already holds from another source are linked (`linking.py`), and linking
    must see a review whole: a file that can link to anything in the store keeps its new records until its
    last row and links them then; any other file goes to the store batch by batch, in bounded memory.
    """
    from . import linking

    report = src.report()
    can_link = link and conn is not None and linking.may_link(conn, report.format)
    import_id = _start_import(conn, report) if writing and conn is not None else None
    language = report.language or FORMAT_LANGUAGE.get(report.format)
    tally = _Tally(report.format in PARAGRAPH_FORMATS)
    held: list[Normalised] = []
    new_records = 0
    issues_added: set[str] = set()

    def add_issues() -> None:  # issues of a UPR Info export that data/issues.csv lacks, before the rows that name them
        fresh = [i for i in src.new_issues.values() if i not in issues_added]
        if fresh and conn is not None:
            note = f"added by upr import from {Path(report.file).name} ({report.format}); not in data/issues.csv"
            conn.executemany("INSERT OR IGNORE INTO issues (name, note) VALUES (?, ?)", ((i, note) for i in fresh))
            issues_added.update(fresh)

    # a store holding nothing yet cannot hold any of the file's IDs (distinct within a file by construction)
    empty = conn is None or conn.execute("SELECT 1 FROM recommendations LIMIT 1").fetchone() is None
    write = conn is not None and import_id is not None
    if write and empty and isinstance(src, Source) and hasattr(os, "fork") and src.path.stat().st_size >= PARALLEL_BYTES:
        # a large file into an empty store: nothing to look up, link or adopt; read in a second process, written here
        for rows, n in _rows_in_child(src, progress, review_sessions, language, _next_pk(conn), import_id, _has_lemmas(conn)):
            add_issues()
            rows.add_lemmas()
            _insert_rows(conn, rows, bulk=bulk)
            report.rows_read += n
        src.finish(report)
        report.link = linking.LinkReport()
        report.added_pairs = new_records = report.rows_read
        report.rows_in_file = report.added = src.rows_in_file or report.rows_read
        _finish_import(conn, report, new_records)
        return report
    for batch in src.batches(progress, review_sessions):
        report.rows_read += len(batch)
        tally.add(0, batch)
        existing = set() if empty else _existing_ids(conn, [r.id for r in batch])
        new = [r for r in batch if r.id not in existing] if existing else batch
        new_records += len(new)
        if existing:
            tally.add(1, (r for r in batch if r.id in existing))
        if write:
            if existing:  # UPR Info's coding for recommendations `upr classify` predicted replaces the predictions
                from .coding import adopt_human

                adopt_human(conn, ((r.id, r.action, r.issues) for r in batch if r.id in existing))
            add_issues()
        if can_link:
            held.extend(new)
            continue
        tally.add(2, new)
        report.added_pairs += len(new)
        if write and new:
            _insert_new(conn, new, import_id, language, bulk=bulk)
    src.finish(report)
    if can_link and conn is not None:
        p = linking.plan(conn, held, report.format)
        report.link = p.report
        linked_in = [*p.insert, *(c for c, _ in p.copies)]
        tally.add(2, linked_in)
        report.added_pairs += len(linked_in)
        if write:
            linking.apply(conn, p, import_id, lambda rs: _insert_new(conn, rs, import_id, language, bulk=bulk))
            if p.into_existing:  # UPR Info's coding that linking brought to a record replaces `upr classify`'s predictions
                from .coding import drop_superseded

                drop_superseded(conn)
    else:
        report.link = linking.LinkReport()
    report.rows_in_file = tally.get(0)
    report.already_present = tally.get(1)
    report.added = tally.get(2)
    if write:
        _finish_import(conn, report, new_records)
    return report


# A file this large, imported into an empty store, is read and checked (and its texts' lemmas found) in a
# second process while this one writes the batches before: on two cores, about the time of the slower half.
PARALLEL_BYTES = 20 << 20
PARENT_LEMMAS = 2  # the parent finds the lemmas of one batch in PARENT_LEMMAS


def _rows_in_child(src: Source, progress: Progress | None, review_sessions: Mapping[tuple[str, int], int] | None,
                   language: str | None, start: int, import_id: int, lemmas: bool) -> Iterator[tuple[_Rows, int]]:
    """The file's batches as INSERT parameters (pks from `start` on) and their record counts, made by a forked child.

    The child holds no store connection of its own and never touches this process's; it ends when the file is
    read, when this process stops reading (a broken pipe) or when killed (SIGKILL on any early exit of this
    generator). Its InputError comes back as the same error, raised here. At the end `src` learns what only the
    whole file tells (issues added, rows left out on purpose, its rows when several records share one).
    """
    import pickle
    import signal
    from multiprocessing.connection import Pipe

    known = dict(review_sessions) if review_sessions is not None and src.result.format not in REQUIRED else None
    reader, writer = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            reader.close()
            pk, rows_seen = start, _Tally(src.result.format in PARAGRAPH_FORMATS)
            for i, batch in enumerate(src.batches(None, known)):
                # the lemmas of every other batch are left to the parent, which would otherwise wait for this process
                rows = _rows_of(batch, pk, import_id, language, lemmas and i % PARENT_LEMMAS != PARENT_LEMMAS - 1)
                rows.lemmas_pending, rows.language = lemmas and i % PARENT_LEMMAS == PARENT_LEMMAS - 1, language
                pk += len(batch)
                rows_seen.add(0, batch)
                writer.send_bytes(pickle.dumps(("rows", rows, len(batch), dict(src.new_issues)), protocol=pickle.HIGHEST_PROTOCOL))
            writer.send_bytes(pickle.dumps(("done", dict(src.new_issues), dict(src.defaults), dict(src.result.skipped), rows_seen.get(0))))
        except InputError as e:
            writer.send_bytes(pickle.dumps(("error", e.message, e.hint, e.problems)))
        except (KeyboardInterrupt, OSError):  # interrupted, or the parent gone (a broken pipe)
            code = 1
        except BaseException:  # a bug: its traceback is shown by the parent
            import traceback

            try:
                writer.send_bytes(pickle.dumps(("crash", traceback.format_exc())))
            except BaseException:
                code = 1
        finally:
            os._exit(code)
    writer.close()
    finished = False
    try:
        while True:
            try:
                message = pickle.loads(reader.recv_bytes())
            except EOFError:
                raise RuntimeError(f"the process reading {src.path} ended before the end of the file") from None
            kind = message[0]
            if kind == "rows":
                src.new_issues.update(message[3])
                if progress:
                    progress(message[2])
                yield message[1], message[2]
            elif kind == "done":
                src.new_issues.update(message[1])
                src.defaults.update(message[2])
                src.result.skipped.clear()
                src.result.skipped.update(message[3])
                src.rows_in_file = message[4]
                finished = True
                return
            else:
                finished = True
                if kind == "error":
                    raise InputError(message[1], hint=message[2], problems=message[3])
                raise RuntimeError(f"reading {src.path} failed in its reading process:\n{message[1]}")
    finally:
        reader.close()
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - already gone
                pass
        os.waitpid(pid, 0)


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


def open_sources(
    paths: list[Path],
    *,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    ignore_columns: Collection[str] = (),
) -> tuple[list[Source], list[InputError]]:
    """Recognise every file (format, header), without touching any store: the sources, and the files refused."""
    if sur:
        vocab.resolve_state(sur, "--sur")
    sources: list[Source] = []
    errors: list[InputError] = []
    for p in paths:
        try:
            sources.append(open_source(p, encoding=encoding, sur=sur, session=session, ignore_columns=ignore_columns))
        except InputError as e:
            errors.append(e)
    return sources, errors


def import_sources(
    store: Store | None,
    sources: list[Source] | list[_Prepared],
    *,
    dry_run: bool = False,
    link: bool = True,
    progress: Progress | None = None,
    review_sessions: Mapping[tuple[str, int], int] | None = None,
    errors: list[InputError] | None = None,
    n_files: int | None = None,
) -> list[ImportReport]:
    """Check and write every file's rows in bounded batches, all in one write transaction.

    The first bad row stops the writing (the other rows and files are still checked, so every
    problem is listed) and the whole transaction rolls back: one bad row and nothing from the
    command is stored. With dry_run (or no store) the rows are only checked and counted.
    `errors`: files already refused (their problems are listed with the others').
    """
    errors = list(errors or [])
    n_files = n_files or len(sources) + len(errors)
    writing = store is not None and not dry_run
    conn = store.conn if store is not None else None
    reports: list[ImportReport] = []
    with _no_gc(), (store.write() if writing and store is not None else nullcontext(conn)) as conn:
        bulk = writing and not errors and conn is not None and _is_bulk(conn, sources)
        rebuild = _bulk_begin(conn) if bulk and conn is not None else []
        for src in sources:
            try:
                report = _import_source(conn, src, writing=writing and not errors, link=link, progress=progress,
                                        review_sessions=review_sessions, bulk=bulk)
            except InputError as e:
                errors.append(e)
                continue
            report.dry_run = dry_run
            reports.append(report)
        if errors:
            raise _combined(errors, n_files)  # inside the transaction: it rolls back
        for sql in rebuild:  # indexes built by sorting, once, instead of row by row; the full-text trigger back
            conn.execute(sql)  # type: ignore[union-attr]
    return reports


# A first import of a large file into a small store drops the secondary indexes and the full-text insert trigger
# for its transaction, indexes each batch's texts in one statement, and builds the indexes once at the end (sorting).
BULK_BYTES = 20 << 20
BULK_TABLES = ("recommendations", "recommending_states", "recommendation_issues", "recommendation_themes")


def _is_bulk(conn: sqlite3.Connection, sources: list[Source] | list[_Prepared]) -> bool:
    size = sum(s.path.stat().st_size for s in sources if isinstance(s, Source))
    if size < BULK_BYTES or not _has_lemmas(conn):
        return False
    held = conn.execute("SELECT coalesce(max(pk), 0) FROM recommendations").fetchone()[0]
    return held * 250 < size  # the store holds fewer rows than the files bring (about 250 bytes a row)


def _bulk_begin(conn: sqlite3.Connection) -> list[str]:
    """Inside the import's transaction: drop the secondary indexes of the tables it fills and the full-text insert
    trigger (`_insert_recommendations` indexes each batch instead); return the SQL that makes them again.
    Schema changes are part of the transaction: if the import fails or is killed, they roll back with it."""
    marks = ",".join("?" * len(BULK_TABLES))
    rows = conn.execute(
        f"SELECT type, name, sql FROM sqlite_master WHERE ((type = 'index' AND tbl_name IN ({marks})) "
        "OR (type = 'trigger' AND name = 'recommendations_ai')) AND sql IS NOT NULL",
        BULK_TABLES,
    ).fetchall()
    for kind, name, _ in rows:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, _, sql in rows]


@dataclass
class _Prepared:
    """A file read whole by `prepare`, written by `write` through the same path as a streamed one."""

    prepared: ImportReport
    path: Path = Path()
    new_issues: dict[str, str] = field(default_factory=dict)

    def report(self) -> ImportReport:
        r = self.prepared
        return ImportReport(file=r.file, format=r.format, sha256=r.sha256, rows_read=0, encoding=r.encoding, language=r.language,
                            skipped=dict(r.skipped), notes=list(r.notes), new_issues=list(r.new_issues))

    def batches(self, progress: Progress | None = None, review_sessions: object = None) -> Iterator[list[Normalised]]:
        self.new_issues = {vocab.fold(i): i for i in self.prepared.new_issues}
        return iter([self.prepared.records] if self.prepared.records else [])

    def finish(self, report: ImportReport) -> None:
        pass


def write(store: Store | None, report: ImportReport, *, dry_run: bool = False, link: bool = True) -> ImportReport:
    """Write one file `prepare` read whole, in one transaction (or just count, with dry_run)."""
    return import_sources(store, [_Prepared(report)], dry_run=dry_run, link=link)[0]


def import_files(
    store: Store | None,
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
    """Import files into an open store: each file's rows checked and written as a stream, all in one transaction."""
    sources, errors = open_sources(paths, encoding=encoding, sur=sur, session=session, ignore_columns=ignore_columns)
    if errors and not sources:
        raise _combined(errors, len(paths))
    known = StoreReviews(store.conn) if store is not None else None
    return import_sources(store, sources, dry_run=dry_run, link=link, progress=progress, review_sessions=known,
                          errors=errors, n_files=len(paths))


def run_import(
    db: str | Path | None,
    paths: list[Path],
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    sur: str | None = None,
    session: str | None = None,
    progress: Progress | None = None,
    ignore_columns: Collection[str] = (),
    link: bool = True,
) -> tuple[list[ImportReport], int]:
    """`upr import`: the reports and the store's total of records afterwards.

    Files are recognised before the store is opened; a dry run opens it read-only (or not at all
    when there is none) and never creates it; a failed import leaves no store where there was none.
    """
    from .store import default_db_path, open_existing, open_store

    sources, errors = open_sources(paths, encoding=encoding, sur=sur, session=session, ignore_columns=ignore_columns)
    if errors and not sources:
        raise _combined(errors, len(paths))
    if errors:  # the other files' rows are still checked, so every problem is listed; nothing is written
        import_sources(None, sources, dry_run=True, progress=progress, review_sessions=StoreReviews(db), errors=errors,
                       n_files=len(paths))
    if dry_run:
        with open_existing(db) as existing:
            known = StoreReviews(existing.conn) if existing is not None else None
            reports = import_sources(existing, sources, dry_run=True, progress=progress, review_sessions=known)
            return reports, existing.recommendation_count() if existing is not None else 0
    path = Path(db) if db else default_db_path()
    created = not path.exists()
    if not created and _needs_update(path):
        # opening it for writing would migrate it: check every row first, so a refused import leaves it as it was
        import_sources(None, sources, dry_run=True, progress=None, review_sessions=None)
        sources, _ = open_sources(paths, encoding=encoding, sur=sur, session=session, ignore_columns=ignore_columns)
    try:
        with open_store(path) as store:
            # a store this command made holds nothing yet: its pages are written once, straight to the file
            # (a rollback journal, still all or nothing), not to the log and again to the file; WAL again after
            journal = _journal_mode(store.conn, "delete") if created else None
            try:
                reports = import_sources(store, sources, link=link, progress=progress, review_sessions=StoreReviews(store.conn))
            finally:
                if journal == "delete":
                    _journal_mode(store.conn, "wal")
            return reports, store.recommendation_count()
    except InputError:
        if created:  # the rows were rolled back; the empty store made for them goes too
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise


def _journal_mode(conn: sqlite3.Connection, mode: str) -> str | None:
    """Switch the store's journal mode (needs the store to itself); the mode now, or None if it could not switch."""
    try:
        now = str(conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0]).lower()
    except sqlite3.OperationalError:  # another connection has it open
        return None
    return now if now == mode else None


def _needs_update(path: Path) -> bool:
    """Whether a write open of the store at `path` would change it before the import (migrations, vocabularies)."""
    from .store import StorePending, open_store

    try:
        with open_store(path, readonly=True):
            return False
    except StorePending:
        return True
    except (StoreError, sqlite3.Error):
        return False  # the write open says what is wrong


class StoreReviews(Mapping[tuple[str, int], int]):
    """(SuR, year) -> session (see `review_sessions`), read only when a list that gives a year without a
    session asks for it; from an open connection, or from the store at `db` opened read-only."""

    def __init__(self, db: str | Path | sqlite3.Connection | None):
        self.db = db
        self._found: dict[tuple[str, int], int] | None = None

    def _all(self) -> dict[tuple[str, int], int]:
        if self._found is None:
            self._found = _review_sessions(self.db) if isinstance(self.db, sqlite3.Connection) else review_sessions(self.db)
        return self._found

    def __getitem__(self, key: tuple[str, int]) -> int:
        return self._all()[key]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _review_sessions(conn: sqlite3.Connection) -> dict[tuple[str, int], int]:
    rows = conn.execute(
        "SELECT sur, year, min(session) FROM recommendations WHERE session IS NOT NULL AND year IS NOT NULL "
        "GROUP BY sur, year HAVING count(DISTINCT session) = 1"
    ).fetchall()
    return {(sur, year): session for sur, year, session in rows}


def review_sessions(db: str | Path | None) -> dict[tuple[str, int], int]:
    """(SuR, year) -> the session of the State's one review that year, as far as the store knows (read-only; {} without a store)."""
    from .errors import UprError
    from .store import default_db_path, open_store

    path = Path(db) if db else default_db_path()
    if not path.is_file():
        return {}
    try:
        with open_store(path, readonly=True) as store:
            return _review_sessions(store.conn)
    except (UprError, sqlite3.Error):
        return {}
