"""`upr ingest`: read filled response sheets, match their rows to recommendations, store the assessments.

Sheets come back edited by hand, so nothing is assumed about their layout:

* Files: .xlsx, .xls, .ods (read with python-calamine, every sheet that has a header) and .csv
  (encoding and delimiter detected). Detection is by content, not by extension.
* The header row is looked for in the first 30 rows of each sheet: it is the first row with a
  column for the level and one for the recommendation (ID, paragraph or text). Headers are
  matched through `data/sheet_headers.csv` (English, French, Spanish, usual variants; case,
  accents, punctuation and anything in parentheses ignored). Extra columns are ignored.
* Above the header, "label: value" cells give the State under review, the session, the
  stakeholder's name, type and short label, and the date of the assessment.
  Options (`--stakeholder`, `--type`, `--label`, `--as-of`, `--sur`) override them.
* Level words go through `data/level_words.csv`; stakeholder types through
  `data/stakeholder_types.csv`. An unknown word is a problem named by row and cell.
* Merged cells: a vertically merged cell counts for every row it spans. Blank rows and
  rows with neither a level nor a comment are skipped (not assessed). Hidden rows are read
  like any other. A formula is never evaluated: its text (`=HYPERLINK(...)`) is stored as text.

Matching a row to a recommendation (of the sheet's State, and session when the sheet gives one):
by ID; else by paragraph number; else by text, first exact after normalising case, accents,
spaces and punctuation, then fuzzy (rapidfuzz `fuzz.ratio` on the normalised texts) at
FUZZY_THRESHOLD or more. Candidates within FUZZY_MARGIN points of the best one count as
equally good: the recommending State(s) column may separate them; if it does not, the row is
reported as ambiguous. A row that matches nothing is reported too. Nothing is ever guessed.

History: each (stakeholder, State) has one current set of assessments. Re-ingesting a file
already stored (same SHA-256), or one whose assessments are identical to the current ones,
writes nothing. A sheet with a later as-of date replaces the whole current set (the older
rows stay with current = 0 and replaced_by = the new ingest); one with the same date is merged
row by row (a split submission); an older one is refused.

A file with any problem writes nothing (unless keep_valid), every problem is reported, and
all files of one command are written in one transaction.
"""

from __future__ import annotations

import csv
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from . import vocab
from .assessments import Assessments, IngestRecord, NewAssessment
from .errors import InputError, Problem, UsageError, counted
from .formats.sniff import cell_text, check_lines, column_letter, container, csv_rows, decode, refuse_nul, with_path
from .importer import sha256_of
from .store import Store

FUZZY_THRESHOLD = 88.0  # rapidfuzz fuzz.ratio (0-100) on normalised texts
FUZZY_MARGIN = 3.0      # candidates this close to the best one are "about equally" good
HEADER_SCAN = 30        # rows searched for the header
MATCH_FIELDS = ("id", "paragraph", "text")
HEADER_FIELDS = ("id", "paragraph", "text", "rs", "response", "issues", "level", "comment", "sources", "sur", "session")
META_FIELDS = ("sur", "session", "stakeholder", "stakeholder_type", "label", "as_of")
STAKEHOLDER_TYPES = ("state", "ngo", "nhri", "un", "academic", "other")

Progress = Callable[[int], None]


# --------------------------------------------------------------------------- vocabularies


def fold(text: str) -> str:
    """Case, accents, punctuation and spacing ignored; 'œ' read as 'oe'."""
    if not text.isascii():
        text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _NON_WORD.sub(" ", text.lower()).strip()


_COMBINING = re.compile(r"[\u0300-\u036f]")
_NON_WORD = re.compile(r"[^a-z0-9§]+")


def text_key(text: str) -> str:
    """A recommendation text as it counts for matching."""
    return fold(text)


