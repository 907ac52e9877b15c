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
from dataclasses import dataclass, field

from . import vocab
from .errors import UsageError

PLEDGE_MODES = ("exclude", "include", "only")
CODING_MODES = ("all", "human")  # `--coding`: human = UPR Info's coding only; all = also `upr classify`'s predictions
ISSUE_MODES = ("any", "all")
LEVELS = ("fully", "partially", "not", "no_data", "not_assessed")
LEVEL_VIEW = "recommendation_levels"
LEVEL_SPELLINGS = {
    "fully": "fully",
    "fully implemented": "fully",
    "full": "fully",
    "partially": "partially",
    "partially implemented": "partially",
    "partial": "partially",
    "not": "not",
    "not implemented": "not",
    "none": "not",
    "no data": "no_data",
    "no_data": "no_data",
    "nodata": "no_data",
    "not assessed": "not_assessed",
    "not_assessed": "not_assessed",
    "unassessed": "not_assessed",
}


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
    coding: str = "all"

    def describe(self) -> str:
        """A short human description, for messages ("sur=HTI, cycle=1")."""
        parts = []
        for name in ("sur", "rs", "sur_group", "rs_group", "sur_org", "rs_org", "response", "action", "issue", "session", "cycle", "year", "level"):
            values = getattr(self, name)
            if values:
                joiner = " and " if name == "issue" and self.issue_mode == "all" else "|"
                parts.append(f"{name.replace('_', '-')}={joiner.join(map(str, values))}")
        if self.text:
            parts.append(f"text={self.text!r}")
        if self.pledges != "exclude":
            parts.append(f"pledges={self.pledges}")
        if self.coding != "all":
            parts.append(f"coding={self.coding}")
        return ", ".join(parts)


def _unknown(what: str, value: str, choices: Iterable[str], option: str) -> UsageError:
    choices = list(choices)
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
        code = vocab.country_code(v)
        if code is None:
            raise UsageError(f"unknown country {v!r} for {option}", hint=vocab.country_hint(v))
        out.append(code)
    return list(dict.fromkeys(out))


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


def level_name(value: str) -> str | None:
    return LEVEL_SPELLINGS.get(vocab.fold(value)) or LEVEL_SPELLINGS.get(value.strip().lower())


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
    coding: str = "all",
) -> Filters:
    """Resolve user spellings into a `Filters`; raise UsageError with a suggestion for unknown values."""
    if issue_mode not in ISSUE_MODES:
        raise _unknown("issue mode", issue_mode, ISSUE_MODES, "--issue-mode")
    if pledges not in PLEDGE_MODES:
        raise _unknown("pledge mode", pledges, PLEDGE_MODES, "--pledges")
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
        issue=_lookup(issue or (), vocab.issue_name, "issue", vocab.issues(), "--issue"),
        issue_mode=issue_mode,
        session=_numbers(session or (), "session", sessions, "--session"),
        cycle=_numbers(cycle or (), "cycle", {s.cycle for s in sessions.values()}, "--cycle"),
        year=_numbers(year or (), "year", range(2008, max(s.year for s in sessions.values()) + 1), "--year"),
        level=_lookup(level or (), level_name, "implementation level", LEVELS, "--level"),
        pledges=pledges,
        text=text if text and text.strip() else None,
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

    def fts(self) -> str:
        quoted = '"' + self.text.replace('"', '""') + '"'
        return quoted + ("*" if self.prefix else "")


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

    def __init__(self, query: str):
        self.query = query
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
            return _term(raw)
        if tok is None:
            raise self.error("the text ends too early")
        raise self.error(f"unexpected {self.toks[self.i][1]!r}")


def _term(raw: str) -> str | None:
    prefix = raw.endswith("*")
    body = raw.rstrip("*")
    phrase = body.startswith('"')
    if phrase:
        body = body[1:-1]
    if not re.search(r"\w", body):
        return None  # punctuation only: nothing the index holds
    return _Term(body, phrase, prefix).fts()


def fts_query(text: str) -> str:
    """Translate a user's search text into a safe FTS5 MATCH expression (raises UsageError)."""
    expr = _Parser(text).parse()
    if not expr:
        raise UsageError(f"nothing to search for in {text!r}", hint="give at least one word")
    return expr


# --- SQL ---------------------------------------------------------------------------------------


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
    if f.text:
        conds.append("r.pk IN (SELECT rowid FROM recommendations_fts WHERE recommendations_fts MATCH ?)")
        params.append(fts_query(f.text))
    return (" AND ".join(conds) or "1"), params


def execute(conn: sqlite3.Connection, sql: str, params: list | tuple = ()) -> sqlite3.Cursor:
    """Run a query built here; an FTS5 complaint becomes a UsageError, never a traceback."""
    try:
        return conn.execute(sql, params)
    except sqlite3.OperationalError as e:
        if "fts5" in str(e) or "MATCH" in str(e):
            raise UsageError(f"the search text cannot be used: {e}", hint='quote phrases ("death penalty") and use AND, OR, NOT in upper case') from e
        raise


def count(conn: sqlite3.Connection, f: Filters) -> int:
    """How many recommendations match."""
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
)
LIST_SEPARATOR = "; "
HUMAN_SOURCE = "upr-info"  # the source of coding that came with an imported file (UPR Info's coders)


def search(conn: sqlite3.Connection, f: Filters, *, limit: int | None = None) -> Iterator[dict]:
    """Matching recommendations with every field, in session, SuR, source order.

    Multi-valued fields (rs, rs_names, issues, themes) are joined with "; ". `rs` holds
    ISO3 codes ('' where the file named an unknown State); `level` and `iri` are added
    when the store has implementation levels.
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
               (SELECT group_concat(coalesce(iso3, ''), '{LIST_SEPARATOR}') FROM
                   (SELECT iso3 FROM recommending_states WHERE rec_pk = r.pk ORDER BY position)) AS rs,
               (SELECT group_concat(name, '{LIST_SEPARATOR}') FROM
                   (SELECT coalesce(rc.name, s.name_raw) AS name FROM recommending_states s LEFT JOIN countries rc ON rc.iso3 = s.iso3
                    WHERE s.rec_pk = r.pk ORDER BY s.position)) AS rs_names,
               r.response, r.response_raw, {coding_cols}
               (SELECT group_concat(theme, '{LIST_SEPARATOR}') FROM
                   (SELECT theme FROM recommendation_themes WHERE rec_pk = r.pk ORDER BY theme)) AS themes,
               r.is_pledge, r.document, r.comment
               {level_cols}
        LEFT JOIN countries c ON c.iso3 = r.sur
        WHERE {where}
        ORDER BY r.session, r.sur, r.pk
    """
    if limit is not None:
        sql += " LIMIT ?"
        params = [*params, limit]
    cur = execute(conn, sql, params)
    names = [d[0] for d in cur.description]
    for row in cur:
        rec = dict(zip(names, row))
        rec.pop("pk")
        rec["is_pledge"] = bool(rec["is_pledge"])
        if levels and rec["level"] is None:
            rec["level"] = "not_assessed"
        yield rec
