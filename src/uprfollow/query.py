"""Filters over the eight categories, compiled to SQL, and full-text search.

`make_filters()` turns what people type ("Haiti", "haiti", "HTI", "noted", "4",
"women's rights") into canonical values, or raises UsageError naming the closest
known values. `where_sql()` compiles a `Filters` to a WHERE clause over the
recommendations table aliased `r`. `fts_query()` translates a user's search text
into a safe FTS5 query: words, "quoted phrases", prefix*, AND / OR / NOT (upper
case), -word and parentheses; every word or phrase is quoted, so FTS5 syntax
(column filters, NEAR, stray quotes) never reaches SQLite from the user.

Rules, stated once here and in `docs/search.md`:
- several values of one filter match any of them (`--sur HTI --sur CUB`: either);
  different filters must all match; `--issue` follows `--issue-mode any|all`;
- regional groups and organisations are those of `countries` (the vocabulary), and a
  recommendation matches an RS filter when any of its recommending States matches;
- voluntary pledges are left out unless `--pledges include|only` (or `--response
  "Voluntary Pledge"`), as UPR Info's figures count recommendations only.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import vocab
from .errors import UsageError
from .lemmas import LANGUAGES, WORD, lemma, token

PLEDGE_MODES = ("exclude", "include", "only")
CODING_MODES = ("all", "human")  # `--coding`: human = UPR Info's coding only; all = also `upr classify`'s predictions
ISSUE_MODES = ("any", "all")
LEVEL_VIEW = "recommendation_levels"
@dataclass
class Filters:
    """Canonical filter values (ISO3 codes, canonical names, numbers). Empty list = no filter."""

    sur: list[str] = field(default_factory=list)
    rs: list[str] = field(default_factory=list)
    sur_group: list[str] = field(default_factory=list)
    rs_group: list[str] = field(default_factory=list)
    sur_org: list[str] = field(default_factory=list)
    rs_org: list[str] = field(default_factory=list)
    response: list[str] = field(default_factory=list)
    action: list[int] = field(default_factory=list)
    issue: list[str] = field(default_factory=list)
    issue_mode: str = "any"
    session: list[int] = field(default_factory=list)
    cycle: list[int] = field(default_factory=list)
    year: list[int] = field(default_factory=list)
    level: list[str] = field(default_factory=list)
    pledges: str = "exclude"
    text: str | None = None
    theme: list[str] = field(default_factory=list)  # OHCHR/UHRI themes: full label, code ("A12") or name
    sdg: list[int] = field(default_factory=list)    # Sustainable Development Goals 1-17
    group: list[str] = field(default_factory=list)  # affected persons / groups of persons
    paragraph: list[str] = field(default_factory=list)
    unit: str = "pairs"
    coding: str = "all"

    def describe(self) -> str:
        """A short human description, for messages ("sur=HTI, cycle=1")."""
        parts = []
        for name in ("sur", "rs", "sur_group", "rs_group", "sur_org", "rs_org", "response", "action", "issue", "session", "cycle", "year", "level",
                     "theme", "sdg", "group"):
            values = getattr(self, name)
            if values:
                joiner = " and " if name == "issue" and self.issue_mode == "all" else "|"
                parts.append(f"{name.replace('_', '-')}={joiner.join(map(str, values))}")
        if self.paragraph:
            parts.append(f"paragraph={'|'.join(self.paragraph)}")
        if self.text:
            parts.append(f"text={self.text!r}")
        if self.pledges != "exclude":
            parts.append(f"pledges={self.pledges}")
        if self.coding != "all":
            parts.append(f"coding={self.coding}")
        return ", ".join(parts)


def _unknown(what: str, value: str, choices: Iterable[str], option: str) -> UsageError:
    # each value once, however many spellings of it the vocabulary lists ("Accepted" twice, "accepted")
    firsts: dict[str, str] = {}
    for c in choices:
        firsts.setdefault(vocab.fold(str(c)), str(c))
    choices = list(firsts.values())
    close = vocab.closest(str(value), choices)
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        hint = f"known values: {shown}"
    return UsageError(f"unknown {what} {value!r} for {option}", hint=hint)


def _countries(values: Iterable[str], option: str) -> list[str]:
    out = []
    for v in values:
        out.append(vocab.resolve_state(v, option))
    return list(dict.fromkeys(out))


def _issues(values: Iterable[str], added: list[str]) -> list[str]:
    """UPR Info's 54 issues, and those a UPR Info export added to the store (`added_issues()`)."""
    extra = {vocab.fold(i): i for i in added}
    return _lookup(values, lambda v: vocab.issue_name(v) or extra.get(vocab.fold(v)), "issue", [*vocab.issues(), *added], "--issue")