def _data_rows(name: str) -> list[dict[str, str]]:
    with open(vocab.data_dir() / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def level_words() -> dict[str, str]:
    """Folded level wording -> fully / partially / not / no_data (data/level_words.csv)."""
    out: dict[str, str] = {}
    for r in _data_rows("level_words.csv"):
        out[fold(r["word"])] = r["level"]
    for lv in ("fully", "partially", "not", "no_data"):
        out.setdefault(fold(lv), lv)
    return out


@cache
def type_words() -> dict[str, str]:
    out = {fold(r["word"]): r["type"] for r in _data_rows("stakeholder_types.csv")}
    for t in STAKEHOLDER_TYPES:
        out.setdefault(t, t)
    return out


@cache
def header_words() -> dict[str, str]:
    """Folded header or label -> field (data/sheet_headers.csv)."""
    return {fold(r["synonym"]): r["field"] for r in _data_rows("sheet_headers.csv")}


def level_of(word: str) -> str | None:
    return level_words().get(fold(word))


def type_of(word: str) -> str | None:
    return type_words().get(fold(word))


def field_of(header: str) -> str | None:
    """The field a header or label names, trying it whole, then without parentheses and a trailing colon part."""
    words = header_words()
    text = header.strip().rstrip(":*").strip()
    for candidate in (text, re.sub(r"\([^)]*\)", " ", text), text.split(":")[0]):
        f = words.get(fold(candidate))
        if f:
            return f
    return None


# --------------------------------------------------------------------------- reading


@dataclass
class Table:
    """One sheet (or a CSV file): its rows as text and where the header is."""

    sheet: str | None
    rows: list[list[str]]
    header: int = -1
    columns: dict[str, int] = field(default_factory=dict)
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (value, cell)

    def column_name(self, f: str) -> str:
        i = self.columns[f]
        return f"{column_letter(i)} ({self.rows[self.header][i].strip()})"

    def cell(self, f: str, row_index: int) -> str:
        return f"{column_letter(self.columns[f])}{row_index + 1}"


def read_tables(path: Path) -> tuple[str, list[Table]]:
    """Every sheet of a workbook (or the one table of a CSV file), cells as text."""
    kind = container(path)
    if kind in ("zip-xlsx", "ole2", "zip-ods"):
        fmt = {"zip-xlsx": "xlsx", "ole2": "xls", "zip-ods": "ods"}[kind]
        return fmt, _workbook_tables(path, fmt)
    if kind == "text":
        data = path.read_bytes()
        check_lines(data, path)
        try:
            text, _enc = decode(data)
        except (UnicodeDecodeError, LookupError) as e:
            raise InputError(f"{path}: cannot decode the text ({e})", hint="save the sheet as UTF-8 CSV or as .xlsx") from None
        except InputError as e:  # mixed encodings
            raise with_path(e, path) from None
        refuse_nul(text, path)
        if not text.strip():
            raise InputError(f"{path}: the file holds no text", hint="export the sheet again")
        try:
            rows = csv_rows(text)
        except InputError as e:
            raise InputError(f"{path}: {e.message}", hint=e.hint or "save the sheet again as CSV or .xlsx") from None
        return "csv", [Table(None, [[c for c in r] for r in rows])]
    if kind == "pdf":
        raise InputError(f"{path}: a PDF document, not a response sheet", hint="send back the .xlsx sheet, or save the table as .csv")
    raise InputError(
        f"{path}: not a spreadsheet or CSV file upr can read ({kind})",
        hint="upr ingest reads .xlsx, .xls, .ods and .csv",
    )


def _workbook_tables(path: Path, fmt: str) -> list[Table]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine's own error types for damaged files
        raise InputError(f"{path}: cannot read the spreadsheet ({e})", hint="open it in Excel or LibreOffice and save it again as .xlsx") from None
    formulas = _formulas(path) if fmt == "xlsx" else {}
    tables: list[Table] = []
    for name in wb.sheet_names:
        try:
            sheet = wb.get_sheet_by_name(name)
            raw = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except Exception as e:
            raise InputError(f"{path}: cannot read sheet {name!r} ({e})", hint="save the file again as .xlsx") from None
        rows = [[cell_text(c) if not isinstance(c, (date, datetime)) else _iso(c) for c in r] for r in raw]
        for (r, c), text in formulas.get(name, {}).items():
            while len(rows) <= r:
                rows.append([])
            while len(rows[r]) <= c:
                rows[r].append("")
            rows[r][c] = text
        for (r1, c1), (r2, _c2) in merged:
            if r1 < len(rows) and c1 < len(rows[r1]):
                for r in range(r1 + 1, min(r2, len(rows) - 1) + 1):
                    while len(rows[r]) <= c1:
                        rows[r].append("")
                    if not rows[r][c1].strip():
                        rows[r][c1] = rows[r1][c1]
        tables.append(Table(name, rows))
    return tables


def _iso(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if not (value.hour or value.minute or value.second) else value.isoformat(sep=" ")
    return value.isoformat()


def _formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Formula cells of an .xlsx as their text ('=HYPERLINK(...)'): formulas are never evaluated.

    Calamine returns a formula's cached result (or nothing when none was saved); the text is
    what the stakeholder typed, so it is what we keep. Only loaded when a sheet has formulas.
    """
    try:
        with zipfile.ZipFile(path) as z:
            has = any(
                n.startswith("xl/worksheets/") and n.endswith(".xml") and re.search(rb"<(?:\w+:)?f[ >]", z.read(n))
                for n in z.namelist()
            )
    except (zipfile.BadZipFile, OSError, KeyError):
        return {}
    if not has:
        return {}
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception:
        return {}
    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        for ws in wb.worksheets:
            found: dict[tuple[int, int], str] = {}
            for row in ws.iter_rows():
                for c in row:
                    if getattr(c, "data_type", None) == "f" and isinstance(c.value, str):
                        found[(c.row - 1, c.column - 1)] = c.value
            if found:
                out[ws.title] = found
    finally:
        wb.close()
    return out


def find_header(table: Table) -> bool:
    """Locate the header row and the meta cells above it; False when there is no usable header."""
    for i, row in enumerate(table.rows[:HEADER_SCAN]):
        found: dict[str, int] = {}
        for j, c in enumerate(row):
            f = field_of(c) if c.strip() else None
            if f in HEADER_FIELDS and f not in found:
                found[f] = j
        if "level" in found and any(f in found for f in MATCH_FIELDS):
            table.header = i
            table.columns = found
            table.meta = _meta(table.rows[:i])
            return True
    return False


def _header_diagnosis(table: Table) -> str:
    """Why no header was found, for the message."""
    for i, row in enumerate(table.rows[:HEADER_SCAN]):
        found = {f for c in row if c.strip() and (f := field_of(c)) in HEADER_FIELDS}
        if found & set(MATCH_FIELDS) and "level" not in found:
            return f"row {i + 1} looks like a header but has no column for the level of implementation"
        if "level" in found and not found & set(MATCH_FIELDS):
            return f"row {i + 1} looks like a header but has no ID, paragraph or recommendation column"
    n = min(len(table.rows), HEADER_SCAN)
    return f"no header row in the first {n} rows" if n else "the sheet is empty"


def _meta(rows: list[list[str]]) -> dict[str, tuple[str, str]]:
    """'Label | value' (or 'Label: value') cells above the header."""
    meta: dict[str, tuple[str, str]] = {}
    for i, row in enumerate(rows):
        j = 0
        while j < len(row):
            text = row[j].strip()
            f = field_of(text) if text else None
            if f in META_FIELDS and f not in meta:
                value, where = "", f"{column_letter(j)}{i + 1}"
                if ":" in text and field_of(text.split(":")[0]) == f and text.split(":", 1)[1].strip():
                    value = text.split(":", 1)[1].strip()
                else:
                    for k in range(j + 1, len(row)):
                        if row[k].strip():
                            if field_of(row[k]) in META_FIELDS:
                                break
                            value, where = row[k].strip(), f"{column_letter(k)}{i + 1}"
                            j = k
                            break
                meta[f] = (value, where)
            j += 1
    return meta


# --------------------------------------------------------------------------- matching


@dataclass
class Rec:
    pk: int
    id: str
    sur: str
    session: int | None
    paragraph: str | None
    key: str
    rs: frozenset[str]


def norm_paragraph(value: str) -> str:
    m = re.search(r"\d+(?:\.\d+)*", value)
    return m.group(0) if m else fold(value)


def rs_codes(value: str) -> frozenset[str]:
    parts = [p.strip() for p in re.split(r"[;,/\n]|\band\b|\bet\b|\by\b", value) if p.strip()]
    return frozenset(c for p in parts if (c := vocab.country_code(p)))


class Matcher:
    """The recommendations of one State (one session if known), indexed for matching."""

    def __init__(self, store: Store, sur: str, session: int | None = None):
        q = "SELECT pk, id, sur, session, paragraph, text FROM recommendations WHERE sur = ?"
        params: list = [sur]
        if session is not None:
            q += " AND session = ?"
            params.append(session)
        rows = store.conn.execute(q, params).fetchall()
        rs: dict[int, set[str]] = {}
        for pk, code in store.conn.execute(
            f"SELECT rec_pk, iso3 FROM recommending_states WHERE iso3 IS NOT NULL AND rec_pk IN ({q.replace('pk, id, sur, session, paragraph, text', 'pk')})",
            params,
        ):
            rs.setdefault(pk, set()).add(code)
        self.recs = [Rec(r[0], r[1], r[2], r[3], r[4], text_key(r[5]), frozenset(rs.get(r[0], ()))) for r in rows]
        self.by_pk = {r.pk: r for r in self.recs}
        self.by_key: dict[str, list[Rec]] = {}
        self.by_para: dict[str, list[Rec]] = {}
        for r in self.recs:
            self.by_key.setdefault(r.key, []).append(r)
            if r.paragraph:
                self.by_para.setdefault(norm_paragraph(r.paragraph), []).append(r)
        self.keys = [r.key for r in self.recs]

    def fuzzy(self, key: str, limit: int = 10) -> list[tuple[Rec, float]]:
        from rapidfuzz import fuzz, process

        hits = process.extract(key, self.keys, scorer=fuzz.ratio, limit=limit, score_cutoff=FUZZY_THRESHOLD)
        return [(self.recs[i], float(score)) for _choice, score, i in hits]

    def closest(self, key: str) -> tuple[Rec, float] | None:
        from rapidfuzz import fuzz, process

        hit = process.extractOne(key, self.keys, scorer=fuzz.ratio)
        return (self.recs[hit[2]], float(hit[1])) if hit else None

    def by_text(self, key: str, rs: frozenset[str]) -> tuple[Rec | None, str, float, list[tuple[Rec, float]]]:
        """(match, method, score, tied candidates when ambiguous)."""
        exact = self.by_key.get(key, [])
        if len(exact) == 1:
            return exact[0], "text", 100.0, []
        if len(exact) > 1:
            pick = _by_rs(exact, rs)
            if pick:
                return pick, "text+rs", 100.0, []
            return None, "ambiguous", 100.0, [(r, 100.0) for r in exact]
        hits = self.fuzzy(key)
        if not hits:
            return None, "none", 0.0, []
        best = hits[0][1]
        close = [(r, s) for r, s in hits if s >= best - FUZZY_MARGIN]
        if len(close) == 1:
            return close[0][0], "fuzzy", best, []
        pick = _by_rs([r for r, _ in close], rs)
        if pick:
            return pick, "fuzzy+rs", dict((r.pk, s) for r, s in close)[pick.pk], []
        return None, "ambiguous", best, close

    def text_conflict(self, rec: Rec, key: str, rs: frozenset[str]) -> Rec | None:
        """Another recommendation the row's text clearly designates instead of `rec` (None if none)."""
        if not key or key == rec.key:
            return None
        from rapidfuzz import fuzz

        if fuzz.ratio(key, rec.key) >= FUZZY_THRESHOLD:
            return None
        other, method, _score, _tied = self.by_text(key, rs)
        return other if other is not None and other.pk != rec.pk else None


def _by_rs(cands: list[Rec], rs: frozenset[str]) -> Rec | None:
    if not rs:
        return None
    same = [r for r in cands if r.rs == rs]
    if len(same) == 1:
        return same[0]
    if not same:
        overlap = [r for r in cands if r.rs & rs]
        if len(overlap) == 1:
            return overlap[0]
    return None


# --------------------------------------------------------------------------- one file


@dataclass
class Assessment:
    rec_pk: int
    rec_id: str
    level: str
    level_raw: str
    comment: str | None
    sources: str | None
    sheet: str | None
    row: int
    matched_by: str
    score: float

    def content(self) -> tuple:
        return (self.level, self.comment or None, self.sources or None)


@dataclass
class FileReport:
    file: str
    format: str = ""
    sha256: str = ""
    sheets: list[str] = field(default_factory=list)
    sur: str | None = None
    session: int | None = None
    stakeholder: str | None = None
    stakeholder_type: str | None = None
    label: str | None = None
    as_of: str | None = None
    rows_read: int = 0
    blank: int = 0
    matched: Counter = field(default_factory=Counter)
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    status: str = "pending"    # written | unchanged | already ingested | dry run | refused
    ingest_id: int | None = None
    type_from_option: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # stored anyway, but worth a look (a date before the review)
    assessments: list[Assessment] = field(default_factory=list, repr=False)

    def problem(self, message: str, **where) -> None:
        where.setdefault("file", self.file)
        self.problems.append(Problem(message, **where))

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "sha256": self.sha256,
            "sheets": self.sheets,
            "sur": self.sur,
            "session": self.session,
            "stakeholder": self.stakeholder,
            "stakeholder_type": self.stakeholder_type,
            "label": self.label,
            "as_of": self.as_of,
            "rows_read": self.rows_read,
            "assessed": len(self.assessments),
            "blank": self.blank,
            "matched_by": dict(sorted(self.matched.items())),
            "added": self.added,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "status": self.status,
            "ingest_id": self.ingest_id,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": list(self.warnings),
        }


@dataclass
class Options:
    stakeholder: str | None = None
    type: str | None = None
    label: str | None = None
    as_of: str | None = None
    sur: str | None = None


def parse_date(value: str) -> str | None:
    """YYYY-MM-DD, YYYY-MM or YYYY (also with / or . and a time part); None when not a date."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[ T].*)?", v)
    if not m:
        return None
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        if d:
            return date(int(y), int(mo), int(d)).isoformat()
        if mo:
            date(int(y), int(mo), 1)
            return f"{y}-{int(mo):02d}"
    except ValueError:
        return None
    return y


def parse_sur(value: str) -> str | None:
    code = vocab.country_code(value)
    if code:
        return code
    m = re.search(r"\(([A-Z]{3})\)", value)
    if m and m.group(1) in vocab.countries():
        return m.group(1)
    return vocab.country_code(re.sub(r"\([^)]*\)", " ", value))


def _get(table: Table, row: list[str], f: str) -> str:
    i = table.columns.get(f)
    if i is None or i >= len(row):
        return ""
    return row[i].strip()


def _excerpt(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def prepare_file(store: Store, path: Path, opts: Options, ids: IdIndex) -> FileReport:
    """Read, check and match one file; nothing is written. Problems are collected, not raised."""
    rep = FileReport(file=str(path))
    try:
        rep.format, tables = read_tables(path)
        rep.sha256 = sha256_of(path)
    except InputError as e:
        rep.problem(e.message.removeprefix(f"{path}: "), hint=e.hint)
        return rep
    usable = [t for t in tables if find_header(t)]
    if not usable:
        for t in tables:
            where = {"sheet": t.sheet} if t.sheet else {}
            rep.problem(f"no recognisable header: {_header_diagnosis(t)}", **where,
                        hint="the sheet needs a header row with a level column (Level of implementation, Status, Niveau, "
                             "Nivel...) and an ID, Paragraph or Recommendation column; see docs/ingest.md for every spelling")
        return rep
    rep.sheets = [t.sheet or "" for t in usable]

    # Who, when, which State
    meta: dict[str, tuple[str, str, str | None]] = {}  # field -> (value, cell, sheet)
    for t in usable:
        for f, (v, cell) in t.meta.items():
            meta.setdefault(f, (v, cell, t.sheet))
    _who(rep, meta, opts)
    sur_declared, sur_where = _declared_sur(rep, meta, usable, opts)
    session = None
    if "session" in meta and meta["session"][0]:
        # one session ("12", "12th session"); a list ("1, 13": a State reviewed in two sessions) matches them all
        m = re.match(r"\s*(\d{1,3})\b(?!\s*[,;/&+-]\s*\d)", meta["session"][0])
        if m and int(m.group(1)) in vocab.sessions():
            session = int(m.group(1))

    # Rows with something to say
    pending: list[tuple[Table, int, list[str]]] = []
    for t in usable:
        for i in range(t.header + 1, len(t.rows)):
            row = t.rows[i]
            if not any(c.strip() for c in row):
                continue
            rep.rows_read += 1
            if not (_get(t, row, "level") or _get(t, row, "comment") or _get(t, row, "sources")):
                rep.blank += 1
                continue
            pending.append((t, i, row))

    # IDs first: they say which State the sheet is about
    id_recs: dict[str, Rec] = ids.lookup([_get(t, row, "id") for t, _i, row in pending if "id" in t.columns])
    id_surs = Counter(id_recs[v].sur for t, _i, row in pending if (v := _get(t, row, "id")) in id_recs)
    sur = sur_declared
    if sur is None and id_surs:
        sur = id_surs.most_common(1)[0][0]
    if sur is None:
        sur = ids.sur_by_text([text_key(_get(t, row, "text")) for t, _i, row in pending if _get(t, row, "text")])
    if sur is None:
        rep.problem("cannot tell which State the sheet is about: no 'State under review' cell or column, no known IDs, "
                    "no text that matches a recommendation exactly",
                    hint="pass --sur ISO3, or add a 'State under review' cell above the header")
        return rep
    rep.sur = sur
    rep.session = session
    others = {s: n for s, n in id_surs.items() if s != sur}
    if others:
        other = max(others, key=lambda s: others[s])
        rows = [i + 1 for t, i, row in pending if (v := _get(t, row, "id")) in id_recs and id_recs[v].sur == other]
        said = f"the sheet is for {_country(sur)} ({sur_where})" if sur_where else f"the sheet's other rows are for {_country(sur)}"
        rep.problem(f"sheet for another State: {said} but {others[other]} of its IDs are recommendations to {_country(other)} "
                    f"(rows {_ranges(rows)})",
                    hint=f"use the sheet made for {_country(sur)} (`upr sheet {sur}`), or fix the State under review"
                    + (" / --sur" if opts.sur else ""))
        return rep

    matcher = ids.matcher(sur, session)
    if not matcher.recs:
        rep.problem(f"no recommendations to {_country(sur)}" + (f" at session {session}" if session else "") + " in the store",
                    hint="import them first with `upr import`, or check the State under review / session cells")
        return rep
    seen: dict[int, Assessment] = {}
    unmatched_keys: list[str] = []
    for t, i, row in pending:
        where = {"sheet": t.sheet, "row": i + 1} if t.sheet else {"row": i + 1}
        level_raw = _get(t, row, "level")
        comment = _get(t, row, "comment") or None
        sources = _get(t, row, "sources") or None
        level = None
        if not level_raw:
            rep.problem("a comment or sources but no level", cell=t.cell("level", i), column=t.column_name("level"), **where,
                        hint="choose a level, or 'No data' when the information does not let you judge")
        else:
            level = level_of(level_raw)
            if level is None:
                rep.problem(f"unknown level {_excerpt(level_raw, 80)!r}", cell=t.cell("level", i), column=t.column_name("level"),
                            value=_excerpt(level_raw, 80), **where,
                            hint="use fully / partially / not implemented or no data (English, French or Spanish); "
                                 "other wordings can be added to data/level_words.csv")
        rec, method, score = _match_row(rep, t, i, row, matcher, id_recs, where, unmatched_keys)
        if rec is None or level is None:
            continue
        a = Assessment(rec.pk, rec.id, level, level_raw, comment, sources, t.sheet, i + 1, method, round(score, 1))
        if rec.pk in seen:
            first = seen[rec.pk]
            if first.content() != a.content():
                rep.problem(f"rows {first.row} and {i + 1} both assess {rec.id}, differently", **where,
                            hint="keep one row per recommendation")
            continue
        seen[rec.pk] = a
        rep.matched[method] += 1
        rep.assessments.append(a)
    if sur_declared and unmatched_keys and len(unmatched_keys) >= max(3, len(pending) // 2):
        elsewhere = ids.sur_by_text(unmatched_keys, exclude=sur)
        if elsewhere:
            rep.problems.insert(0, Problem(
                f"sheet for another State: the sheet is for {_country(sur)} ({sur_where}) but its texts are "
                f"recommendations to {_country(elsewhere)}", file=rep.file,
                hint=f"use the sheet made for {_country(sur)} (`upr sheet {sur}`), or fix the State under review"))
    if not pending and not rep.problems:
        rep.problem("no row has a level or a comment: nothing to ingest", hint="fill the level column, or check you sent the filled copy")
    return rep


def _match_row(rep: FileReport, t: Table, i: int, row: list[str], matcher: Matcher, id_recs: dict[str, Rec],
               where: dict, unmatched: list[str]) -> tuple[Rec | None, str, float]:
    rid = _get(t, row, "id")
    para = _get(t, row, "paragraph")
    text = _get(t, row, "text")
    key = text_key(text) if text else ""
    rs = rs_codes(_get(t, row, "rs")) if "rs" in t.columns else frozenset()
    rec: Rec | None = None
    method = ""
    if rid and rid in id_recs and id_recs[rid].pk in matcher.by_pk:
        rec, method = matcher.by_pk[id_recs[rid].pk], "id"
    elif para and "paragraph" in t.columns:
        cands = matcher.by_para.get(norm_paragraph(para), [])
        if len(cands) == 1:
            rec, method = cands[0], "paragraph"
        elif len(cands) > 1 and key:
            pick = [c for c in cands if c.key == key] or _fuzzy_among(cands, key)
            if len(pick) == 1:
                rec, method = pick[0], "paragraph+text"
    if rec is not None:
        other = matcher.text_conflict(rec, key, rs)
        if other is not None:
            col = "id" if method == "id" else "paragraph"
            rep.problem(f"the {col} {rid or para!r} is {rec.id} but the text is that of {other.id}: {_excerpt(text)!r}",
                        cell=t.cell(col, i), **where,
                        hint="the rows may have been sorted or pasted out of line; fix the ID/paragraph or the text")
            return None, "", 0.0
        return rec, method, 100.0
    if not key:
        what = f"ID {rid!r}" if rid else f"paragraph {para!r}" if para else "nothing to match"
        rep.problem(f"no recommendation matches this row ({what}, no text)", cell=t.cell("id" if rid else "paragraph", i)
                    if (rid and "id" in t.columns) or (para and "paragraph" in t.columns) else None, **where,
                    hint="copy the ID or the recommendation text from the sheet made by `upr sheet`")
        return None, "", 0.0
    found, method, score, tied = matcher.by_text(key, rs)
    if found is not None:
        return found, method, score
    if method == "ambiguous":
        listed = " and ".join(f"{r.id} ({s:.0f})" for r, s in tied[:3])
        rep.problem(f"the text matches {len(tied)} recommendations about equally: {listed}: {_excerpt(text)!r}",
                    cell=t.cell("text", i), **where,
                    hint="add the ID column, or the recommending State(s), so the row names one recommendation")
        return None, "", 0.0
    unmatched.append(key)
    close = matcher.closest(key)
    hint = "copy the text (or the ID) from the sheet made by `upr sheet`"
    if close:
        hint = f"the closest is {close[0].id} at {close[1]:.0f}/100, below the {FUZZY_THRESHOLD:.0f} needed; " + hint
    rep.problem(f"no recommendation matches the text {_excerpt(text)!r}" + (f" (ID {rid!r} is not in the store)" if rid else ""),
                cell=t.cell("text", i), **where, hint=hint)
    return None, "", 0.0


def _fuzzy_among(cands: list[Rec], key: str) -> list[Rec]:
    from rapidfuzz import fuzz

    scored = sorted(((fuzz.ratio(key, c.key), c) for c in cands), key=lambda x: -x[0])
    if not scored or scored[0][0] < FUZZY_THRESHOLD:
        return []
    return [c for s, c in scored if s >= scored[0][0] - FUZZY_MARGIN]


def _who(rep: FileReport, meta: dict[str, tuple[str, str, str | None]], opts: Options) -> None:
    def at(f: str) -> dict:
        v = meta.get(f)
        return {"cell": v[1], "sheet": v[2]} if v else {}

    name = opts.stakeholder or (meta.get("stakeholder") or ("", "", None))[0]
    rep.stakeholder = " ".join(name.split()) or None
    if not rep.stakeholder:
        cell = meta.get("stakeholder")
        rep.problem("no stakeholder name", **at("stakeholder"),
                    hint=(f"fill the cell to the right of the label in {cell[1]} " if cell else "add a 'Stakeholder' cell above the header ")
                    + "or pass --stakeholder NAME")
    if opts.type:
        rep.stakeholder_type = opts.type
        rep.type_from_option = True
    elif meta.get("stakeholder_type") and meta["stakeholder_type"][0]:
        raw = meta["stakeholder_type"][0]
        rep.stakeholder_type = type_of(raw)
        if rep.stakeholder_type is None:
            rep.problem(f"unknown stakeholder type {raw!r}", value=raw, **at("stakeholder_type"),
                        hint="use State, NGO, NHRI, UN agency, Academic or Other (or pass --type)")
    label = opts.label or (meta.get("label") or ("", "", None))[0]
    rep.label = label.strip() or None
    if opts.as_of:
        rep.as_of = opts.as_of
    elif meta.get("as_of") and meta["as_of"][0]:
        raw = meta["as_of"][0]
        rep.as_of = parse_date(raw)
        if rep.as_of is None:
            rep.problem(f"the date {raw!r} is not understood", value=raw, **at("as_of"), hint="write it as YYYY-MM-DD, or pass --as-of")
    if rep.as_of is None and not rep.problems:
        rep.as_of = datetime.now(UTC).date().isoformat()


def _declared_sur(rep: FileReport, meta: dict[str, tuple[str, str, str | None]], tables: list[Table], opts: Options) -> tuple[str | None, str]:
    if opts.sur:
        return opts.sur, "--sur"
    if meta.get("sur") and meta["sur"][0]:
        raw, cell, sheet = meta["sur"]
        code = parse_sur(raw)
        if code is None:
            rep.problem(f"unknown State under review {raw!r}", value=raw, cell=cell, sheet=sheet, hint=vocab.country_hint(raw))
            return None, ""
        return code, f"cell {cell}"
    values: dict[str, str] = {}
    for t in tables:
        if "sur" in t.columns:
            for i in range(t.header + 1, len(t.rows)):
                v = _get(t, t.rows[i], "sur")
                if v:
                    values.setdefault(v, t.cell("sur", i))
    codes = {parse_sur(v) for v in values}
    if len(codes) == 1 and None not in codes:
        return codes.pop(), f"column {next(iter(values.values()))[0]}"
    if len(codes) > 1:
        rep.problem("the State-under-review column names several States: " + ", ".join(sorted(values)),
                    hint="a response sheet is about one State; split the file")
    return None, ""


def _country(code: str) -> str:
    c = vocab.countries().get(code)
    return f"{c.name} ({code})" if c else code


def _ranges(rows: list[int]) -> str:
    rows = sorted(rows)
    out: list[str] = []
    start = prev = rows[0]
    for r in rows[1:] + [None]:  # type: ignore[list-item]
        if r is not None and r == prev + 1:
            prev = r
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if r is not None:
            start = prev = r
    return ", ".join(out[:6]) + (", ..." if len(out) > 6 else "")


class IdIndex:
    """Lookups shared by every file of one command: IDs, texts of every State, matchers."""

    def __init__(self, store: Store):
        self.store = store
        self._matchers: dict[tuple[str, int | None], Matcher] = {}
        self._all_keys: dict[str, set[str]] | None = None

    def lookup(self, ids: list[str]) -> dict[str, Rec]:
        wanted = sorted({i for i in ids if i})
        out: dict[str, Rec] = {}
        for n in range(0, len(wanted), 900):
            chunk = wanted[n : n + 900]
            for r in self.store.conn.execute(
                f"SELECT pk, id, sur, session, paragraph FROM recommendations WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                out[r[1]] = Rec(r[0], r[1], r[2], r[3], r[4], "", frozenset())
        return out

    def matcher(self, sur: str, session: int | None) -> Matcher:
        k = (sur, session)
        if k not in self._matchers:
            self._matchers[k] = Matcher(self.store, sur, session)
        return self._matchers[k]

    def sur_by_text(self, keys: list[str], exclude: str | None = None) -> str | None:
        """The State most of these texts are recommendations to (exact matches only)."""
        if not keys:
            return None
        if self._all_keys is None:
            self._all_keys = {}
            for sur, text in self.store.conn.execute("SELECT sur, text FROM recommendations"):
                self._all_keys.setdefault(text_key(text), set()).add(sur)
        votes: Counter[str] = Counter()
        for k in keys:
            for s in self._all_keys.get(k, ()):
                if s != exclude:
                    votes[s] += 1
        if not votes:
            # retyped texts: vote with fuzzy matches of a sample of rows (each hit must name one State)
            from rapidfuzz import fuzz, process

            choices = list(self._all_keys)
            sample = keys[:: max(1, len(keys) // 25)][:25]
            for k in sample:
                hit = process.extractOne(k, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
                if hit:
                    surs = self._all_keys[hit[0]] - {exclude}
                    if len(surs) == 1:
                        votes[next(iter(surs))] += 1
            keys = sample
        if not votes:
            return None
        best, n = votes.most_common(1)[0]
        return best if n >= max(1, (len(keys) + 1) // 2) else None


# --------------------------------------------------------------------------- the command


@dataclass
class IngestResult:
    reports: list[FileReport]
    problems: list[Problem]
    dry_run: bool = False


def ingest_files(
    store: Store,
    paths: list[Path],
    *,
    stakeholder: str | None = None,
    type: str | None = None,
    label: str | None = None,
    as_of: str | None = None,
    sur: str | None = None,
    dry_run: bool = False,
    keep_valid: bool = False,
    progress: Progress | None = None,
) -> IngestResult:
    """Check every file, then write all of them in one transaction (or none if any has a problem)."""
    opts = _options(stakeholder, type, label, as_of, sur)
    if not paths:
        raise UsageError("no file given", hint="upr ingest FILE.xlsx ...")
    ids = IdIndex(store)
    reports: list[FileReport] = []
    for p in paths:
        reports.append(prepare_file(store, Path(p), opts, ids))
        if progress:
            progress(1)
    _check_history(store, reports)
    for r in reports:
        _check_date(store, r)
    problems = [pr for r in reports for pr in r.problems]
    if problems and not keep_valid:
        bad = sum(1 for r in reports if r.problems)
        valid = sum(len(r.assessments) for r in reports if r.status == "pending")
        hint = "fix what is named above and ingest again"
        if valid:  # --keep-valid helps only when something is left to keep
            hint += f", or pass --keep-valid to store the {counted(valid, 'row')} without problems"
        raise InputError(
            f"{counted(len(problems), 'problem')} in {bad} of {counted(len(paths), 'file')}, nothing ingested",
            problems=problems,
            hint=hint,
        )
    todo = [r for r in reports if r.assessments and r.status == "pending" and r.sur and r.stakeholder and r.stakeholder_type]
    # date order within one stakeholder and State (several rounds given at once become a history)
    order = {id(r): n for n, r in enumerate(todo)}
    todo.sort(key=lambda r: ((r.stakeholder or "").casefold(), r.sur or "", r.as_of or "", order[id(r)]))
    for r in reports:
        if r.status == "pending" and r not in todo:
            r.status = "refused" if r.problems else "unchanged"
    if dry_run:  # the store is open read-only: work out what would change, write nothing
        repo = Assessments(store)
        for r in todo:
            _write_one(repo, r, dry_run=True)
        return IngestResult(reports=reports, problems=problems, dry_run=dry_run)
    with store.write():
        repo = Assessments(store)
        for r in todo:
            _write_one(repo, r)
        for r in reports:  # a re-ingest that changed nothing is in the history too, as a re-import is
            if r.status in ("already ingested", "unchanged") and not r.problems:
                _record_unchanged(repo, r)
    return IngestResult(reports=reports, problems=problems, dry_run=dry_run)


def _check_date(store: Store, r: FileReport) -> None:
    """A sheet dated before the review of the recommendations it assesses has a wrong date: say so (not refused)."""
    if not r.as_of or not r.assessments:
        return
    import json

    session = store.conn.execute(
        "SELECT max(session) FROM recommendations WHERE pk IN (SELECT value FROM json_each(?))",
        (json.dumps([a.rec_pk for a in r.assessments]),),
    ).fetchone()[0]
    review = vocab.sessions().get(session) if session is not None else None
    if review is not None and r.as_of[:4] < str(review.year):
        r.warnings.append(f"the assessment date {r.as_of} is before the review it assesses (session {session}, {review.year}): "
                          "check the sheet's date, or pass --as-of")


def _options(stakeholder, type, label, as_of, sur) -> Options:
    if type is not None:
        t = type_of(type)
        if t is None:
            raise UsageError(f"--type {type!r}: not a stakeholder type", hint="use one of " + ", ".join(STAKEHOLDER_TYPES))
        type = t
    if as_of is not None:
        d = parse_date(as_of)
        if d is None:
            raise UsageError(f"--as-of {as_of!r}: not a date", hint="write it as YYYY-MM-DD")
        as_of = d
    if sur is not None:
        code = vocab.country_code(sur)
        if code is None:
            raise UsageError(f"--sur {sur!r}: unknown State", hint=vocab.country_hint(sur))
        sur = code
    name = " ".join(stakeholder.split()) if stakeholder else None
    return Options(stakeholder=name, type=type, label=label, as_of=as_of, sur=sur)


def _check_history(store: Store, reports: list[FileReport]) -> None:
    """Same file already stored -> nothing to do; a sheet older than the stored one -> a problem."""
    repo = Assessments(store)
    seen: set[tuple[str, str, str]] = set()
    for r in reports:
        if r.problems or not (r.stakeholder and r.sur):
            continue
        row = repo.stakeholder(r.stakeholder)
        if row is not None:
            r.stakeholder = row.name
            if r.stakeholder_type is None:
                r.stakeholder_type = row.type
            elif r.stakeholder_type != row.type and not r.type_from_option:
                r.problem(f"the sheet says {r.stakeholder!r} is {r.stakeholder_type!r} but the store has it as {row.type!r}",
                          hint=f"pass --type {row.type} (or --type {r.stakeholder_type} to change it)")
                continue
        if r.stakeholder_type is None:
            r.problem(f"no stakeholder type for {r.stakeholder!r}",
                      hint="fill the 'Stakeholder type' cell or pass --type state|ngo|nhri|un|academic|other")
            continue
        key = (r.sha256, r.stakeholder.casefold(), r.sur)
        dup = None
        if row is not None:
            dup = repo.find_ingest(r.sha256, row.id, r.sur)
        if dup is not None or key in seen:
            r.status = "already ingested"
            r.unchanged = len(r.assessments)
            if dup is not None and dup[2]:
                r.as_of = dup[2]  # the date it was stored with, not a new --as-of that was not applied
            continue
        seen.add(key)
        if row is not None and r.as_of:
            last = repo.last_as_of(row.id, r.sur)
            if last[0] and r.as_of < last[0]:
                r.problem(f"this sheet (as of {r.as_of}) is older than {r.stakeholder}'s assessments in the store (as of {last[0]}, {last[1]})",
                          hint="pass --as-of with the right date if the sheet is newer; older sheets cannot replace newer ones")


def _write_one(repo: Assessments, r: FileReport, *, dry_run: bool = False) -> None:
    """Store one checked file's assessments (with dry_run: only count what would change)."""
    assert r.stakeholder and r.stakeholder_type and r.sur
    row = repo.stakeholder(r.stakeholder)
    sid = row.id if row else None
    if not dry_run:
        if row is None:
            sid = repo.add_stakeholder(r.stakeholder, r.stakeholder_type, r.label)
        elif (r.label and r.label != row.label) or r.stakeholder_type != row.type:
            repo.update_stakeholder(row.id, r.stakeholder_type, r.label)
    current = repo.current(sid, r.sur) if sid is not None else {}
    new = {a.rec_pk: a for a in r.assessments}

    def same(a: Assessment) -> bool:
        c = current.get(a.rec_pk)
        return c is not None and (c.level, c.comment or None, c.sources or None) == a.content()

    r.unchanged = sum(1 for a in r.assessments if same(a))
    last = max((c.as_of or "" for c in current.values()), default="")
    if current and (r.as_of or "") > last:
        if set(current) == set(new) and r.unchanged == len(new):
            r.status = "unchanged"
            return
        retire = [c.id for c in current.values()]
        insert = list(r.assessments)
    else:  # first sheet, or the same date: merge row by row
        retire = [current[a.rec_pk].id for a in r.assessments if a.rec_pk in current and not same(a)]
        insert = [a for a in r.assessments if not same(a)]
    if not insert and not retire:
        r.status = "unchanged"
        return
    r.added, r.replaced = len(insert), len(retire)
    if dry_run or sid is None:
        r.status = "dry run"
        return
    ingest_id = repo.record_ingest(_ingest_record(r, sid))
    repo.retire(retire, ingest_id)
    repo.add(sid, r.as_of, ingest_id, [
        NewAssessment(a.rec_pk, a.level, a.level_raw, a.comment, a.sources, a.sheet, a.row, a.matched_by, a.score) for a in insert
    ])
    r.ingest_id, r.status = ingest_id, "written"


def _ingest_record(r: FileReport, sid: int) -> IngestRecord:
    return IngestRecord(Path(r.file).name, r.sha256, r.format, ", ".join(s for s in r.sheets if s) or None, sid, r.sur or "",
                        r.as_of, r.rows_read, r.added, r.replaced, r.unchanged)


def _record_unchanged(repo: Assessments, r: FileReport) -> None:
    """An ingest that changed nothing (already ingested, or the same assessments) still gets its line in the history."""
    row = repo.stakeholder(r.stakeholder) if r.stakeholder else None
    if row is None or not r.sur:
        return
    r.added = r.replaced = 0
    r.unchanged = len(r.assessments)
    repo.record_ingest(_ingest_record(r, row.id))
