"""`upr ingest`: read filled response sheets, match their rows to recommendations, store the assessments.

The orchestration: `formats.response_sheet` reads each file (header, meta cells, rows), `vocab` turns
level and type words into values, `match` pairs rows with recommendations, and this module checks the
history and writes every file of one command in one transaction.

History: each (stakeholder, State) has one current set of assessments. Re-ingesting a file
already stored (same SHA-256), or one whose assessments are identical to the current ones,
writes nothing. A sheet with a later as-of date replaces the whole current set (the older
rows stay with current = 0 and replaced_by = the new ingest); one with the same date is merged
row by row (a split submission); an older one is refused.

A file with any problem writes nothing (unless keep_valid: then the valid rows of the files that
can be stored are, and a run that stores nothing is still an error); every problem is reported,
identical ones grouped ("17 rows (10-26): unknown level 'totalement'").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import vocab
from .assessments import Assessments, IngestRecord, NewAssessment
from .errors import InputError, Problem, UsageError, counted, group_problems, ranges
from .formats.response_sheet import Meta, Options, Table, declared_state, find_header, get, header_diagnosis, read_tables, read_who
from .importer import sha256_of
from .match import Matcher, Rec, TextIndex, excerpt, match_row, rs_codes, text_key
from .store import Store

Progress = Callable[[int], None]


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
    changed: int = 0       # assessed before by this stakeholder, now with another level, comment or sources
    new: int = 0           # not assessed before by this stakeholder
    dropped: int = 0       # assessed before, not in the newer sheet (no longer current)
    status: str = "pending"    # written | unchanged | already ingested | dry run | refused
    ingest_id: int | None = None
    type_from_option: bool = False
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # stored anyway, but worth a look (a date before the review)
    assessments: list[Assessment] = field(default_factory=list, repr=False)
    fuzzy: list[dict] = field(default_factory=list)  # every row matched by a fuzzy text match, to check before publishing

    def problem(self, message: str, **where) -> None:
        where.setdefault("file", self.file)
        self.problems.append(Problem(message, **where))

    def writable(self) -> bool:
        """Whether --keep-valid can store this file's valid rows: it says who and which State, and no problem
        concerns the whole file (only rows)."""
        return (self.status == "pending" and bool(self.assessments) and bool(self.sur and self.stakeholder and self.stakeholder_type)
                and all(p.row is not None or p.rows for p in self.problems))

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("file", "format", "sha256", "sheets", "sur", "session", "stakeholder", "stakeholder_type",
                                           "label", "as_of", "rows_read")}
        d |= {"assessed": len(self.assessments), "blank": self.blank, "matched_by": dict(sorted(self.matched.items()))}
        d |= {k: getattr(self, k) for k in ("added", "replaced", "unchanged", "changed", "new", "dropped", "status", "ingest_id")}
        return d | {"fuzzy_matches": list(self.fuzzy), "problems": [p.as_dict() for p in self.problems], "warnings": list(self.warnings)}


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
            rep.problem(f"no recognisable header: {header_diagnosis(t)}", **where,
                        hint="the sheet needs a header row with a level column (Level of implementation, Status, Niveau, "
                             "Nivel...) and an ID, Paragraph or Recommendation column; see docs/ingest.md for every spelling")
        return rep
    rep.sheets = [t.sheet or "" for t in usable]
    meta: Meta = {}
    for t in usable:
        for f, (v, cell) in t.meta.items():
            meta.setdefault(f, (v, cell, t.sheet))
    who = read_who(rep.file, meta, opts)
    sur_declared, sur_where = declared_state(who, meta, usable, opts)
    rep.problems += who.problems
    rep.stakeholder, rep.stakeholder_type, rep.type_from_option = who.stakeholder, who.stakeholder_type, who.type_from_option
    rep.label, rep.as_of = who.label, who.as_of
    session = None
    if "session" in meta and meta["session"][0]:
        # one session ("12", "12th session"); a list ("1, 13": a State reviewed in two sessions) matches them all
        m = re.match(r"\s*(\d{1,3})\b(?!\s*[,;/&+-]\s*\d)", meta["session"][0])
        if m and int(m.group(1)) in vocab.sessions():
            session = int(m.group(1))
    pending = _rows_to_assess(rep, usable)
    id_recs: dict[str, Rec] = ids.lookup([get(t, row, "id") for t, _i, row in pending if "id" in t.columns])
    sur = _which_state(rep, pending, id_recs, ids, sur_declared, sur_where, opts)
    if sur is None:
        return rep
    rep.sur, rep.session = sur, session
    matcher = ids.matcher(sur, session)
    if not matcher.recs:
        rep.problem(f"no recommendations to {_country(sur)}" + (f" at session {session}" if session else "") + " in the store",
                    hint="import them first with `upr import`, or check the State under review / session cells")
        return rep
    unmatched = _assess_rows(rep, pending, matcher, id_recs)
    if sur_declared and unmatched and len(unmatched) >= max(3, len(pending) // 2):
        elsewhere = ids.texts().sur_by_text(unmatched, exclude=sur)
        if elsewhere:
            rep.problems.insert(0, Problem(
                f"sheet for another State: the sheet is for {_country(sur)} ({sur_where}) but its texts are "
                f"recommendations to {_country(elsewhere)}", file=rep.file,
                hint=f"use the sheet made for {_country(sur)} (`upr sheet {sur}`), or fix the State under review"))
    if not pending and not rep.problems:
        rep.problem("no row has a level or a comment: nothing to ingest", hint="fill the level column, or check you sent the filled copy")
    rep.problems = group_problems(rep.problems)
    return rep


def _rows_to_assess(rep: FileReport, tables: list[Table]) -> list[tuple[Table, int, list[str]]]:
    """The rows with something to say (a level, a comment or sources); counts the others as blank."""
    pending = []
    for t in tables:
        for i in range(t.header + 1, len(t.rows)):
            row = t.rows[i]
            if not any(c.strip() for c in row):
                continue
            rep.rows_read += 1
            if not (get(t, row, "level") or get(t, row, "comment") or get(t, row, "sources")):
                rep.blank += 1
                continue
            pending.append((t, i, row))
    return pending


def _which_state(rep: FileReport, pending: list, id_recs: dict[str, Rec], ids: IdIndex, declared: str | None, where: str,
                 opts: Options) -> str | None:
    """The State the sheet is about: declared, else from its IDs, else from its texts; a problem when IDs say another."""
    id_surs = Counter(id_recs[v].sur for t, _i, row in pending if (v := get(t, row, "id")) in id_recs)
    sur = declared
    if sur is None and id_surs:
        sur = id_surs.most_common(1)[0][0]
    if sur is None:
        sur = ids.texts().sur_by_text([text_key(get(t, row, "text")) for t, _i, row in pending if get(t, row, "text")])
    if sur is None:
        rep.problem("cannot tell which State the sheet is about: no 'State under review' cell or column, no known IDs, "
                    "no text that matches a recommendation exactly",
                    hint="pass --sur ISO3, or add a 'State under review' cell above the header")
        return None
    others = {s: n for s, n in id_surs.items() if s != sur}
    if others:
        other = max(others, key=lambda s: others[s])
        rows = [i + 1 for t, i, row in pending if (v := get(t, row, "id")) in id_recs and id_recs[v].sur == other]
        said = f"the sheet is for {_country(sur)} ({where})" if where else f"the sheet's other rows are for {_country(sur)}"
        rep.problem(f"sheet for another State: {said} but {others[other]} of its IDs are recommendations to {_country(other)} "
                    f"(rows {ranges(rows)})",
                    hint=f"use the sheet made for {_country(sur)} (`upr sheet {sur}`), or fix the State under review"
                    + (" / --sur" if opts.sur else ""))
        return None
    return sur


def _level_hint(raw: str) -> str:
    close = vocab.level_suggestions(raw)
    mean = ("did you mean " + " or ".join(f"{c!r} ({vocab.level_of(c)})" for c in close) + "? ") if close else ""
    return (mean + "use fully / partially / not implemented or no data (English, French or Spanish); add other wordings to "
            f"{vocab.user_vocab_dir() / vocab.LEVEL_FILE} (columns word,level)")


def _assess_rows(rep: FileReport, pending: list, matcher: Matcher, id_recs: dict[str, Rec]) -> list[str]:
    """Match and check each row; keep its assessment. Returns the texts that matched nothing."""
    seen: dict[int, Assessment] = {}
    unmatched: list[str] = []
    for t, i, row in pending:
        where = {"sheet": t.sheet, "row": i + 1} if t.sheet else {"row": i + 1}
        level_raw = get(t, row, "level")
        level = None
        if not level_raw:
            rep.problem("a comment or sources but no level", cell=t.cell("level", i), column=t.column_name("level"), **where,
                        hint="choose a level, or 'No data' when the information does not let you judge")
        else:
            level = vocab.level_of(level_raw)
            if level is None:
                rep.problem(f"unknown level {excerpt(level_raw, 80)!r}", cell=t.cell("level", i), column=t.column_name("level"),
                            value=excerpt(level_raw, 80), **where, hint=_level_hint(level_raw))
        text = get(t, row, "text")
        out = match_row(matcher, id_recs, rid=get(t, row, "id"), para=get(t, row, "paragraph"), text=text,
                        rs=rs_codes(get(t, row, "rs")) if "rs" in t.columns else frozenset(),
                        has_paragraph="paragraph" in t.columns, has_id="id" in t.columns)
        if out.rec is None:
            if out.unmatched_key:
                unmatched.append(out.unmatched_key)
            cell = t.cell(out.column, i) if out.column in t.columns else None
            rep.problem(out.problem, cell=cell, **where, hint=out.hint)
            continue
        rec = out.rec
        if level is None:
            continue
        a = Assessment(rec.pk, rec.id, level, level_raw, get(t, row, "comment") or None, get(t, row, "sources") or None, t.sheet,
                       i + 1, out.method, round(out.score, 1))
        if rec.pk in seen:
            first = seen[rec.pk]
            if first.content() != a.content():
                rep.problem(f"rows {first.row} and {i + 1} both assess {rec.id}, differently", **where, hint="keep one row per recommendation")
            continue
        seen[rec.pk] = a
        rep.matched[out.method] += 1
        rep.assessments.append(a)
        if out.method.startswith("fuzzy"):
            rep.fuzzy.append({"sheet": t.sheet, "row": i + 1, "id": rec.id, "score": a.score, "sheet_text": text, "stored_text": rec.text})
    return unmatched


def _country(code: str) -> str:
    c = vocab.countries().get(code)
    return f"{c.name} ({code})" if c else code


class IdIndex:
    """The store's side of matching, shared by every file of one command: IDs, matchers, texts of every State."""

    def __init__(self, store: Store):
        self.store = store
        self._matchers: dict[tuple[str, int | None], Matcher] = {}
        self._texts: TextIndex | None = None

    def lookup(self, ids: list[str]) -> dict[str, Rec]:
        wanted = sorted({i for i in ids if i})
        out: dict[str, Rec] = {}
        for n in range(0, len(wanted), 900):
            chunk = wanted[n : n + 900]
            for r in self.store.conn.execute(
                f"SELECT pk, id, sur, session, paragraph FROM recommendations WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                out[r[1]] = Rec(r[0], r[1], r[2], r[3], r[4], "", frozenset())
        # an ID a link turned into an alias (issue 11: the record it was merged into answers to it)
        missing = [i for i in wanted if i not in out]
        for n in range(0, len(missing), 900):
            chunk = missing[n : n + 900]
            for r in self.store.conn.execute(
                "SELECT r.pk, a.id, r.sur, r.session, r.paragraph FROM record_aliases a JOIN recommendations r ON r.pk = a.rec_pk "
                f"WHERE a.id IN ({','.join('?' * len(chunk))}) ORDER BY r.pk DESC", chunk
            ):
                out[r[1]] = Rec(r[0], r[1], r[2], r[3], r[4], "", frozenset())
        return out

    def matcher(self, sur: str, session: int | None) -> Matcher:
        k = (sur, session)
        if k not in self._matchers:
            q = "SELECT pk, id, sur, session, paragraph, text FROM recommendations WHERE sur = ?"
            params: list = [sur]
            if session is not None:
                q += " AND session = ?"
                params.append(session)
            rows = self.store.conn.execute(q, params).fetchall()
            rs: dict[int, set[str]] = {}
            pks = q.replace("pk, id, sur, session, paragraph, text", "pk")
            for pk, code in self.store.conn.execute(f"SELECT rec_pk, iso3 FROM recommending_states WHERE iso3 IS NOT NULL AND rec_pk IN ({pks})", params):
                rs.setdefault(pk, set()).add(code)
            self._matchers[k] = Matcher([tuple(r) for r in rows], rs)
        return self._matchers[k]

    def texts(self) -> TextIndex:
        if self._texts is None:
            self._texts = TextIndex.of(self.store.conn.execute("SELECT sur, text FROM recommendations"))
        return self._texts


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
    """Check every file, then write all of them in one transaction (or none if any has a problem, unless keep_valid)."""
    opts = Options.given(stakeholder, type, label, as_of, sur)
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
    bad = sum(1 for r in reports if r.problems)
    what = f"{counted(len(problems), 'problem')} in {bad} of {counted(len(paths), 'file')}, nothing ingested"
    if problems and not keep_valid:
        valid = sum(len(r.assessments) for r in reports if r.writable())
        hint = "fix what is named above and ingest again"
        if valid:  # --keep-valid helps only when something is left to keep
            hint += f", or pass --keep-valid to store the {counted(valid, 'row')} without problems"
        raise InputError(what, problems=problems, hint=hint)
    todo = [r for r in reports if r.writable()]
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
    else:
        with store.write():
            repo = Assessments(store)
            for r in todo:
                _write_one(repo, r)
            for r in reports:  # a re-ingest that changed nothing is in the history too, as a re-import is
                if r.status in ("already ingested", "unchanged") and not r.problems:
                    _record_unchanged(repo, r)
    if problems and not any(r.status in ("written", "dry run") for r in reports):
        raise InputError(what, problems=problems, hint="no file had rows --keep-valid could store: fix what is named above and ingest again")
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




def _check_history(store: Store, reports: list[FileReport]) -> None:
    """Same file already stored -> nothing to do; a sheet older than the stored one -> a problem."""
    repo = Assessments(store)
    seen: set[tuple[str, str, str]] = set()
    for r in reports:
        if not (r.stakeholder and r.sur) or any(p.row is None and not p.rows for p in r.problems):
            continue  # a file-wide problem: nothing of it can be stored
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
    r.new = sum(1 for a in r.assessments if a.rec_pk not in current)
    r.changed = len(r.assessments) - r.unchanged - r.new
    last = max((c.as_of or "" for c in current.values()), default="")
    if current and (r.as_of or "") > last:
        if set(current) == set(new) and r.unchanged == len(new):
            r.status = "unchanged"
            return
        retire = [c.id for c in current.values()]
        insert = list(r.assessments)
        r.dropped = len(set(current) - set(new))
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
