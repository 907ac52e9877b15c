"""`upr import`: detect a file's format, normalise its records, write them in one transaction.

A file is read and checked whole before anything is written: one bad row and nothing
from the command is stored, and every problem is reported with its row and column.
IDs are derived from content, so importing the same rows again (or the .csv copy of
an .xls export) adds nothing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import __version__, vocab
from .errors import FormatNotRecognised, InputError, Problem, ProblemList
from .formats import table, upr_info
from .formats.base import ReadResult, Record
from .formats.sniff import container, csv_rows, decode, sheet_rows
from .store import Store

Progress = Callable[[int], None]

EXPECTED_HEADERS = (
    "a UPR Info export (SuR, Rgrp, Org, Recommendation, RS, ... or To, To-Rgrp, ..., Session), "
    "a UHRI export (Text, Countries Concerned, Reccomending Body, ...), "
    "or a list with at least 'Recommendation' and 'State under review' columns (see docs/import.md)"
)


@dataclass
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
        result = upr_info.read_rows(rows, sheet, "upr-info-xls") or table.read_rows(rows, sheet, "table")
    else:
        try:
            text, enc = decode(path.read_bytes(), encoding)
        except (UnicodeDecodeError, LookupError) as e:
            raise InputError(f"{path}: cannot decode the file as {encoding}: {e}", hint="try another --encoding") from None
        if "\x00" in text:
            raise InputError(f"{path}: the text holds NUL bytes", hint="the file is damaged or not a CSV; export it again")
        rows = csv_rows(text)
        result = upr_info.read_rows(rows, None, "upr-info-csv") or table.read_rows(rows, None, "table")
        if result:
            result.defaults.setdefault("encoding", enc)
    if result is None:
        raise FormatNotRecognised(
            f"{path}: the header matches no known format",
            hint=f"expected {EXPECTED_HEADERS}",
        )
    return result


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def text_key(text: str) -> str:
    """The text as it counts for identity: case, spaces, quotes and final punctuation ignored."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    t = re.sub(r"\s+", " ", t).strip()
    return t.rstrip(" .;,")


