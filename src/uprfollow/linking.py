"""One record per recommendation: join a second source of a review to the records it describes.

The unit of a record is UPR Info's: one (recommendation, recommending State) pair. OHCHR and
UHRI number *paragraphs*; one paragraph may be made by several States, and its cell may hold
one text per State ("... (Chile); Accelerate ... (Estonia)"). The importer stores such a
paragraph as one record per State (`split_pairs`), all with the paragraph's number, so
`--unit paragraphs` counts the paragraph once.

When a file brings records of a review (State under review and session; when the file has no
session, the same State under review) that the store already holds from a source of another
*family* (UPR Info on one side, OHCHR/UHRI on the other), `link` pairs them:

* a link needs the same set of recommending States and a text similarity of at least
  `THRESHOLD` (rapidfuzz `ratio` on `importer.text_key`, the best over the whole text and each
  "; "-separated part of it, since UPR Info's text is one part of OHCHR's paragraph);
* pairs are chosen greedily, best score first, ties broken by the two IDs: the same pairs
  whichever file came first;
* a paragraph-side pair may describe several UPR Info rows (UPR Info keeps one row per text when a
  State made two recommendations in one paragraph), a UPR Info row describes at most one pair;
* linking adds fields, never rows: the record keeps every value of both sources in
  `field_values` (provenance), and shows the value the rule below picks;
* a paragraph-side pair left without a link while another pair of its paragraph has one is
  *absorbed* into the paragraph (UPR Info's count, the default unit, does not list it; the
  paragraph count does): its ID becomes an alias of the paragraph's first linked record;
* anything else below the threshold stays a record of its own and is reported with its closest
  candidate and score.

Shown value when sources disagree (both kept in `field_values`, conflicts reported):
OHCHR/UHRI for response, paragraph number, document and themes; UPR Info for text (its text is
the pair's own), action category and issues.

IDs outlive a merge: the record keeps the ID it had in the store, and the ID the other
source's row would have had becomes an alias (`record_aliases`); re-importing either file adds
nothing, and a response sheet written before the link still ingests.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

if TYPE_CHECKING:
    from .importer import Normalised

THRESHOLD = 92.0            # rapidfuzz ratio (0-100); true links on the shared China pair score >= 95
PARAGRAPH_FORMATS = frozenset({"ohchr-matrix", "ohchr-matrix-doc", "uhri"})  # (a .doc list is an OHCHR matrix converted)
PAIR_FORMATS = frozenset({"upr-info-csv", "upr-info-xls", "upr-info-uwazi"})  # UPR Info's 2015 export and its current one
# fields whose values are kept per source; the shown value is picked by SHOWN_FROM
FIELDS = ("text", "response", "response_raw", "paragraph", "document", "action", "issues", "themes", "rs")
PARAGRAPH_FAMILIES = frozenset({"ohchr", "uhri"})  # sources that number paragraphs (OHCHR's matrices, UHRI)
LINKED_FAMILIES = frozenset({"upr-info", "ohchr", "uhri", "table"})
_PARAGRAPH_FIRST = ("ohchr", "uhri", "table", "upr-info")
_PAIR_FIRST = ("upr-info", "table", "ohchr", "uhri")
SHOWN_FROM = {  # field -> the families whose value is shown, first found wins
    "response": _PARAGRAPH_FIRST, "response_raw": _PARAGRAPH_FIRST, "paragraph": _PARAGRAPH_FIRST,
    "document": _PARAGRAPH_FIRST, "themes": _PARAGRAPH_FIRST,
    "text": _PAIR_FIRST, "action": _PAIR_FIRST, "issues": _PAIR_FIRST,
}
_SEGMENTS = re.compile(r";\s+")


def family(fmt: str) -> str:
    """Sources of one family describe the same things: two UPR Info exports are one source, not two."""
    if fmt in PAIR_FORMATS:
        return "upr-info"
    if fmt in ("ohchr-matrix", "ohchr-matrix-doc"):
        return "ohchr"
    return fmt  # "uhri", "table" (hand-made lists)


@dataclass
class Side:
    """A record as linking sees it: the store's (pk set) or the incoming file's (rec set)."""

    id: str
    sur: str
    session: int | None
    paragraph: str | None
    text: str
    rs: frozenset[str]
    family: str
    pk: int | None = None
    rec: Normalised | None = None
    keys: tuple[str, ...] = ()


@dataclass
class Unlinked:
    id: str
    row: int | None
    text: str
    rs: list[str]
    candidate_id: str | None
    candidate_text: str | None
    score: float
    absorbed_into: str | None = None

    def as_dict(self) -> dict:
        return {
            "id": self.id, "row": self.row, "text": self.text, "rs": self.rs,
            "closest_id": self.candidate_id, "closest_text": self.candidate_text, "score": round(self.score, 1),
            "absorbed_into": self.absorbed_into,
        }


@dataclass
class LinkReport:
    linked: int = 0                      # incoming rows joined to a record already in the store
    absorbed: int = 0                    # paragraph-side pairs kept as part of a linked paragraph, no record of their own
    unlinked: list[Unlinked] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    contradictions: list[str] = field(default_factory=list)
    links: list[tuple[str, str, float]] = field(default_factory=list)  # (incoming id, record id, score)

    def as_dict(self) -> dict:
        return {
            "linked": self.linked,
            "absorbed": self.absorbed,
            "unlinked": [u.as_dict() for u in self.unlinked],
            "conflicts": self.conflicts,
            "contradictions": self.contradictions,
        }


# --------------------------------------------------------------------------- text


def _key(text: str) -> str:
    from .importer import text_key

    return text_key(text)


def text_keys(text: str) -> tuple[str, ...]:
    """The text and each of its '; '-separated parts, as `text_key`s (an OHCHR cell may hold one text per State)."""
    parts = [p for p in _SEGMENTS.split(text) if p.strip()]
    keys = [_key(text)]
    if len(parts) > 1:
        keys.extend(_key(p) for p in parts)
    return tuple(dict.fromkeys(k for k in keys if k))


def score(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    best = 0.0
    for x in a:
        for y in b:
            if x == y:
                return 100.0
            s = fuzz.ratio(x, y, score_cutoff=best)
            if s > best:
                best = s
    return best


def split_pairs(text: str, rs: list[tuple[str | None, str]]) -> list[tuple[str, list[tuple[str | None, str]]]]:
    """One (text, [State]) per recommending State of a paragraph.

    When the paragraph holds as many '; '-separated texts as States, the reader kept them in
    the same order: text i goes with State i. Otherwise every State gets the whole text.
    """
    states = list(dict.fromkeys(rs))
    if len(states) <= 1:
        return [(text, states)]
    parts = [p.strip() for p in _SEGMENTS.split(text) if p.strip()]
    if len(parts) == len(states):
        return [(p, [s]) for p, s in zip(parts, states)]
    return [(text, [s]) for s in states]


# --------------------------------------------------------------------------- matching


def _rs_key(rs: Iterable[tuple[str | None, str]]) -> frozenset[str]:
    from . import vocab

    return frozenset(code or vocab.fold(raw) for code, raw in rs)


def match(incoming: list[Side], existing: list[Side]) -> tuple[list[tuple[Side, Side, float]], dict[str, tuple[Side | None, float]]]:
    """Choose links between two sides (see the module docstring). Symmetric: the sides may be swapped.

    Returns the links (incoming, existing, score) and, for every side record, its closest candidate.
    """
    by_rs: dict[frozenset[str], list[Side]] = defaultdict(list)
    for e in existing:
        by_rs[e.rs].append(e)
    scored: list[tuple[float, str, str, Side, Side]] = []
    closest: dict[str, tuple[Side | None, float]] = {}
    for i in incoming:
        best: tuple[Side | None, float] = (None, 0.0)
        for e in by_rs.get(i.rs, ()):
            s = score(i.keys, e.keys)
            if s > best[1]:
                best = (e, s)
            if (prev := closest.get(e.id)) is None or s > prev[1]:
                closest[e.id] = (i, s)
            if s >= THRESHOLD:
                p, q = sorted((i, e), key=lambda side: side.family)  # the same tie-break whichever side is incoming
                scored.append((s, p.id, q.id, i, e))
        closest[i.id] = best
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    # a UPR Info row (the "many" side) links once; a paragraph-side pair may take several UPR Info rows;
    # between two sources of the same shape, each record links once
    many = {"upr-info"}
    taken: set[str] = set()
    links: list[tuple[Side, Side, float]] = []
    for s, _p, _q, i, e in scored:
        if i.id in taken or e.id in taken:
            continue
        links.append((i, e, s))
        for side, other in ((i, e), (e, i)):
            if side.family in many or other.family not in many:
                taken.add(side.id)
    return links, closest


# --------------------------------------------------------------------------- the store side


def _families(conn: sqlite3.Connection) -> dict[int, str]:
    return {r[0]: family(r[1]) for r in conn.execute("SELECT id, format FROM imports")}


def _existing_sides(conn: sqlite3.Connection, sur: str, session: int | None, fam: str, import_family: dict[int, str]) -> list[Side]:
    """The store's records of a review that no source of family `fam` has described yet."""
    # a record without a session (a hand-made list) may be of any review of its State
    where, params = ("r.sur = ? AND (r.session = ? OR r.session IS NULL)", [sur, session]) if session is not None else ("r.sur = ?", [sur])
    rows = conn.execute(
        f"SELECT r.pk, r.id, r.sur, r.session, r.paragraph, r.text, r.import_id, "
        f"(SELECT group_concat(coalesce(s.iso3, s.name_raw), char(31)) FROM recommending_states s WHERE s.rec_pk = r.pk) AS rs, "
        f"(SELECT group_concat(import_id) FROM record_sources rs WHERE rs.rec_pk = r.pk) AS sources "
        f"FROM recommendations r WHERE {where} AND NOT r.is_pledge",
        params,
    ).fetchall()
    from . import vocab

    out: list[Side] = []
    for r in rows:
        fams = {import_family.get(r["import_id"], "")}
        if r["sources"]:
            fams |= {import_family.get(int(x), "") for x in str(r["sources"]).split(",")}
        if fam in fams:
            continue
        own = import_family.get(r["import_id"], "")
        rs = frozenset(x if len(x) == 3 and x.isupper() else vocab.fold(x) for x in (r["rs"] or "").split("\x1f") if x)
        out.append(Side(r["id"], r["sur"], r["session"], r["paragraph"], r["text"], rs, own, pk=r["pk"],
                        keys=text_keys(r["text"])))
    return out