def added_issues(db: str | Path | None) -> list[str]:
    """Issues that a UPR Info export added to the store's vocabulary (they carry a note); [] without a store."""
    from .errors import UprError
    from .store import default_db_path, open_store

    path = Path(db) if db else default_db_path()
    if not path.is_file():
        return []
    try:
        with open_store(path, readonly=True) as store:
            return [r[0] for r in store.conn.execute("SELECT name FROM issues WHERE note IS NOT NULL ORDER BY name")]
    except (UprError, sqlite3.Error):
        return []


def _lookup(values: Iterable[str], fn, what: str, choices: Iterable[str], option: str) -> list:
    out = []
    for v in values:
        hit = fn(v)
        if hit is None:
            raise _unknown(what, v, choices, option)
        out.append(hit)
    return list(dict.fromkeys(out))


def _numbers(values: Iterable[str | int], what: str, known: Iterable[int], option: str) -> list[int]:
    known = sorted(set(known))
    plural = "action categories" if what == "action category" else f"{what}s"
    out = []
    for v in values:
        try:
            f = float(str(v).strip())
            if f != int(f):
                raise ValueError
            n = int(f)
        except ValueError:
            raise UsageError(f"{option} expects a number, not {v!r}", hint=f"{plural} run from {known[0]} to {known[-1]}") from None
        if n not in known:
            raise UsageError(f"unknown {what} {v!r} for {option}", hint=f"{plural} run from {known[0]} to {known[-1]}")
        out.append(n)
    return list(dict.fromkeys(out))


UNITS = ("pairs", "paragraphs")
UNIT_NOTES = {
    "pairs": "one per recommendation and recommending State, as UPR Info counts",
    "paragraphs": "one per numbered paragraph of the report, as OHCHR counts; a recommendation without a paragraph number counts once",
}


def _paragraph(value: str) -> str:
    """A paragraph number as typed ('186.23', ' 186.23. ') as the store keeps it."""
    p = str(value).strip().rstrip(".").strip()
    if not re.fullmatch(r"\d+(\.\d+)+", p):
        raise UsageError(f"--paragraph {value!r} is not a paragraph number", hint="e.g. --paragraph 186.23 (as in the report)")
    return p