def make_id(sur: str, session: int | None, paragraph: str | None, text: str, rs: list[tuple[str | None, str]], ordinal: int) -> str:
    rs_key = ",".join(code or vocab.fold(raw) for code, raw in rs)
    key = "\x1f".join([sur, str(session or ""), paragraph or "", text_key(text), rs_key, str(ordinal)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{sur}-{session or 0:02d}-{digest}"


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
) -> list[Normalised]:
    """Check and normalise every record; raise InputError listing all problems."""
    defaults = defaults or {}
    problems = ProblemList(file=file)
    out: list[Normalised] = []
    seen: Counter[tuple] = Counter()
    responses = sorted({r["spelling"] for r in vocab.response_spellings()} | set(vocab.CANONICAL_RESPONSES))
    n = 0
    for rec in records:
        n += 1
        if progress and n % 1000 == 0:
            progress(1000)
        where = {"row": rec.row, "sheet": rec.sheet}

        def bad(field: str, value: str | None, message: str, hint: str | None = None) -> None:
            problems.add(message, column=rec.columns.get(field), value=value, hint=hint, **where)

        sur_raw = rec.sur or defaults.get("sur")
        sur = None
        if not sur_raw:
            bad("sur", None, "no State under review", "fill the State-under-review column, or pass --sur ISO3")
        else:
            sur = vocab.country_code(sur_raw)
            if sur is None:
                bad("sur", sur_raw, f"unknown State under review {sur_raw!r}", vocab.country_hint(sur_raw))
        text = (rec.text or "").strip()
        if not text:
            bad("text", None, "empty recommendation text", "every row needs the text of the recommendation")
        rs: list[tuple[str | None, str]] = []
        for name in rec.rs:
            code = vocab.country_code(name)
            if code is None and not vocab.is_unknown_state(name):
                parts = [p.strip() for p in re.split(r",|\band\b", name) if p.strip()]
                codes = [vocab.country_code(p) for p in parts]
                if len(parts) > 1 and all(codes):
                    rs.extend((c, p) for c, p in zip(codes, parts))
                    continue
                bad("rs", name, f"unknown recommending State {name!r}", vocab.country_hint(name))
            rs.append((code, name))
        response = None
        if rec.response:
            response = vocab.canonical_response(rec.response)
            if response is None:
                bad("response", rec.response, f"unknown response {rec.response!r}", _hint_choices(rec.response, responses, "responses"))
        action = None
        if rec.action:
            try:
                action = vocab.action_level(rec.action)
            except ValueError:
                bad("action", rec.action, f"action category {rec.action!r} is not 1-5", "see `upr vocab actions`")
        issues: list[str] = []
        for raw in rec.issues:
            name = vocab.issue_name(raw)
            if name is None:
                bad("issues", raw, f"unknown issue {raw!r}", _hint_choices(raw, vocab.issues(), "issues"))
            elif name not in issues:
                issues.append(name)
        session = None
        session_raw = rec.session or defaults.get("session")
        if session_raw:
            try:
                session = vocab.session_number(session_raw)
            except ValueError:
                bad("session", session_raw, f"session {session_raw!r} is not a UPR session number",
                    f"expected a number 1-{max(vocab.sessions())}, such as 12 or '36th Session'")
        if problems or sur is None:
            continue
        paragraph = (rec.paragraph or "").strip() or None
        key = (sur, session, paragraph, text_key(text), tuple(c or vocab.fold(r) for c, r in rs))
        ordinal = seen[key]
        seen[key] += 1
        s = vocab.sessions().get(session) if session else None
        out.append(
            Normalised(
                id=make_id(sur, session, paragraph, text, rs, ordinal),
                sur=sur,
                session=session,
                cycle=s.cycle if s else None,
                year=s.year if s else None,
                paragraph=paragraph,
                text=text,
                response=response,
                response_raw=rec.response,
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
        recs = normalise(result.records, str(path), defaults=defaults, progress=progress)
    except UnicodeDecodeError as e:  # pragma: no cover - readers decode up front
        raise InputError(f"{path}: cannot decode: {e}", hint="pass --encoding") from None
    return ImportReport(
        file=str(path),
        format=result.format,
        sha256=sha256_of(path),
        rows_read=len(recs),
        encoding=result.defaults.get("encoding"),
        records=recs,
    )


def _existing_ids(store: Store, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        q = f"SELECT id FROM recommendations WHERE id IN ({','.join('?' * len(chunk))})"
        found.update(r[0] for r in store.conn.execute(q, chunk))
    return found


def write(store: Store, report: ImportReport, *, dry_run: bool = False) -> ImportReport:
    """Write one prepared file in one transaction (or just count, with dry_run)."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    recs = report.records
    if dry_run:
        existing = _existing_ids(store, [r.id for r in recs])
        report.already_present = len(existing)
        report.added = len(recs) - len(existing)
        report.dry_run = True
        return report
    with store.write() as conn:
        existing = _existing_ids(store, [r.id for r in recs])
        new = [r for r in recs if r.id not in existing]
        report.already_present = len(recs) - len(new)
        report.added = len(new)
        finished = datetime.now(UTC).isoformat(timespec="seconds")
        cur = conn.execute(
            "INSERT INTO imports (file_name, sha256, format, rows_read, added, already_present, started_at, finished_at, tool_version) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (Path(report.file).name, report.sha256, report.format, report.rows_read, report.added,
             report.already_present, started, finished, __version__),
        )
        import_id = cur.lastrowid
        report.import_id = import_id
        start = conn.execute("SELECT coalesce(max(pk), 0) + 1 FROM recommendations").fetchone()[0]
        conn.executemany(
            "INSERT INTO recommendations (pk, id, sur, session, cycle, year, paragraph, text, response, response_raw, "
            "action, is_pledge, document, comment, import_id, source_row) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (start + i, r.id, r.sur, r.session, r.cycle, r.year, r.paragraph, r.text, r.response, r.response_raw,
                 r.action, int(r.is_pledge), r.document, r.comment, import_id, r.source_row)
                for i, r in enumerate(new)
            ),
        )
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
    return [write(store, r, dry_run=dry_run) for r in prepared]