def _incoming_side(rec: Normalised, fam: str) -> Side:
    return Side(rec.id, rec.sur, rec.session, rec.paragraph, rec.text, _rs_key(rec.rs), fam, rec=rec,
                keys=text_keys(rec.text))


def _values_of_record(conn: sqlite3.Connection, pk: int) -> dict[str, str | None]:
    r = conn.execute("SELECT text, response, response_raw, paragraph, document, action FROM recommendations WHERE pk = ?", (pk,)).fetchone()
    v: dict[str, str | None] = {k: (None if r[k] is None else str(r[k])) for k in ("text", "response", "response_raw", "paragraph", "document", "action")}
    v["issues"] = "; ".join(x[0] for x in conn.execute("SELECT issue FROM recommendation_issues WHERE rec_pk = ? ORDER BY rowid", (pk,))) or None
    v["themes"] = "; ".join(x[0] for x in conn.execute("SELECT theme FROM recommendation_themes WHERE rec_pk = ? ORDER BY rowid", (pk,))) or None
    states = conn.execute("SELECT coalesce(iso3, name_raw) FROM recommending_states WHERE rec_pk = ? ORDER BY position", (pk,))
    v["rs"] = "; ".join(x[0] for x in states) or None
    return v


def _values_of_rec(rec: Normalised) -> dict[str, str | None]:
    return {
        "text": rec.text, "response": rec.response, "response_raw": rec.response_raw, "paragraph": rec.paragraph,
        "document": rec.document, "action": None if rec.action is None else str(rec.action),
        "issues": "; ".join(rec.issues) or None, "themes": "; ".join(rec.themes) or None,
        "rs": "; ".join(code or raw for code, raw in rec.rs) or None,
    }


