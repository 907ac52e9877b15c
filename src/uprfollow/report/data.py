"""The digest's data, built from the store through `iri.py` (every figure comes from iri.statuses / summarise).

Nothing here knows about languages or HTML: `Digest` holds the State, the scope (one
session or one cycle), the recommendations with their voices, the summaries, the
sources and the groups by issue; the templates turn it into words.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from .. import vocab
from ..errors import UprError, UsageError
from ..iri import DOUBLED_SCORE, RecStatus, Summary, statuses, summarise, summarise_by
from ..store import Store

RESPONSE_ORDER = ("Accepted", "Noted", "Pending", "Voluntary Pledge")
LEVEL_VALUES = {lv: score / 2 for lv, score in DOUBLED_SCORE.items()}  # not 0, partially 0.5, fully 1 (as in the IRI)
CONTESTED_GAP = 0.5  # the State's voice and the others' average differ by at least this much: contested
SAMPLE_MARKER = "fictional"  # case-insensitive; see `is_sample`


class NoAssessments(UprError):
    """The State has recommendations but no stakeholder assessed any of them (or none in the scope)."""


@dataclass
class Source:
    """One stakeholder whose current assessments appear in the digest."""

    name: str
    type: str
    label: str | None
    as_of: str | None        # the latest as-of date of its assessments (its sheet's date)
    assessed: int            # how many of the digest's recommendations it assessed

    @property
    def short(self) -> str:
        return self.label or self.name


@dataclass
class IssueGroup:
    issue: str | None         # None: recommendations with no issue
    items: list[RecStatus]
    summary: Summary


def paragraph_of(item: RecStatus) -> str | None:
    """The paragraph number a source gave the recommendation ("88.21"), or None.

    Read from the record's `paragraph` (the store's `recommendations.paragraph` column; OHCHR
    matrices and UHRI exports fill it, and UPR Info rows once linked to OHCHR's paragraphs):
    blank or missing values count as none, whatever shape the record has.
    """
    value = getattr(item, "paragraph", None)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def voice_values(item: RecStatus) -> list[tuple[str, float]]:
    """(stakeholder type, value) of every voice with a level that counts (no data is left out, as in the IRI)."""
    return [(v.type, LEVEL_VALUES[v.level]) for v in item.voices if LEVEL_VALUES.get(v.level) is not None]


def spread(item: RecStatus) -> float | None:
    """Distance between the highest and the lowest voice (0 to 1); None with fewer than two voices that count."""
    values = [x for _, x in voice_values(item)]
    return round(max(values) - min(values), 2) if len(values) >= 2 else None


def state_gap(item: RecStatus) -> float | None:
    """The State's voice minus the average of the other stakeholders' voices; None unless both exist."""
    values = voice_values(item)
    state = [x for kind, x in values if kind == "state"]
    others = [x for kind, x in values if kind != "state"]
    if not state or not others:
        return None
    return round(sum(state) / len(state) - sum(others) / len(others), 2)


def is_contested(item: RecStatus) -> bool:
    """The State's voice and the others' average differ by at least 0.5 (CONTESTED_GAP)."""
    gap = state_gap(item)
    return gap is not None and abs(gap) >= CONTESTED_GAP


@dataclass
class ContestedRow:
    issue: str | None
    both: int                # recommendations with the State's voice and another's
    contested: int
    state_higher: int        # contested with the State's voice above the others'


@dataclass
class Digest:
    iso3: str
    state: str
    scope: str                # 'session' or 'cycle'
    session: int | None       # the session asked for (scope 'session')
    cycle: int                # the cycle (of the session, for scope 'session')
    sessions: list[tuple[int, int]]  # (session, year) of the recommendations in the digest
    items: list[RecStatus]
    summary: Summary
    by_response: list[tuple[str | None, Summary]]
    by_action: list[tuple[int | None, Summary]]
    groups: list[IssueGroup]
    not_assessed: list[RecStatus]
    sources: list[Source]
    as_of: str | None         # the latest as-of date of any assessment: the assessment's date
    sample: bool
    country_names: dict[str, str] = field(default_factory=dict)
    refs: dict[int, str] = field(default_factory=dict)   # pk -> "88.21" (paragraph) or "R12" (digest order)
    numbering: str = "sequential"                        # 'paragraph', 'sequential' or 'mixed'
    contested_by_issue: list[ContestedRow] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def assessed_items(self) -> list[RecStatus]:
        return [s for s in self.items if s.voices]

    def ref(self, item: RecStatus) -> str:
        return self.refs[item.pk]

    @property
    def contested_total(self) -> ContestedRow:
        rows = self.contested_by_issue
        return ContestedRow(None, sum(r.both for r in rows), sum(r.contested for r in rows), sum(r.state_higher for r in rows))

    @property
    def noted(self) -> Summary | None:
        return dict(self.by_response).get("Noted")

    def rs_names(self, item: RecStatus) -> list[str]:
        return [self.country_names.get(code, code) for code in item.rs]


def latest_assessed_cycle(store: Store, iso3: str) -> int | None:
    row = store.conn.execute(
        "SELECT max(r.cycle) FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk "
        "WHERE a.current = 1 AND r.sur = ? AND NOT r.is_pledge",
        (iso3,),
    ).fetchone()
    return row[0]


def assessed_states(store: Store, *, session: int | None = None, cycle: int | None = None) -> list[tuple[str, int]]:
    """(ISO3, cycle) of every State with current assessments in the scope; without a scope, each State's latest cycle."""
    where, params = ["a.current = 1", "NOT r.is_pledge"], []
    if session is not None:
        where.append("r.session = ?")
        params.append(session)
    if cycle is not None:
        where.append("r.cycle = ?")
        params.append(cycle)
    rows = store.conn.execute(
        f"SELECT r.sur, max(r.cycle) FROM assessments a JOIN recommendations r ON r.pk = a.rec_pk "
        f"WHERE {' AND '.join(where)} GROUP BY r.sur ORDER BY r.sur",
        params,
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def is_sample(store: Store, iso3: str, items: list[RecStatus]) -> bool:
    """True when the data are marked fictional.

    The signal: the word 'fictional' (any case) in a recommendation's text, document or
    comment, in the name of the file it was imported from, in the name of a response
    sheet ingested for the State, or in a stakeholder's name or label. The sample
    generator (`upr sample`) marks its files and texts that way.
    """
    like = f"%{SAMPLE_MARKER}%"
    pks = [s.pk for s in items]
    conn = store.conn
    if any(SAMPLE_MARKER in (s.text or "").lower() for s in items):
        return True
    if any(SAMPLE_MARKER in (v.stakeholder + (v.label or "") + (v.file or "")).lower() for s in items for v in s.voices):
        return True
    marks = f"({','.join('?' * len(pks))})"
    for sql, params in (
        (f"SELECT 1 FROM recommendations WHERE pk IN {marks} AND (document LIKE ? OR comment LIKE ?) LIMIT 1", [*pks, like, like]),
        (f"SELECT 1 FROM recommendations r JOIN imports i ON i.id = r.import_id WHERE r.pk IN {marks} AND i.file_name LIKE ? LIMIT 1",
         [*pks, like]),
        ("SELECT 1 FROM ingests WHERE sur = ? AND file_name LIKE ? LIMIT 1", [iso3, like]),
    ):
        try:
            if conn.execute(sql, params).fetchone():
                return True
        except sqlite3.OperationalError:  # a store without the table (never with current migrations)
            continue
    return False


def _primary_issue(item: RecStatus, sizes: Counter) -> str | None:
    if not item.issues:
        return None
    return min(item.issues, key=lambda i: (-sizes[i], i))


def _first_themes(store: Store, pks: list[int]) -> dict[int, str]:
    """The first theme listed for each recommendation (OHCHR matrices and UHRI exports give themes, not issues)."""
    out: dict[int, str] = {}
    for start in range(0, len(pks), 900):
        chunk = pks[start:start + 900]
        rows = store.conn.execute(
            f"SELECT rec_pk, theme FROM recommendation_themes WHERE rec_pk IN ({','.join('?' * len(chunk))}) ORDER BY rowid",
            chunk,
        )
        for pk, theme in rows:
            out.setdefault(pk, theme)
    return out


_PARA_PARTS = re.compile(r"\d+|[^\d.\s]+")


def _natural(text: str) -> tuple:
    """Numbers as numbers: 28.4 < 28.12 < 28.212, and A3 < A12 < B31."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.casefold()) for t in _PARA_PARTS.findall(text))


def reading_order(item: RecStatus) -> tuple:
    """Session, then paragraph in number order (28.4 before 28.12 before 28.212), then the store's order."""
    para = item.paragraph
    return (item.session or 0, 0 if para else 1, _natural(para) if para else (), item.pk)


def number(groups: list[IssueGroup], not_assessed: list[RecStatus]) -> tuple[dict[int, str], str]:
    """Each recommendation's reference in the digest, and how they were made.

    The paragraph number where a source gave one; else R1, R2 ... in the digest's order (issue by
    issue, then the annex). Returns ({pk: ref}, 'paragraph' | 'sequential' | 'mixed').
    """
    refs: dict[int, str] = {}
    n = 0
    order = [s for g in groups for s in g.items] + list(not_assessed)
    for s in order:
        para = paragraph_of(s)
        if para:
            refs[s.pk] = para
        else:
            n += 1
            refs[s.pk] = f"R{n}"
    kind = "sequential" if n == len(order) else "paragraph" if n == 0 else "mixed"
    return refs, kind


def contested_by_issue(groups: list[IssueGroup]) -> list[ContestedRow]:
    rows = []
    for g in groups:
        both = [s for s in g.items if state_gap(s) is not None]
        hits = [s for s in both if is_contested(s)]
        rows.append(ContestedRow(g.issue, len(both), len(hits), sum(1 for s in hits if (state_gap(s) or 0) > 0)))
    return rows


def store_fingerprint(store: Store) -> str:
    """A short fingerprint of what the store holds: the files imported and ingested, and its recommendations and
    current assessments (count and highest key), so two digests from the same data show the same value."""
    conn = store.conn
    parts = [str(conn.execute("PRAGMA user_version").fetchone()[0])]
    for sql in ("SELECT sha256 FROM imports ORDER BY sha256", "SELECT sha256 FROM ingests ORDER BY sha256",
                "SELECT count(*), coalesce(max(pk), 0) FROM recommendations",
                "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0) FROM assessments WHERE current = 1"):
        try:
            parts.extend("|".join(map(str, row)) for row in conn.execute(sql))
        except sqlite3.OperationalError:  # a store without the table (never with current migrations)
            parts.append("-")
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


DATA_COLUMNS = ("number", "paragraph", "id", "session", "issue", "response", "action", "iri", "level", "spread", "contested",
                "stakeholder", "label", "stakeholder_type", "voice_level", "voice_value", "as_of", "comment",
                "store_fingerprint", "command")


def data_rows(d: Digest, command: str) -> list[dict[str, object]]:
    """The digest's data: one row per recommendation and voice (one row with no voice for a recommendation nobody
    assessed), in the digest's order, with the store's fingerprint and the command that made it."""
    out: list[dict[str, object]] = []
    order = [(g.issue, s) for g in d.groups for s in g.items] + [(None, s) for s in d.not_assessed]
    for issue, s in order:
        base = {"number": d.refs[s.pk], "paragraph": paragraph_of(s) or "", "id": s.id, "session": s.session or "",
                "issue": issue or "", "response": s.response or "", "action": s.action or "",
                "iri": "" if s.iri is None else f"{s.iri:.2f}", "level": s.level,
                "spread": "" if spread(s) is None else f"{spread(s):.2f}", "contested": "yes" if is_contested(s) else "no",
                "store_fingerprint": d.fingerprint, "command": command}
        empty = {"stakeholder": "", "label": "", "stakeholder_type": "", "voice_level": "", "voice_value": "", "as_of": "",
                 "comment": ""}
        if not s.voices:
            out.append({**base, **empty})
        for v in s.voices:
            value = LEVEL_VALUES.get(v.level)
            out.append({**base, "stakeholder": v.stakeholder, "label": v.label or "", "stakeholder_type": v.type,
                        "voice_level": v.level, "voice_value": "" if value is None else f"{value:.1f}",
                        "as_of": (v.as_of or "")[:10], "comment": v.comment or ""})
    return out


def data_csv(d: Digest, command: str) -> bytes:
    """`data_rows` as UTF-8 CSV (with a BOM, so spreadsheet programs read the accents), cells that look like formulas
    neutralised."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=DATA_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for row in data_rows(d, command):
        w.writerow({k: _cell(v) for k, v in row.items()})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _cell(value: object) -> object:
    """A CSV cell no spreadsheet runs as a formula (formats/cells.py), a negative number left as it is."""
    from ..formats.cells import neutral

    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    return neutral(value)


def _sources(store: Store, iso3: str, items: list[RecStatus]) -> list[Source]:
    found: dict[str, Source] = {}
    for s in items:
        for v in s.voices:
            src = found.get(v.stakeholder)
            if src is None:
                src = found[v.stakeholder] = Source(v.stakeholder, v.type, v.label, None, 0)
            src.assessed += 1
            if v.as_of and (src.as_of is None or v.as_of > src.as_of):
                src.as_of = v.as_of
    for src in found.values():
        if src.as_of is None:  # the assessments carry no date: use the sheet's (ingest's) as-of date
            row = store.conn.execute(
                "SELECT max(i.as_of) FROM ingests i JOIN stakeholders s ON s.id = i.stakeholder_id WHERE s.name = ? AND i.sur = ?",
                (src.name, iso3),
            ).fetchone()
            src.as_of = row[0] if row else None
    return sorted(found.values(), key=lambda s: (s.type != "state", s.name.lower(), s.name))


def build_digest(
    store: Store,
    state: str,
    *,
    session: int | None = None,
    cycle: int | None = None,
    sample: bool | None = None,
) -> Digest:
    """Everything the digest shows, for one State and one session or cycle (default: its latest assessed cycle).

    Raises UnknownValue for an unknown State and NoAssessments when nothing in the scope
    was assessed, so no empty digest is ever written.
    """
    iso3 = vocab.resolve_state(state)
    country = vocab.countries()[iso3]
    if session is not None and cycle is not None:
        raise UsageError("give --session or --cycle, not both", hint="--session N for one review, --cycle N for all of a cycle")
    if session is not None:
        try:
            session = vocab.session_number(session)
        except ValueError as e:
            known = sorted(vocab.sessions())
            raise UsageError(f"--session {session}: {e}",
                             hint=f"sessions run from {known[0]} to {known[-1]} (`upr vocab sessions` lists them with their years)") from None
    if session is None and cycle is None:
        cycle = latest_assessed_cycle(store, iso3)
        if cycle is None:
            n = store.conn.execute("SELECT count(*) FROM recommendations WHERE sur = ? AND NOT is_pledge", (iso3,)).fetchone()[0]
            raise NoAssessments(
                f"{country.name} ({iso3}) has no assessments in the store"
                + (f" ({n:,} recommendations, none assessed)" if n else " and no recommendations"),
                hint=(f"send stakeholders a response sheet (`upr sheet {iso3} -o {iso3}.xlsx`), then `upr ingest` the filled copies"
                      if n else f"import its recommendations first (`upr import FILE`), then `upr sheet {iso3} -o {iso3}.xlsx`"),
            )
    items = statuses(store, iso3, session=session, cycle=cycle if session is None else None)
    where = f"session {session}" if session is not None else f"cycle {cycle}"
    if not items:
        raise NoAssessments(
            f"{country.name} ({iso3}) has no recommendations in {where}",
            hint=f"import them first (`upr import FILE`), or choose another --session/--cycle; `upr search --sur {iso3}` lists them",
        )
    if not any(s.voices for s in items):
        raise NoAssessments(
            f"{country.name} ({iso3}) has no assessments in {where} ({len(items):,} recommendations, none assessed)",
            hint=f"send stakeholders a response sheet (`upr sheet {iso3} -o {iso3}.xlsx`), then `upr ingest` the filled copies",
        )
    sessions_seen = sorted({s.session for s in items if s.session is not None})
    years = vocab.sessions()
    if session is not None:
        cycle = years[session].cycle if session in years else cycle
    assert cycle is not None or session is not None
    summary = summarise(items)
    resp = summarise_by(items, "response")
    by_response = [(k, resp[k]) for k in RESPONSE_ORDER if k in resp]
    by_response += [(k, v) for k, v in sorted(resp.items(), key=lambda kv: str(kv[0])) if k not in RESPONSE_ORDER]
    act = summarise_by(items, "action")
    by_action = [(k, act[k]) for k in sorted(k for k in act if k is not None)] + ([(None, act[None])] if None in act else [])

    # Grouped by issue (UPR Info); a recommendation without one goes under its first theme (OHCHR, UHRI), then
    # under "no issue". Within a group and in the annex: paragraph order, so a reader holding the matrix finds them.
    sizes = Counter(i for s in items for i in s.issues)
    themes = _first_themes(store, [s.pk for s in items if s.voices and not s.issues])
    grouped: dict[str | None, list[RecStatus]] = {}
    for s in sorted(items, key=reading_order):
        if s.voices:
            grouped.setdefault(_primary_issue(s, sizes) or themes.get(s.pk), []).append(s)
    groups = [IssueGroup(k, grouped[k], summarise(grouped[k])) for k in sorted(grouped, key=lambda k: (k is None, _natural(k or "")))]

    not_assessed = sorted((s for s in items if not s.voices), key=reading_order)
    refs, numbering = number(groups, not_assessed)
    codes = {c for s in items for c in s.rs}
    names = {c: vocab.countries()[c].name for c in codes if c in vocab.countries()}
    sources = _sources(store, iso3, items)
    dates = [src.as_of for src in sources if src.as_of]
    return Digest(
        iso3=iso3,
        state=country.name,
        scope="session" if session is not None else "cycle",
        session=session,
        cycle=int(cycle if cycle is not None else 0),
        sessions=[(n, years[n].year if n in years else 0) for n in sessions_seen],
        items=items,
        summary=summary,
        by_response=by_response,
        by_action=by_action,
        groups=groups,
        not_assessed=not_assessed,
        sources=sources,
        as_of=max(dates)[:10] if dates else None,
        sample=is_sample(store, iso3, items) if sample is None else sample,
        country_names=names,
        refs=refs,
        numbering=numbering,
        contested_by_issue=contested_by_issue(groups),
        fingerprint=store_fingerprint(store),
    )


def output_name(iso3: str, *, scope: str, number: int, lang: str, ext: str) -> str:
    """The predictable file name: MIA-HTI-cycle1-en.pdf, MIA-HTI-session12-fr.html."""
    return f"MIA-{iso3}-{scope}{number}-{lang}.{ext}"


def digest_name(d: Digest, lang: str, ext: str) -> str:
    return output_name(d.iso3, scope=d.scope, number=d.session if d.scope == "session" and d.session else d.cycle, lang=lang, ext=ext)


def digest_json(d: Digest) -> dict:
    """The digest's figures, as plain data (used by tests and `--format json` consumers)."""
    return {
        "state": d.iso3,
        "name": d.state,
        "scope": d.scope,
        "session": d.session,
        "cycle": d.cycle,
        "as_of": d.as_of,
        "sample": d.sample,
        "summary": d.summary.as_dict(),
        "by_response": {str(k): v.as_dict() for k, v in d.by_response},
        "by_action": {str(k): v.as_dict() for k, v in d.by_action},
        "sources": [{"name": s.name, "type": s.type, "label": s.label, "as_of": s.as_of, "assessed": s.assessed} for s in d.sources],
    }