def make_filters(
    *,
    sur: Iterable[str] = (),
    rs: Iterable[str] = (),
    sur_group: Iterable[str] = (),
    rs_group: Iterable[str] = (),
    sur_org: Iterable[str] = (),
    rs_org: Iterable[str] = (),
    response: Iterable[str] = (),
    action: Iterable[str | int] = (),
    issue: Iterable[str] = (),
    issue_mode: str = "any",
    session: Iterable[str | int] = (),
    cycle: Iterable[str | int] = (),
    year: Iterable[str | int] = (),
    level: Iterable[str] = (),
    pledges: str = "exclude",
    text: str | None = None,
    theme: Iterable[str] = (),
    sdg: Iterable[str | int] = (),
    group: Iterable[str] = (),
    added_issues: Iterable[str] = (),
    paragraph: Iterable[str] = (),
    unit: str = "pairs",
    coding: str = "all",
) -> Filters:
    """Resolve user spellings into a `Filters`; raise UsageError with a suggestion for unknown values."""
    if issue_mode not in ISSUE_MODES:
        raise _unknown("issue mode", issue_mode, ISSUE_MODES, "--issue-mode")
    if pledges not in PLEDGE_MODES:
        raise _unknown("pledge mode", pledges, PLEDGE_MODES, "--pledges")
    if unit not in UNITS:
        raise _unknown("unit", unit, UNITS, "--unit")
    if coding not in CODING_MODES:
        raise _unknown("coding", coding, CODING_MODES, "--coding")
    sessions = vocab.sessions()
    f = Filters(
        sur=_countries(sur or (), "--sur"),
        rs=_countries(rs or (), "--rs"),
        sur_group=_lookup(sur_group or (), vocab.regional_group, "regional group", vocab.REGIONAL_GROUPS, "--sur-group"),
        rs_group=_lookup(rs_group or (), vocab.regional_group, "regional group", vocab.REGIONAL_GROUPS, "--rs-group"),
        sur_org=_lookup(sur_org or (), vocab.organisation, "organisation", vocab.ORGANISATIONS, "--sur-org"),
        rs_org=_lookup(rs_org or (), vocab.organisation, "organisation", vocab.ORGANISATIONS, "--rs-org"),
        response=_lookup(
            response or (),
            vocab.canonical_response,
            "response",
            [*vocab.CANONICAL_RESPONSES, *(r["spelling"] for r in vocab.response_spellings())],
            "--response",
        ),
        action=_numbers(action or (), "action category", vocab.action_categories(), "--action"),
        issue=_issues(issue or (), list(added_issues)),
        issue_mode=issue_mode,
        session=_numbers(session or (), "session", sessions, "--session"),
        cycle=_numbers(cycle or (), "cycle", {s.cycle for s in sessions.values()}, "--cycle"),
        year=_numbers(year or (), "year", range(2008, max(s.year for s in sessions.values()) + 1), "--year"),
        level=list(dict.fromkeys(vocab.resolve_level(v, "--level") for v in level or ())),
        pledges=pledges,
        text=text if text and text.strip() else None,
        theme=[t.strip() for t in theme or () if t.strip()],
        sdg=_lookup([str(v) for v in sdg or ()], vocab.sdg_number, "Sustainable Development Goal",
                    [vocab.sdg_label(n) for n in vocab.sdgs()], "--sdg"),
        group=[g.strip() for g in group or () if g.strip()],
        paragraph=[_paragraph(p) for p in paragraph or ()],
        unit=unit,
        coding=coding,
    )
    if "Voluntary Pledge" in f.response and f.pledges == "exclude":
        f.pledges = "include"  # asking for pledges by response means wanting them
    if f.text is not None:
        fts_query(f.text)  # fail early on a bad query
    return f


# --- full-text queries -------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<phrase>-?"[^"]*"\*?)|(?P<open>-?")|(?P<word>[^\s()"]+))')


@dataclass
class _Term:
    text: str
    phrase: bool
    prefix: bool

    def fts(self, lemmas: bool = True) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        if self.prefix:
            return ("text : " if lemmas else "") + quoted + "*"
        if not lemmas:
            return quoted
        # the words as written (Porter stems) or their lemmas in any of the three languages
        words = [w.lower() for w in WORD.findall(self.text)]
        variants = [" ".join(token(lemma(w, lang), lang) for w in words) for lang in LANGUAGES] if words else []
        variants = list(dict.fromkeys(variants))
        if not variants:
            return "text : " + quoted
        return "(text : " + quoted + " OR lemmas : (" + " OR ".join('"' + v + '"' for v in variants) + "))"