def _record_source(conn: sqlite3.Connection, pk: int, import_id: int | None, source_id: str, row: int | None,
                   values: dict[str, str | None]) -> None:
    """Remember that `import_id` described record `pk`, and every value it gave."""
    if import_id is None:
        return
    cur = conn.execute("INSERT OR IGNORE INTO record_sources (rec_pk, import_id, source_id, source_row) VALUES (?,?,?,?)",
                       (pk, import_id, source_id, row))
    if cur.rowcount:
        conn.executemany("INSERT OR REPLACE INTO field_values (rec_pk, import_id, field, value) VALUES (?,?,?,?)",
                         [(pk, import_id, f, v) for f, v in values.items() if v is not None])


def _ensure_own_source(conn: sqlite3.Connection, pk: int) -> None:
    """Before a record takes a second source, keep what its first source gave."""
    r = conn.execute("SELECT id, import_id, source_row FROM recommendations WHERE pk = ?", (pk,)).fetchone()
    if r["import_id"] is not None and not conn.execute(
        "SELECT 1 FROM record_sources WHERE rec_pk = ? AND import_id = ?", (pk, r["import_id"])
    ).fetchone():
        _record_source(conn, pk, r["import_id"], r["id"], r["source_row"], _values_of_record(conn, pk))


def shown_values(conn: sqlite3.Connection, pk: int, import_family: dict[int, str]) -> None:
    """Set the record's shown columns from its sources' values by the documented rule (SHOWN_FROM)."""
    per: dict[str, dict[str, str]] = defaultdict(dict)   # field -> family -> value
    for imp, f, v in conn.execute("SELECT import_id, field, value FROM field_values WHERE rec_pk = ? ORDER BY import_id", (pk,)):
        per[f].setdefault(import_family.get(imp, ""), v)

    def pick(f: str) -> str | None:
        vals = per.get(f, {})
        for fam in SHOWN_FROM.get(f, ()):
            if fam in vals:
                return vals[fam]
        return next(iter(vals.values()), None)

    sets = {f: pick(f) for f in ("text", "response", "response_raw", "paragraph", "document", "action")}
    conn.execute(
        "UPDATE recommendations SET text = coalesce(?, text), response = ?, response_raw = ?, paragraph = ?, document = ?, "
        "action = ?, is_pledge = is_pledge WHERE pk = ?",
        (sets["text"], sets["response"], sets["response_raw"], sets["paragraph"], sets["document"],
         None if sets["action"] is None else int(sets["action"]), pk),
    )
    for f, table, col in (("issues", "recommendation_issues", "issue"), ("themes", "recommendation_themes", "theme")):
        value = pick(f)
        conn.execute(f"DELETE FROM {table} WHERE rec_pk = ?", (pk,))
        if value:
            conn.executemany(f"INSERT OR IGNORE INTO {table} (rec_pk, {col}) VALUES (?,?)", [(pk, x) for x in value.split("; ")])


def _conflicts(conn: sqlite3.Connection, pk: int, rid: str) -> list[dict]:
    out = []
    for f in ("response",):
        vals = conn.execute(
            "SELECT DISTINCT v.value, i.file_name FROM field_values v JOIN imports i ON i.id = v.import_id WHERE v.rec_pk = ? AND v.field = ?",
            (pk, f),
        ).fetchall()
        if len({v[0] for v in vals}) > 1:
            out.append({"id": rid, "field": f, "values": {v[1]: v[0] for v in vals}})
    return out


SET_TABLES = (("recommendation_sdgs", "sdg"), ("recommendation_groups", "grp"))  # multi-valued fields every source adds to


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def carry_sets(conn: sqlite3.Connection, old: int, new: int) -> None:
    """The SDGs and groups of persons of record `old` are also those of `new` (the union: they describe the same paragraph)."""
    for table, col in SET_TABLES:
        if _has_table(conn, table):
            conn.execute(f"INSERT OR IGNORE INTO {table} (rec_pk, {col}) SELECT ?, {col} FROM {table} WHERE rec_pk = ?", (new, old))


def add_alias(conn: sqlite3.Connection, alias: str, pk: int) -> None:
    conn.execute("INSERT OR IGNORE INTO record_aliases (id, rec_pk) VALUES (?, ?)", (alias, pk))