def _tokens(query: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group("lp"):
            out.append(("(", "("))
        elif m.group("rp"):
            out.append((")", ")"))
        elif m.group("open"):
            raise UsageError(f"unbalanced quote in the search text {query!r}", hint='close the phrase: "death penalty"')
        else:
            tok = m.group("phrase") or m.group("word")
            if tok in ("AND", "OR", "NOT"):
                out.append((tok, tok))
                continue
            if tok.startswith("-") and len(tok) > 1:
                out.append(("NOT", "-"))
                tok = tok[1:]
            out.append(("TERM", tok))
    return out


class _Parser:
    """or := and (OR and)* ; and := unary (AND? unary)* ; unary := NOT? primary ; primary := ( or ) | TERM"""

    def __init__(self, query: str, lemmas: bool = True):
        self.query = query
        self.lemmas = lemmas
        self.toks = _tokens(query)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i][0] if self.i < len(self.toks) else None

    def error(self, message: str, hint: str | None = None) -> UsageError:
        return UsageError(
            f"cannot read the search text {self.query!r}: {message}",
            hint=hint or 'write words, "quoted phrases", word* for a prefix, AND, OR, NOT (upper case) and parentheses',
        )

    def parse(self) -> str | None:
        if not self.toks:
            return None
        expr = self.or_expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.toks[self.i][1]!r}")
        return expr

    def or_expr(self) -> str | None:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.i += 1
            parts.append(self.and_expr())
        parts = [p for p in parts if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_expr(self) -> str | None:
        pos: list[str] = []
        neg: list[str] = []
        while True:
            tok = self.peek()
            if tok == "AND":
                self.i += 1
                tok = self.peek()
                if tok in (None, ")", "OR", "AND"):
                    raise self.error("AND needs a word on each side")
                continue
            if tok in (None, ")", "OR"):
                break
            negate = False
            if tok == "NOT":
                self.i += 1
                negate = True
                if self.peek() in (None, ")", "OR", "AND", "NOT"):
                    raise self.error("NOT needs a word or phrase after it")
            part = self.primary()
            if part:
                (neg if negate else pos).append(part)
        if neg and not pos:
            raise self.error("NOT needs something to subtract from", hint="search for something, then exclude: torture NOT children")
        if not pos:
            return None
        expr = pos[0] if len(pos) == 1 else "(" + " AND ".join(pos) + ")"
        for n in neg:
            expr = f"({expr} NOT {n})"
        return expr

    def primary(self) -> str | None:
        tok = self.peek()
        if tok == "(":
            self.i += 1
            inner = self.or_expr()
            if self.peek() != ")":
                raise self.error("a parenthesis is not closed")
            self.i += 1
            return inner
        if tok == "TERM":
            raw = self.toks[self.i][1]
            self.i += 1
            return _term(raw, self.lemmas)
        if tok is None:
            raise self.error("the text ends too early")
        raise self.error(f"unexpected {self.toks[self.i][1]!r}")


def _term(raw: str, lemmas: bool = True) -> str | None:
    prefix = raw.endswith("*")
    body = raw.rstrip("*")
    phrase = body.startswith('"')
    if phrase:
        body = body[1:-1]
    if not re.search(r"\w", body):
        return None  # punctuation only: nothing the index holds
    return _Term(body, phrase, prefix).fts(lemmas)


def fts_query(text: str, lemmas: bool = True) -> str:
    """Translate a user's search text into a safe FTS5 MATCH expression (raises UsageError).

    With `lemmas` (stores from migration m011 on), each word or phrase matches the text as
    written or its lemmas in English, French or Spanish (see lemmas.py).
    """
    expr = _Parser(text, lemmas).parse()
    if not expr:
        raise UsageError(f"nothing to search for in {text!r}", hint="give at least one word")
    return expr


# --- SQL ---------------------------------------------------------------------------------------


def has_lemmas(conn: sqlite3.Connection) -> bool:
    """True when the full-text index has the `lemmas` column (migration m011)."""
    return any(row[1] == "lemmas" for row in conn.execute("PRAGMA table_info(recommendations_fts)"))


def has_levels(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ? AND type IN ('view', 'table')", (LEVEL_VIEW,)).fetchone() is not None


def require_levels(conn: sqlite3.Connection) -> None:
    if not has_levels(conn):
        raise UsageError(
            f"this store has no implementation levels (the {LEVEL_VIEW} view is missing)",
            hint="implementation levels come with the follow-up commands: update upr, then reopen the store",
        )


def uses_predictions(f: Filters, conn: sqlite3.Connection | None) -> bool:
    """Whether `upr classify`'s predictions count here: --coding all and a store that holds some."""
    if f.coding != "all" or conn is None:
        return False
    try:
        return conn.execute("SELECT 1 FROM coding LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # a store from before `upr classify`
        return False


# the action category as counted: UPR Info's, else the prediction (only with predictions, see uses_predictions)
ACTION_ALL = "coalesce(r.action, (SELECT c.action FROM coding c WHERE c.rec_pk = r.pk))"


def _in(column: str, values: list, params: list) -> str:
    params.extend(values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def where_sql(f: Filters, conn: sqlite3.Connection | None = None) -> tuple[str, list]:
    """The WHERE clause (without the word) and its parameters, over `recommendations r`."""
    conds: list[str] = []
    params: list = []
    # with a full-text query, let the (usually short) list of matches drive: '+' keeps SQLite
    # from scanning the pledge index of every recommendation instead
    pledge = "+r.is_pledge" if f.text else "r.is_pledge"
    if f.pledges == "exclude":
        conds.append(f"{pledge} = 0")
    elif f.pledges == "only":
        conds.append(f"{pledge} = 1")
    if f.sur:
        conds.append(_in("r.sur", f.sur, params))
    if f.sur_group:
        conds.append("r.sur IN (SELECT iso3 FROM countries WHERE " + _in("regional_group", f.sur_group, params) + ")")
    if f.sur_org:
        conds.append("r.sur IN (SELECT iso3 FROM country_organisations WHERE " + _in("organisation", f.sur_org, params) + ")")
    if f.rs:
        conds.append("r.pk IN (SELECT rec_pk FROM recommending_states WHERE " + _in("iso3", f.rs, params) + ")")
    if f.rs_group:
        conds.append(
            "r.pk IN (SELECT rec_pk FROM recommending_states WHERE iso3 IN (SELECT iso3 FROM countries WHERE "
            + _in("regional_group", f.rs_group, params)
            + "))"
        )
    if f.rs_org:
        conds.append(
            "r.pk IN (SELECT rec_pk FROM recommending_states WHERE iso3 IN (SELECT iso3 FROM country_organisations WHERE "
            + _in("organisation", f.rs_org, params)
            + "))"
        )
    if f.response:
        conds.append(_in("r.response", f.response, params))
    predicted = uses_predictions(f, conn) if f.action or f.issue else False
    if f.action:
        conds.append(_in(ACTION_ALL if predicted else "r.action", f.action, params))
    if f.issue:
        # predicted issues only count for recommendations without UPR Info's issues
        extra = " UNION SELECT rec_pk FROM coding_issues WHERE {} AND rec_pk NOT IN (SELECT rec_pk FROM recommendation_issues)"
        if f.issue_mode == "any" or len(f.issue) == 1:
            sql = "r.pk IN (SELECT rec_pk FROM recommendation_issues WHERE " + _in("issue", f.issue, params)
            if predicted:
                sql += extra.format(_in("issue", f.issue, params))
            conds.append(sql + ")")
        else:
            for issue in f.issue:
                conds.append("r.pk IN (SELECT rec_pk FROM recommendation_issues WHERE issue = ?" + (extra.format("issue = ?") if predicted else "") + ")")
                params.extend([issue, issue] if predicted else [issue])
    if f.session:
        conds.append(_in("r.session", f.session, params))
    if f.cycle:
        conds.append(_in("r.cycle", f.cycle, params))
    if f.year:
        conds.append(_in("r.year", f.year, params))
    if f.level:
        if conn is not None:
            require_levels(conn)
        conds.append(_in(f"coalesce((SELECT level FROM {LEVEL_VIEW} lv WHERE lv.rec_pk = r.pk), 'not_assessed')", f.level, params))
    if f.theme:
        # the whole label, its code ("A12") or its name without the code, in any case
        ors = " OR ".join("lower(theme) = lower(?) OR theme LIKE ? || ' %' OR lower(theme) LIKE '% ' || lower(?)" for _ in f.theme)
        conds.append(f"r.pk IN (SELECT rec_pk FROM recommendation_themes WHERE {ors})")
        params.extend(v for t in f.theme for v in (t, t, t))
    if f.sdg:
        conds.append("r.pk IN (SELECT rec_pk FROM recommendation_sdgs WHERE " + _in("sdg", f.sdg, params) + ")")
    if f.group:
        ors = " OR ".join("lower(grp) = lower(?)" for _ in f.group)
        conds.append(f"r.pk IN (SELECT rec_pk FROM recommendation_groups WHERE {ors})")
        params.extend(f.group)
    if f.text:
        conds.append("r.pk IN (SELECT rowid FROM recommendations_fts WHERE recommendations_fts MATCH ?)")
        params.append(fts_query(f.text, has_lemmas(conn) if conn is not None else True))
    if f.paragraph:
        conds.append(_in("r.paragraph", f.paragraph, params))
    where = " AND ".join(conds) or "1"
    if f.unit == "paragraphs":
        # one matching record stands for its paragraph (State under review, session, number)
        where = (f"r.pk IN (SELECT min(r.pk) FROM recommendations r WHERE {where} "
                 "GROUP BY CASE WHEN r.paragraph IS NULL THEN 'pk' || r.pk ELSE r.sur || '|' || coalesce(r.session, '') || '|' || r.paragraph END)")
    return where, params


def execute(conn: sqlite3.Connection, sql: str, params: list | tuple = ()) -> sqlite3.Cursor:
    """Run a query built here; an FTS5 complaint becomes a UsageError, never a traceback."""
    try:
        return conn.execute(sql, params)
    except sqlite3.OperationalError as e:
        if "fts5" in str(e) or "MATCH" in str(e):
            raise UsageError(f"the search text cannot be used: {e}", hint='quote phrases ("death penalty") and use AND, OR, NOT in upper case') from e
        raise


def count(conn: sqlite3.Connection, f: Filters) -> int:
    """How many recommendations match, in the unit of `f` (pairs, or paragraphs)."""
    where, params = where_sql(f, conn)
    return execute(conn, f"SELECT count(*) FROM recommendations r WHERE {where}", params).fetchone()[0]


FIELDS = (
    "id",
    "sur",
    "sur_name",
    "session",
    "cycle",
    "year",
    "paragraph",
    "text",
    "language",
    "rs",
    "rs_names",
    "response",
    "response_raw",
    "action",
    "action_source",
    "action_confidence",
    "issues",
    "issues_source",
    "themes",
    "is_pledge",
    "document",
    "comment",
    "sdgs",
    "groups",
)
LIST_SEPARATOR = "; "
HUMAN_SOURCE = "upr-info"  # the source of coding that came with an imported file (UPR Info's coders)


def search(conn: sqlite3.Connection, f: Filters, *, limit: int | None = None, with_sources: bool = False) -> Iterator[dict]:
    """Matching recommendations with every field, in session, SuR, source order.

    Multi-valued fields (rs, rs_names, issues, themes) are joined with "; ". `rs` holds
    ISO3 codes ('' where the file named an unknown State); `level` and `iri` are added
    when the store has implementation levels; `sources` (with_sources) lists the files that
    described the record and the values each gave (`sources`).
    """
    where, params = where_sql(f, conn)
    levels = has_levels(conn)
    if uses_predictions(f, conn):  # UPR Info's coding where it exists, else the prediction, each with its source
        coding_cols = f"""{ACTION_ALL} AS action,
               CASE WHEN r.action IS NOT NULL THEN '{HUMAN_SOURCE}'
                    ELSE (SELECT c.action_source FROM coding c WHERE c.rec_pk = r.pk AND c.action IS NOT NULL) END AS action_source,
               (SELECT c.action_confidence FROM coding c WHERE c.rec_pk = r.pk AND r.action IS NULL AND c.action IS NOT NULL) AS action_confidence,
               coalesce((SELECT group_concat(issue, '{LIST_SEPARATOR}') FROM (SELECT issue FROM recommendation_issues WHERE rec_pk = r.pk ORDER BY issue)),
                        (SELECT group_concat(issue, '{LIST_SEPARATOR}') FROM (SELECT issue FROM coding_issues WHERE rec_pk = r.pk ORDER BY issue))) AS issues,
               CASE WHEN EXISTS (SELECT 1 FROM recommendation_issues WHERE rec_pk = r.pk) THEN '{HUMAN_SOURCE}'
                    ELSE (SELECT c.issues_source FROM coding c WHERE c.rec_pk = r.pk AND EXISTS (SELECT 1 FROM coding_issues ci WHERE ci.rec_pk = r.pk))
               END AS issues_source,"""
    else:
        coding_cols = f"""r.action, CASE WHEN r.action IS NOT NULL THEN '{HUMAN_SOURCE}' END AS action_source, NULL AS action_confidence,
               (SELECT group_concat(issue, '{LIST_SEPARATOR}') FROM
                   (SELECT issue FROM recommendation_issues WHERE rec_pk = r.pk ORDER BY issue)) AS issues,
               CASE WHEN EXISTS (SELECT 1 FROM recommendation_issues WHERE rec_pk = r.pk) THEN '{HUMAN_SOURCE}' END AS issues_source,"""
    level_cols = (
        f", lv.level AS level, lv.iri AS iri FROM recommendations r LEFT JOIN {LEVEL_VIEW} lv ON lv.rec_pk = r.pk" if levels else " FROM recommendations r"
    )
    sql = f"""
        SELECT r.pk, r.id, r.sur, c.name AS sur_name, r.session, r.cycle, r.year, r.paragraph, r.text,
               {"r.language" if has_lemmas(conn) else "NULL"} AS language,
               (SELECT group_concat(coalesce(iso3, ''), '{LIST_SEPARATOR}') FROM
                   (SELECT iso3 FROM recommending_states WHERE rec_pk = r.pk ORDER BY position)) AS rs,
               (SELECT group_concat(name, '{LIST_SEPARATOR}') FROM
                   (SELECT coalesce(rc.name, s.name_raw) AS name FROM recommending_states s LEFT JOIN countries rc ON rc.iso3 = s.iso3
                    WHERE s.rec_pk = r.pk ORDER BY s.position)) AS rs_names,
               r.response, r.response_raw, {coding_cols}
               (SELECT group_concat(theme, '{LIST_SEPARATOR}') FROM
                   (SELECT theme FROM recommendation_themes WHERE rec_pk = r.pk ORDER BY theme)) AS themes,
               r.is_pledge, r.document, r.comment,
               (SELECT group_concat(sdg, '{LIST_SEPARATOR}') FROM
                   (SELECT sdg FROM recommendation_sdgs WHERE rec_pk = r.pk ORDER BY sdg)) AS sdgs,
               (SELECT group_concat(grp, '{LIST_SEPARATOR}') FROM
                   (SELECT grp FROM recommendation_groups WHERE rec_pk = r.pk ORDER BY grp)) AS groups,
               r.import_id AS _import_id, r.source_row AS _source_row
               {level_cols}
        LEFT JOIN countries c ON c.iso3 = r.sur
        WHERE {where}
        ORDER BY r.session, r.sur, r.pk
    """
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, limit]
    linked: set[int] = set()
    imports: dict[int, tuple[str, str]] = {}
    if with_sources:  # one query per linked record only; a record with one source is described by its own row
        linked = {r[0] for r in conn.execute("SELECT DISTINCT rec_pk FROM record_sources")}
        imports = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, file_name, format FROM imports")}
    cur = execute(conn, sql, params)
    names = [d[0] for d in cur.description]
    for row in cur:
        rec = dict(zip(names, row))
        pk = rec.pop("pk")
        import_id, source_row = rec.pop("_import_id"), rec.pop("_source_row")
        rec["is_pledge"] = bool(rec["is_pledge"])
        if levels and rec["level"] is None:
            rec["level"] = "not_assessed"
        if with_sources:
            if pk in linked:
                rec["sources"] = sources(conn, pk)
            else:
                file, fmt = imports.get(import_id, (None, None))
                rec["sources"] = [{"file": file, "format": fmt, "row": source_row, "id": rec["id"], "values": None}]
        yield rec


# --- variants that would find many more ---------------------------------------------------------


def _variants(word: str) -> list[str]:
    """Forms of a search word that its lemmas do not join: the prefix (word*), and -s plurals/singulars."""
    out = [word + "s"] if not word.endswith("s") else [word[:-1]] if len(word) > 3 else []
    if len(word) >= 4:
        out.append(word + "*")
    return out


def variant_notes(conn: sqlite3.Connection, f: Filters, found: int, *, most: int = 3) -> list[str]:
    """Notes for stderr where a variant of a search word would find many more (at least twice as many, and 20 more).

    Only plain words that are not excluded are tried (at most `most` of them), each replaced by
    "(word OR variant)" in the same search with the same filters.
    """
    if not f.text:
        return []
    toks = _tokens(f.text)
    notes: list[str] = []
    tried = 0
    for i, (kind, raw) in enumerate(toks):
        if kind != "TERM" or raw.startswith('"') or raw.endswith("*") or not WORD.fullmatch(raw):
            continue
        if i and toks[i - 1][0] == "NOT":
            continue
        tried += 1
        if tried > most:
            break
        best: tuple[int, str] | None = None
        for v in _variants(raw):
            text = " ".join(
                f"({raw} OR {v})" if j == i else ("NOT" if k == "NOT" else t) for j, (k, t) in enumerate(toks)
            )
            n = count(conn, replace(f, text=text))
            if n >= 2 * found and n >= found + 20 and (best is None or n > best[0]):
                best = (n, v)
        if best:
            n, v = best
            what = f'words beginning with "{raw}"' if v.endswith("*") else f'"{v}"'
            how = v if v.endswith("*") else f"{raw} OR {v}"
            notes.append(f"note: {what} as well would find {n:,} (this search finds {found:,}); search for {how} to include them")
    return notes
def sources(conn: sqlite3.Connection, pk: int) -> list[dict]:
    """The files that described a record, each with the values it gave (a record never linked has one)."""
    rows = conn.execute(
        "SELECT s.import_id, s.source_id, s.source_row, i.file_name, i.format FROM record_sources s JOIN imports i ON i.id = s.import_id "
        "WHERE s.rec_pk = ? ORDER BY s.import_id",
        (pk,),
    ).fetchall()
    if not rows:
        rows = conn.execute(
            "SELECT r.import_id, r.id AS source_id, r.source_row, i.file_name, i.format FROM recommendations r "
            "LEFT JOIN imports i ON i.id = r.import_id WHERE r.pk = ?",
            (pk,),
        ).fetchall()
        return [{"file": r["file_name"], "format": r["format"], "row": r["source_row"], "id": r["source_id"], "values": None} for r in rows]
    out = []
    for r in rows:
        values = dict(conn.execute("SELECT field, value FROM field_values WHERE rec_pk = ? AND import_id = ? ORDER BY field",
                                   (pk, r["import_id"])).fetchall())
        out.append({"file": r["file_name"], "format": r["format"], "row": r["source_row"], "id": r["source_id"], "values": values})
    return out