def move_record(conn: sqlite3.Connection, old: int, new: int) -> None:
    """Fold record `old` into `new`: assessments, aliases and sources move, `old` is deleted.

    An assessment of `old` by a stakeholder who already has a current one on `new` is kept in the
    history (current = 0) rather than lost.
    """
    conn.execute(
        "UPDATE assessments SET current = 0 WHERE rec_pk = ? AND current = 1 AND stakeholder_id IN "
        "(SELECT stakeholder_id FROM assessments WHERE rec_pk = ? AND current = 1)",
        (old, new),
    )
    conn.execute("UPDATE assessments SET rec_pk = ? WHERE rec_pk = ?", (new, old))
    conn.execute("UPDATE OR IGNORE record_aliases SET rec_pk = ? WHERE rec_pk = ?", (new, old))
    conn.execute("DELETE FROM record_aliases WHERE rec_pk = ?", (old,))
    rid = conn.execute("SELECT id FROM recommendations WHERE pk = ?", (old,)).fetchone()[0]
    add_alias(conn, rid, new)
    carry_sets(conn, old, new)
    tables = ["recommending_states", "recommendation_issues", "recommendation_themes", "record_sources", "field_values"]
    tables += [t for t, _ in SET_TABLES if _has_table(conn, t)]
    for table in tables:
        conn.execute(f"DELETE FROM {table} WHERE rec_pk = ?", (old,))
    conn.execute("DELETE FROM recommendations WHERE pk = ?", (old,))


def _keep_absorbed(conn: sqlite3.Connection, head: int, import_id: int | None, rid: str, text: str, rs: str | None) -> None:
    """An absorbed pair's text and States stay with its paragraph's record, as a value of the source that gave them."""
    if import_id is not None:
        conn.execute("INSERT OR REPLACE INTO field_values (rec_pk, import_id, field, value) VALUES (?,?,?,?)",
                     (head, import_id, f"absorbed {rid}", f"{text} ({rs or '?'})"))


def _absorb(conn: sqlite3.Connection, old: int, head: int) -> None:
    """Fold an existing paragraph-side pair that no source of the other kind lists into its paragraph's record."""
    r = conn.execute("SELECT id, text, import_id FROM recommendations WHERE pk = ?", (old,)).fetchone()
    rs = _values_of_record(conn, old)["rs"]
    move_record(conn, old, head)
    _keep_absorbed(conn, head, r["import_id"], r["id"], r["text"], rs)


# --------------------------------------------------------------------------- linking one file


@dataclass
class Plan:
    """What `plan` decided for a file's new records; `apply` writes it."""

    insert: list[Normalised] = field(default_factory=list)              # records of their own
    into_existing: list[tuple[Normalised, int, float]] = field(default_factory=list)  # (incoming, record pk, score)
    copies: list[tuple[Normalised, int]] = field(default_factory=list)  # new record taking the paragraph fields of pk
    absorbed_new: list[tuple[Normalised, str]] = field(default_factory=list)  # incoming pair kept as part of a paragraph
    absorbed_old: list[tuple[int, int]] = field(default_factory=list)   # (existing pk, folded into pk)
    report: LinkReport = field(default_factory=LinkReport)


def may_link(conn: sqlite3.Connection, fmt: str) -> bool:
    """Whether records of a file of format `fmt` can link to anything in the store (another linked family is there).
    `plan` must then see each review whole; otherwise it would insert everything as it comes."""
    fam = family(fmt)
    return fam in LINKED_FAMILIES and any(f != fam and f in LINKED_FAMILIES for f in _families(conn).values())


def plan(conn: sqlite3.Connection, recs: list[Normalised], fmt: str) -> Plan:
    """Decide the links of a file's new records (reads only)."""
    out = Plan()
    fam = family(fmt)
    if fam not in LINKED_FAMILIES or not recs:
        out.insert = recs
        return out
    import_family = _families(conn)
    others = {f for f in import_family.values() if f != fam and f in LINKED_FAMILIES}
    if not others:
        out.insert = recs
        return out
    other_imports = [i for i, f in import_family.items() if f != fam and f in LINKED_FAMILIES]
    reviews: dict[tuple[str, int | None], list[Normalised]] = defaultdict(list)
    for r in recs:
        reviews[(r.sur, r.session)].append(r)
    for (sur, session), group in reviews.items():
        incoming = [_incoming_side(r, fam) for r in group if not r.is_pledge]
        existing = _existing_sides(conn, sur, session, fam, import_family)
        if not existing:
            _contradiction(conn, sur, session, incoming, other_imports, out.report)
            out.insert.extend(group)
            continue
        links, closest = match(incoming, existing)
        _plan_review(group, incoming, existing, links, closest, out)
    return out


def _plan_review(group: list[Normalised], incoming: list[Side], existing: list[Side],
                 links: list[tuple[Side, Side, float]], closest: dict[str, tuple[Side | None, float]], out: Plan) -> None:
    rep = out.report
    linked_in: set[str] = set()
    used_existing: dict[str, int] = defaultdict(int)
    linked_paragraphs: dict[tuple, int] = {}   # (sur, session, paragraph) -> first linked record pk
    for i, e, s in sorted(links, key=lambda t: (t[1].pk or 0, t[0].id)):
        linked_in.add(i.id)
        assert i.rec is not None and e.pk is not None
        rep.linked += 1
        rep.links.append((i.id, e.id, s))
        if i.family == "upr-info" and used_existing[e.id]:
            out.copies.append((i.rec, e.pk))       # a second UPR Info row of the same paragraph pair
        else:
            out.into_existing.append((i.rec, e.pk, s))
        used_existing[e.id] += 1
        para = e.paragraph or i.rec.paragraph
        if para:
            linked_paragraphs.setdefault((e.sur, e.session, para), e.pk)
    # UPR Info-side existing records linked by several incoming pairs of one paragraph are fine; now the leftovers
    for i in incoming:
        if i.id in linked_in:
            continue
        assert i.rec is not None
        key = (i.sur, i.session, i.paragraph)
        if i.family in PARAGRAPH_FAMILIES and i.paragraph and key in linked_paragraphs:
            out.absorbed_new.append((i.rec, i.id))
            rep.absorbed += 1
            cand, s = closest.get(i.id, (None, 0.0))
            rep.unlinked.append(Unlinked(i.id, i.rec.source_row, i.text, sorted(i.rs), cand.id if cand else None,
                                         cand.text if cand else None, s, absorbed_into=f"paragraph {i.paragraph}"))
            continue
        cand, s = closest.get(i.id, (None, 0.0))
        if cand is None:  # no record of the same State(s): name the closest text of any State, for the reader to judge
            for e in existing:
                if (t := score(i.keys, e.keys)) > s:
                    cand, s = e, t
        rep.unlinked.append(Unlinked(i.id, i.rec.source_row, i.text, sorted(i.rs), cand.id if cand else None,
                                     cand.text if cand else None, s))
    linked_existing = {e.id for _i, e, _s in links}
    for e in existing:
        if e.id in linked_existing or e.family not in PARAGRAPH_FAMILIES or not e.paragraph:
            continue
        head = linked_paragraphs.get((e.sur, e.session, e.paragraph))
        if head is not None and e.pk is not None:
            out.absorbed_old.append((e.pk, head))
            rep.absorbed += 1
    keep = {id(r) for r, *_ in out.into_existing} | {id(r) for r, _ in out.copies} | {id(r) for r, _ in out.absorbed_new}
    out.insert.extend(r for r in group if id(r) not in keep)


def _contradiction(conn: sqlite3.Connection, sur: str, session: int | None, incoming: list[Side], other_imports: list[int],
                   rep: LinkReport) -> None:
    """A review the store does not hold, whose texts are those of another review from another source: another State under
    review or another session by the file's account. Say so; link nothing."""
    if session is None or not incoming or not other_imports:
        return
    keys = {i.keys[0] for i in incoming}
    marks = ",".join("?" * len(other_imports))
    rows = conn.execute(
        f"SELECT sur, session, text FROM recommendations WHERE import_id IN ({marks}) AND NOT is_pledge "
        f"AND ((sur = ? AND session IS NOT ?) OR (session = ? AND sur != ?))",
        [*other_imports, sur, session, session, sur],
    ).fetchall()
    hits: dict[tuple[str, int | None], int] = defaultdict(int)
    for r in rows:
        if _key(r["text"]) in keys:
            hits[(r["sur"], r["session"])] += 1
    if not hits:
        return
    (o_sur, o_session), n = max(hits.items(), key=lambda kv: kv[1])
    if n * 4 >= len(incoming):
        rep.contradictions.append(
            f"{n:,} of {len(incoming):,} rows for {sur} session {session} have the texts of {o_sur} session {o_session} "
            f"already in the store: a different review by the file's account, not linked (check the State under review and session)"
        )


def apply(conn: sqlite3.Connection, p: Plan, import_id: int, insert_new) -> None:
    """Write the plan inside the import's transaction. `insert_new(records) -> {id: pk}` inserts plain records."""
    import_family = _families(conn)
    # new records of their own, and the copies (inserted, then given the paragraph fields they share)
    pks = insert_new(p.insert + [r for r, _ in p.copies])
    touched: set[int] = set()
    for rec, pk, _s in p.into_existing:
        if rec.session is not None:  # a record from a list without sessions learns its review
            conn.execute("UPDATE recommendations SET session = ?, cycle = ?, year = ? WHERE pk = ? AND session IS NULL",
                         (rec.session, rec.cycle, rec.year, pk))
        _ensure_own_source(conn, pk)
        _record_source(conn, pk, import_id, rec.id, rec.source_row, _values_of_rec(rec))
        add_alias(conn, rec.id, pk)
        if rec.sdgs:
            conn.executemany("INSERT OR IGNORE INTO recommendation_sdgs (rec_pk, sdg) VALUES (?,?)", [(pk, g) for g in rec.sdgs])
        if rec.groups:
            conn.executemany("INSERT OR IGNORE INTO recommendation_groups (rec_pk, grp) VALUES (?,?)", [(pk, g) for g in rec.groups])
        touched.add(pk)
    for rec, src in p.copies:
        pk = pks[rec.id]
        _ensure_own_source(conn, src)
        _record_source(conn, pk, import_id, rec.id, rec.source_row, _values_of_rec(rec))
        # the paragraph side's values, as its source gave them
        for imp, sid, row in conn.execute("SELECT import_id, source_id, source_row FROM record_sources WHERE rec_pk = ? AND import_id != ?",
                                          (src, import_id)).fetchall():
            vals = {f: v for f, v in conn.execute("SELECT field, value FROM field_values WHERE rec_pk = ? AND import_id = ?", (src, imp))}
            vals.pop("text", None)
            _record_source(conn, pk, imp, sid, row, vals)
        touched.add(pk)
    for rec, _rid in p.absorbed_new:
        heads = [pk for r, pk, _ in p.into_existing if r.paragraph == rec.paragraph and r.sur == rec.sur and r.session == rec.session]
        if heads:
            add_alias(conn, rec.id, min(heads))
            _keep_absorbed(conn, min(heads), import_id, rec.id, rec.text, _values_of_rec(rec)["rs"])
    for old, head in p.absorbed_old:
        _absorb(conn, old, head)
    for pk in touched:
        shown_values(conn, pk, import_family)
        rid = conn.execute("SELECT id FROM recommendations WHERE pk = ?", (pk,)).fetchone()[0]
        p.report.conflicts.extend(_conflicts(conn, pk, rid))


# --------------------------------------------------------------------------- merging a store (migration m009)


def merge_store(conn: sqlite3.Connection) -> dict[str, int]:
    """Bring a store written before linking to one record per recommendation (inside the caller's transaction)."""
    from .importer import make_id

    import_family = _families(conn)
    fmt_ids = [i for i, f in import_family.items() if f in PARAGRAPH_FAMILIES]
    stats = {"split": 0, "linked": 0, "absorbed": 0}
    if not fmt_ids:
        return stats
    marks = ",".join("?" * len(fmt_ids))
    multi = conn.execute(
        f"SELECT r.* FROM recommendations r WHERE r.import_id IN ({marks}) AND r.paragraph IS NOT NULL "
        f"AND (SELECT count(*) FROM recommending_states s WHERE s.rec_pk = r.pk) > 1 ORDER BY r.pk",
        fmt_ids,
    ).fetchall()
    for r in multi:
        states = [(s[0], s[1]) for s in conn.execute(
            "SELECT iso3, name_raw FROM recommending_states WHERE rec_pk = ? ORDER BY position", (r["pk"],))]
        pairs = split_pairs(r["text"], states)
        if len(pairs) < 2:
            continue
        stats["split"] += 1
        themes = [t[0] for t in conn.execute("SELECT theme FROM recommendation_themes WHERE rec_pk = ? ORDER BY rowid", (r["pk"],))]
        issues = [t[0] for t in conn.execute("SELECT issue FROM recommendation_issues WHERE rec_pk = ? ORDER BY rowid", (r["pk"],))]
        for n, (text, rs) in enumerate(pairs):
            new_id = make_id(r["sur"], r["session"], r["paragraph"], text, rs, 0)
            if n == 0:
                pk = r["pk"]
                conn.execute("UPDATE recommendations SET text = ? WHERE pk = ?", (text, pk))
                conn.execute("DELETE FROM recommending_states WHERE rec_pk = ? AND position > 0", (pk,))
                add_alias(conn, new_id, pk)
                continue
            pk = conn.execute("SELECT max(pk) + 1 FROM recommendations").fetchone()[0]
            conn.execute(
                "INSERT INTO recommendations (pk, id, sur, session, cycle, year, paragraph, text, response, response_raw, action, "
                "is_pledge, document, comment, import_id, source_row) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (pk, new_id, r["sur"], r["session"], r["cycle"], r["year"], r["paragraph"], text, r["response"], r["response_raw"],
                 r["action"], r["is_pledge"], r["document"], r["comment"], r["import_id"], r["source_row"]),
            )
            conn.executemany("INSERT INTO recommending_states (rec_pk, position, iso3, name_raw) VALUES (?,?,?,?)",
                             [(pk, j, code, raw) for j, (code, raw) in enumerate(rs)])
            conn.executemany("INSERT INTO recommendation_themes (rec_pk, theme) VALUES (?,?)", [(pk, t) for t in themes])
            conn.executemany("INSERT INTO recommendation_issues (rec_pk, issue) VALUES (?,?)", [(pk, t) for t in issues])
            carry_sets(conn, r["pk"], pk)
            add_alias(conn, r["id"], pk)
            # the stakeholder assessed the paragraph: each of its pairs carries the assessment
            conn.execute(
                "INSERT INTO assessments (rec_pk, stakeholder_id, level, level_raw, comment, sources, as_of, ingest_id, sheet, row, "
                "current, replaced_by, matched_by, match_score) SELECT ?, stakeholder_id, level, level_raw, comment, sources, as_of, "
                "ingest_id, sheet, row, current, replaced_by, matched_by, match_score FROM assessments WHERE rec_pk = ?",
                (pk, r["pk"]),
            )
    # link every review held by both families: the UPR Info record stays, the OHCHR pair folds into it
    reviews = conn.execute(
        f"SELECT DISTINCT sur, session FROM recommendations WHERE import_id IN ({marks}) AND NOT is_pledge", fmt_ids
    ).fetchall()
    for sur, session in reviews:
        paragraph_side = [s for s in _existing_sides(conn, sur, session, "upr-info", import_family) if s.family in PARAGRAPH_FAMILIES]
        pair_side = [s for s in _existing_sides(conn, sur, session, "ohchr", import_family) if s.family == "upr-info"]
        if not paragraph_side or not pair_side:
            continue
        links, _closest = match(paragraph_side, pair_side)
        into: dict[int, list[int]] = defaultdict(list)   # paragraph-side pk -> UPR Info pks
        for p, q, _s in sorted(links, key=lambda t: (t[1].pk or 0)):
            assert p.pk is not None and q.pk is not None
            into[p.pk].append(q.pk)
        heads: dict[tuple, int] = {}
        for p in paragraph_side:
            if p.pk in into:
                heads.setdefault((p.paragraph,), into[p.pk][0])
        for p in paragraph_side:
            assert p.pk is not None
            targets = into.get(p.pk)
            if targets:
                values = _values_of_record(conn, p.pk)
                row = conn.execute("SELECT import_id, source_row FROM recommendations WHERE pk = ?", (p.pk,)).fetchone()
                for q in targets:
                    _ensure_own_source(conn, q)
                    _record_source(conn, q, row["import_id"], p.id, row["source_row"], values)
                    add_alias(conn, p.id, q)
                    shown_values(conn, q, import_family)
                move_record(conn, p.pk, targets[0])
                stats["linked"] += len(targets)
            elif p.paragraph and (p.paragraph,) in heads:
                _absorb(conn, p.pk, heads[(p.paragraph,)])
                stats["absorbed"] += 1
    return stats
