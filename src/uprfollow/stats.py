"""Tallies and cross-tabs of recommendations by any of the eight categories (and implementation level).

Counting rule (the same in `--help` and `docs/stats.md`): every matching recommendation
counts once in each value it has. Single-valued categories (SuR, its group, response,
action, session, cycle, year, level) partition the recommendations, so their counts add
up to the total. Multi-valued categories (issue, organisations of the SuR, the RS of a
joint recommendation and their groups and organisations) count a recommendation once per
value: a recommendation tagged with three issues counts once in each of the three, and a
recommendation made jointly by France and Germany counts once for France, once for
Germany, once (not twice) for WEOG and once for EU. Their counts add up to more than the
total. Percentages are of the total number of matching recommendations (`percent="total"`,
the default), or, in a cross-tab, of the recommendations having the row's value
(`"row"`: the accepted share of each session) or the column's value (`"column"`); a
recommendation counts once in a row's or column's base however many values it has.
A recommendation with no value for a category counts under "(none)"; an RS the file
could not identify, under "(unknown)".

How it is fast: a GROUP BY over a join of a million recommendations with their issues
makes SQLite sort millions of rows. Instead each category is read in index order as
one inverted list per value (`group_concat` of keys), and the lists are crossed with
numpy (`bincount` over pairs of codes). numpy is imported here
only, so `upr --help` does not pay for it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import vocab
from .errors import UsageError
from .query import ACTION_ALL, LEVEL_VIEW, Filters, execute, require_levels, uses_predictions, where_sql

if TYPE_CHECKING:
    import numpy as np

CATEGORIES: dict[str, str] = {
    "sur": "State under review",
    "rs": "Recommending State",
    "sur-group": "Regional group of the State under review",
    "rs-group": "Regional group of the recommending State",
    "sur-org": "Organisation of the State under review (multi-valued)",
    "rs-org": "Organisation of the recommending State (multi-valued)",
    "response": "Response of the State under review",
    "action": "Action category (1-5)",
    "issue": "Issue (multi-valued)",
    "session": "UPR session",
    "cycle": "UPR cycle",
    "year": "Year of the review",
    "level": "Implementation level (fully, partially, not, no_data, not_assessed)",
    "theme": "OHCHR theme (multi-valued)",
    "sdg": "Sustainable Development Goal (multi-valued)",
    "group": "Affected persons / group of persons (multi-valued)",
}
MULTI_VALUED = {"rs", "rs-group", "rs-org", "sur-org", "issue", "theme", "sdg", "group"}
JOINED_LISTS = {"theme": ("theme", "recommendation_themes"), "sdg": ("sdg", "recommendation_sdgs"), "group": ("grp", "recommendation_groups")}
NATURAL_ORDER = {"action", "session", "cycle", "year", "level", "response"}
NONE = "(none)"
UNKNOWN = "(unknown)"
OTHER = "(other)"
TRIGGERED = "triggered_action"


@dataclass
class Tally:
    """The result of `tally()`: long-form rows, plus what is needed to draw and explain them."""

    by: list[str]
    total: int
    unit: str = "pairs"
    rows: list[dict[str, Any]] = field(default_factory=list)
    values: list[list[Any]] = field(default_factory=list)  # ordered values of each category
    counts: dict[tuple, int] = field(default_factory=dict)
    triggered: dict[tuple, dict[str, Any]] = field(default_factory=dict)  # key: value of the other category, or ()
    percent: str = "total"  # what "percent" is of: total, row or column
    bases: list[dict[Any, int]] = field(default_factory=list)  # recommendations having each value, per category
    top: int | None = None
    tied: int = 0  # values kept beyond --top because they tie with the last one
    tie_count: int | None = None  # the tied count

    def share(self, key: tuple, n: int) -> float | None:
        """`n` as a percentage of the base that `percent` names, for the cell `key`."""
        if self.percent == "total" or len(key) < 2:
            base: int | None = self.total
        else:
            i = 0 if self.percent == "row" else 1
            base = self.bases[i].get(key[i]) if self.bases else None
        return round(100.0 * n / base, 2) if base else None
    predicted: dict[str, tuple[int, int]] = field(default_factory=dict)  # action/issue -> (predicted, coded) among the matches

    def label(self, i: int, value: Any) -> str:
        return value_label(self.by[i], value)


def category(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    aliases = {
        "state": "sur",
        "country": "sur",
        "recommending-state": "rs",
        "regional-group": "sur-group",
        "themes": "theme",
        "sdgs": "sdg",
        "groups": "group",
        "affected-persons": "group",
        "org": "sur-org",
        "issues": "issue",
        "responses": "response",
        "actions": "action",
        "sessions": "session",
        "cycles": "cycle",
        "years": "year",
        "levels": "level",
        "implementation": "level",
    }
    key = aliases.get(key, key)
    if key not in CATEGORIES:
        close = vocab.closest(name, list(CATEGORIES))
        hint = ("did you mean " + " or ".join(close) + "? " if close else "") + "categories: " + ", ".join(CATEGORIES)
        raise UsageError(f"unknown category {name!r} for --by", hint=hint)
    return key


def key_name(cat: str) -> str:
    return cat.replace("-", "_")


def value_label(cat: str, value: Any) -> str:
    """How a value reads in a table or chart: country names, action names, level words."""
    if value in (NONE, UNKNOWN, TRIGGERED):
        return {TRIGGERED: "triggered action (fully + partially)"}.get(value, value)
    if cat in ("sur", "rs"):
        c = vocab.countries().get(value)
        return f"{c.name} ({value})" if c else str(value)
    if cat == "sdg":
        return vocab.sdg_label(int(value))
    if cat == "action":
        a = vocab.action_categories().get(value)
        return f"{value} {a.name}" if a else str(value)
    if cat == "level":
        return vocab.level_label(value).lower() if value in vocab.ALL_LEVELS else str(value)
    return str(value)


# --- reading inverted lists ------------------------------------------------------------------


def _ints(text: str | None) -> np.ndarray:
    import numpy as np

    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")  # text mode: fast and not deprecated


@dataclass
class _Long:
    """A category in long form: one (pk, code) pair per recommendation and value."""

    pk: np.ndarray
    code: np.ndarray
    values: list[Any]
    single: bool = False  # exactly one value per key (single-valued categories)
    dedupe: bool = False  # the same (key, value) pair may come twice (RS of joint recommendations)
    at_most_one: bool = False  # single once the keys with no value get `fill`
    fill: str = NONE


def _r_columns(conn: sqlite3.Connection, f: Filters, cats: list[str]) -> tuple[np.ndarray, dict[str, _Long]]:
    """The matching keys and the single-valued categories read from `recommendations` itself, in one pass."""
    import numpy as np

    where, params = where_sql(f, conn)
    action = ACTION_ALL if uses_predictions(f, conn) else "r.action"
    columns = {"response": "r.response", "sur": "r.sur", "action": action, "session": "r.session", "cycle": "r.cycle", "year": "r.year"}
    if len(cats) == 1:
        # one category read in index order (response, with pledges left out): a GROUP BY without sorting
        sql = f"SELECT {columns[cats[0]]}, group_concat(r.pk) FROM recommendations r WHERE {where} GROUP BY 1"
        plan = " ".join(str(row[-1]) for row in execute(conn, f"EXPLAIN QUERY PLAN {sql}", params))
        if "TEMP B-TREE" not in plan and "COVERING INDEX" in plan:
            lists = [(NONE if v is None else v, t) for v, t in execute(conn, sql, params)]
            long = _from_lists(lists)
            long.single = True
            return long.pk, {cats[0]: long}
    exprs: list[str] = ["group_concat(r.pk)"]
    decode: list[tuple[str, list[Any] | None]] = []
    for cat in cats:
        if cat in ("response", "sur", "sur-group", "sur-org"):
            if cat == "response":
                values: list[Any] = list(vocab.CANONICAL_RESPONSES)
                column = "r.response"
            else:
                values = [row[0] for row in conn.execute("SELECT iso3 FROM countries ORDER BY iso3")]
                column = "r.sur"
            # the position of the value in a '|'-joined list is its code: no per-row subquery, no sort
            joined = "|" + "|".join(values) + "|"
            positions = {}
            pos = 1
            for v in values:
                positions[pos] = v
                pos += len(v) + 1
            # NULL -> -1 (none); a value missing from the list -> 0 (other)
            exprs.append(f"group_concat(coalesce(instr('{_sql_str(joined)}', '|' || {column} || '|'), -1))")
            decode.append((cat, [positions.get(i) for i in range(pos + 1)]))
        else:
            column = {"action": action, "session": "r.session", "cycle": "r.cycle", "year": "r.year"}[cat]
            exprs.append(f"group_concat(coalesce({column}, -1))")
            decode.append((cat, None))
    row = execute(conn, f"SELECT {', '.join(exprs)} FROM recommendations r WHERE {where}", params).fetchone()
    pks = _ints(row[0])
    out: dict[str, _Long] = {}
    for (cat, table), text in zip(decode, row[1:]):
        raw = _ints(text)
        if table is None:  # numbers: the code is the value, -1 is none
            uniq, code = np.unique(raw, return_inverse=True)
            values = [NONE if u == -1 else int(u) for u in uniq]
        else:
            uniq, code = np.unique(raw, return_inverse=True)
            values = [NONE if u == -1 else table[u] if 0 < u < len(table) and table[u] is not None else OTHER for u in uniq]
        out[cat] = _Long(pks, code.astype(np.int64), values, single=True)
    return pks, out


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _from_lists(rows: list[tuple[Any, str]], mapping: dict[Any, list[Any]] | None = None) -> _Long:
    """(value, group_concat of keys) rows -> long form; `mapping` sends one value to several (RS -> organisations)."""
    import numpy as np

    parts: list[np.ndarray] = []
    codes: list[int] = []
    values: list[Any] = []
    index: dict[Any, int] = {}
    for value, text in rows:
        keys = _ints(text)
        for t in mapping.get(value, [NONE]) if mapping is not None else [value]:
            if t not in index:
                index[t] = len(values)
                values.append(t)
            parts.append(keys)
            codes.append(index[t])
    if not parts:
        return _Long(np.zeros(0, np.int64), np.zeros(0, np.int64), [])
    lens = np.array([len(p) for p in parts], dtype=np.int64)
    return _Long(np.concatenate(parts), np.repeat(np.array(codes, dtype=np.int64), lens), values)


def _joined(conn: sqlite3.Connection, cat: str, sur_long: _Long | None, predicted: bool = False) -> _Long:
    """A category that lives outside `recommendations`, as a long form over every recommendation."""
    if cat == "issue":
        if predicted:  # `upr classify`'s issues for the recommendations UPR Info did not code
            return _from_lists(conn.execute(PREDICTED_ISSUES.format(pks="group_concat(rec_pk)")).fetchall())
        return _from_lists(conn.execute("SELECT issue, group_concat(rec_pk) FROM recommendation_issues GROUP BY issue").fetchall())
    if cat in JOINED_LISTS:
        col, table = JOINED_LISTS[cat]
        return _from_lists(conn.execute(f"SELECT {col}, group_concat(rec_pk) FROM {table} GROUP BY {col}").fetchall())
    if cat == "level":
        require_levels(conn)
        long = _from_lists(conn.execute(f"SELECT level, group_concat(rec_pk) FROM {LEVEL_VIEW} GROUP BY level").fetchall())
        long.at_most_one, long.fill = True, "not_assessed"
        return long
    if cat in ("rs", "rs-group", "rs-org"):
        rows = conn.execute("SELECT coalesce(iso3, ''), group_concat(rec_pk) FROM recommending_states GROUP BY iso3").fetchall()
        long = _from_lists([(v or UNKNOWN, t) for v, t in rows]) if cat == "rs" else _from_lists(rows, _country_mapping(conn, cat))
        long.dedupe = True
        return long
    raise AssertionError(cat)  # pragma: no cover


PREDICTED_ISSUES = """SELECT issue, {pks} FROM (SELECT issue, rec_pk FROM recommendation_issues UNION ALL
    SELECT issue, rec_pk FROM coding_issues WHERE rec_pk NOT IN (SELECT rec_pk FROM recommendation_issues)) GROUP BY issue"""


def _predicted_counts(conn: sqlite3.Connection, cat: str, mask: np.ndarray) -> tuple[dict[Any, int], int, int]:
    """Among the matching recommendations: value -> how many have it predicted, and (predicted, coded) in all."""
    import numpy as np

    if cat == "action":
        rows = conn.execute("SELECT c.action, group_concat(c.rec_pk) FROM coding c JOIN recommendations r ON r.pk = c.rec_pk "
                            "WHERE r.action IS NULL AND c.action IS NOT NULL GROUP BY c.action").fetchall()
        coded = conn.execute("SELECT group_concat(pk) FROM recommendations WHERE action IS NOT NULL").fetchone()[0]
    else:
        rows = conn.execute("SELECT issue, group_concat(rec_pk) FROM coding_issues WHERE rec_pk NOT IN "
                            "(SELECT rec_pk FROM recommendation_issues) GROUP BY issue").fetchall()
        coded = conn.execute("SELECT group_concat(DISTINCT rec_pk) FROM recommendation_issues").fetchone()[0]
    per_value: dict[Any, int] = {}
    predicted = np.zeros(len(mask), dtype=bool)
    for value, text in rows:
        keys = _ints(text)
        keys = keys[keys < len(mask)]
        keys = keys[mask[keys]]
        per_value[value] = len(keys)
        predicted[keys] = True
    human = _ints(coded)
    human = human[human < len(mask)]
    n_pred = int(predicted.sum())
    return per_value, n_pred, n_pred + int(mask[human].sum())


def _country_mapping(conn: sqlite3.Connection, cat: str) -> dict[Any, list[Any]]:
    """ISO3 -> its regional group or its organisations, from the store's vocabulary tables."""
    mapping: dict[Any, list[Any]] = {"": [UNKNOWN]}
    if cat.endswith("group"):
        for iso3, group in conn.execute("SELECT iso3, regional_group FROM countries"):
            mapping[iso3] = [group]
    else:
        for (iso3,) in conn.execute("SELECT iso3 FROM countries"):
            mapping[iso3] = []
        for iso3, org in conn.execute("SELECT iso3, organisation FROM country_organisations"):
            mapping[iso3].append(org)
        mapping = {k: (v or [NONE]) for k, v in mapping.items()}
    return mapping


def _map_sur(conn: sqlite3.Connection, sur: _Long, cat: str) -> _Long:
    """SuR codes -> its group or organisations (several rows per key for organisations)."""
    import numpy as np

    mapping = _country_mapping(conn, cat)
    values: list[Any] = []
    index: dict[Any, int] = {}
    src_rows: list[int] = []
    dst_codes: list[int] = []
    for src, iso3 in enumerate(sur.values):
        for t in mapping.get(iso3, [NONE]):
            if t not in index:
                index[t] = len(values)
                values.append(t)
            src_rows.append(src)
            dst_codes.append(index[t])
    src_arr = np.array(src_rows, dtype=np.int64)
    dst_arr = np.array(dst_codes, dtype=np.int64)
    # pair every (pk, sur code) with each target of that sur code
    order = np.argsort(src_arr, kind="stable")
    src_arr, dst_arr = src_arr[order], dst_arr[order]
    counts = np.bincount(src_arr, minlength=len(sur.values))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lens = counts[sur.code]
    pk = np.repeat(sur.pk, lens)
    offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(starts[sur.code], lens)
    return _Long(pk, dst_arr[offs], values, single=cat == "sur-group")


def _restrict(long: _Long, mask: np.ndarray, matched: np.ndarray) -> _Long:
    """Keep the matching keys, drop duplicate (key, value) pairs, add '(none)' for keys with no value."""
    import numpy as np

    keep = mask[long.pk]
    pk, code = long.pk[keep], long.code[keep]
    if long.dedupe:
        n = max(len(long.values), 1)
        pair = np.unique(pk * n + code)
        pk, code = pair // n, pair % n
    values = list(long.values)
    if not long.single:
        has = np.zeros(len(mask), dtype=bool)
        has[pk] = True
        missing = matched[~has[matched]]
        if len(missing):
            if long.fill not in values:
                values.append(long.fill)
            pk = np.concatenate([pk, missing])
            code = np.concatenate([code, np.full(len(missing), values.index(long.fill), dtype=np.int64)])
    return _Long(pk, code, values, single=long.single or long.at_most_one)


def _crosstab(a: _Long, b: _Long, size: int) -> np.ndarray:
    """Counts of recommendations per (value of a, value of b)."""
    import numpy as np

    na, nb = max(len(a.values), 1), max(len(b.values), 1)
    if b.single or a.single:
        dense_side, other = (b, a) if b.single else (a, b)
        dense = np.zeros(size, dtype=np.int64)
        dense[dense_side.pk] = dense_side.code
        if dense_side is b:
            return np.bincount(other.code * nb + dense[other.pk], minlength=na * nb).reshape(na, nb)
        return np.bincount(dense[other.pk] * nb + other.code, minlength=na * nb).reshape(na, nb)
    # both multi-valued: pair every entry of a with the entries of b for the same key
    order = np.argsort(b.pk, kind="stable")
    bpk, bcode = b.pk[order], b.code[order]
    per_key = np.bincount(bpk, minlength=size)
    first = np.concatenate([[0], np.cumsum(per_key)[:-1]])
    lens = per_key[a.pk]
    rep_a = np.repeat(a.code, lens)
    offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens) + np.repeat(first[a.pk], lens)
    return np.bincount(rep_a * nb + bcode[offs], minlength=na * nb).reshape(na, nb)


MMAP_BYTES = 1 << 30  # read-only scans: map the file instead of copying pages into the cache


def _start_joined(conn: sqlite3.Connection, cats: list[str], predicted: bool = False) -> dict[str, Any]:
    """Start reading the joined categories, each on its own connection and thread (sqlite3 releases the GIL)."""
    row = conn.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if not cats or not path:
        return {cat: None for cat in cats}
    from concurrent.futures import ThreadPoolExecutor

    def read(cat: str) -> _Long:
        from .store import open_store

        other = open_store(path, readonly=True, require_current=False).conn  # the caller's open checked it
        try:
            other.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            return _joined(other, cat, None, predicted)
        finally:
            other.close()

    pool = ThreadPoolExecutor(max_workers=len(cats))
    jobs = {cat: pool.submit(read, cat) for cat in cats}
    pool.shutdown(wait=False)
    return jobs


# --- the tally -------------------------------------------------------------------------------


def tally(conn: sqlite3.Connection, f: Filters, by: list[str], *, top: int | None = None, sort: str = "auto",
          percent: str = "total") -> Tally:
    """Count matching recommendations by one or two categories (see the module docstring for the rule).

    `top` keeps the N most frequent values of the first category, and every value tied with
    the Nth (`Tally.tied` says how many were added).
    """
    import numpy as np

    by = [category(b) for b in by]
    if not 1 <= len(by) <= 2:
        raise UsageError("give one or two --by categories", hint="e.g. --by issue, or --by response --by action")
    if len(set(by)) != len(by):
        raise UsageError(f"--by {by[0]} is given twice", hint="cross two different categories")
    if sort not in ("auto", "count", "value"):
        raise UsageError(f"unknown --sort {sort!r}", hint="auto, count or value")
    if top is not None and top < 1:
        raise UsageError("--top must be 1 or more")
    if percent not in ("total", "row", "column"):
        raise UsageError(f"unknown --percent {percent!r}", hint="row, column or total")
    if percent != "total" and len(by) == 1:
        raise UsageError(f"--percent {percent} needs two --by categories (a cross-tab)",
                         hint=f"e.g. --by session --by response --percent {percent}; with one --by, percentages are of the total")
    if "level" in by:
        require_levels(conn)
    if f.unit == "paragraphs" and (multi := [b for b in by if b in MULTI_VALUED or b == "level"]):
        raise UsageError(
            f"--unit paragraphs cannot count by {', '.join(multi)}: the pairs of one paragraph may differ in it",
            hint="count by a single-valued category (sur, response, action, session, cycle, year), or use --unit pairs",
        )
    r_cats = [c for c in by if c in ("response", "sur", "action", "session", "cycle", "year")]
    if ("sur-group" in by or "sur-org" in by) and "sur" not in r_cats:
        r_cats.append("sur")
    joined = [c for c in by if c in ("issue", "level", "rs", "rs-group", "rs-org", *JOINED_LISTS)]
    predicted = uses_predictions(f, conn) and bool({"action", "issue"} & set(by))
    pending = _start_joined(conn, joined, predicted)  # read in other threads while this one reads the recommendations
    try:
        matched, r_longs = _r_columns(conn, f, r_cats)
        joined_longs = {cat: job.result() if job is not None else _joined(conn, cat, None, predicted) for cat, job in pending.items()}
    finally:
        for job in pending.values():
            if job is not None:
                job.cancel()
    total = len(matched)
    result = Tally(by=by, total=total, percent=percent, top=top, unit=f.unit)
    if total == 0:
        result.values = [[] for _ in by]
        return result
    size = int(max(matched.max(), conn.execute("SELECT coalesce(max(pk), 0) FROM recommendations").fetchone()[0])) + 1
    mask = np.zeros(size, dtype=bool)
    mask[matched] = True
    longs: list[_Long] = []
    for cat in by:
        if cat in r_longs:
            long = r_longs[cat]
        elif cat in ("sur-group", "sur-org"):
            long = _map_sur(conn, r_longs["sur"], cat)
        else:
            long = joined_longs[cat]
        longs.append(_restrict(long, mask, matched))

    if len(by) == 1:
        table = np.bincount(longs[0].code, minlength=len(longs[0].values)).reshape(-1, 1)
        second: list[Any] = [None]
    else:
        table = _crosstab(longs[0], longs[1], size)
        second = longs[1].values
    first = longs[0].values
    row_tot = table.sum(axis=1)
    col_tot = table.sum(axis=0)

    # the base of each value: recommendations having it (once each, whatever else they have)
    bases = [np.bincount(long.code, minlength=len(long.values)) for long in longs]
    result.bases = [{v: int(b[i]) for i, v in enumerate(long.values)} for long, b in zip(longs, bases)]
    ranking = row_tot if len(by) == 2 else bases[0]
    order_a = [i for i in _order(by[0], first, ranking, sort, None) if row_tot[i] > 0]  # values no match has are left out
    if top is not None:
        order_a = [i for i in _order(by[0], first, ranking, sort, top) if row_tot[i] > 0]
        result.tied = max(0, len(order_a) - top)
        if result.tied:
            result.tie_count = sorted((int(ranking[i]) for i in order_a), reverse=True)[top - 1]
    order_b = [j for j in _order(by[1], second, col_tot, sort, None) if col_tot[j] > 0] if len(by) == 2 else [0]
    result.values = [[first[i] for i in order_a]] + ([[second[j] for j in order_b]] if len(by) == 2 else [])
    for i in order_a:
        for j in order_b:
            n = int(table[i, j])
            if n == 0:
                continue
            key = (first[i],) if len(by) == 1 else (first[i], second[j])
            result.counts[key] = n
            row = _row(by, key, n, total)
            row["percent"] = result.share(key, n)
            if len(by) == 2:
                row["percent_of"] = percent
            row["unit"] = f.unit  # JSON always names it; CSV/XLSX carry the column when it is not the default (see cli)
            result.rows.append(row)
    if "level" in by:
        _triggered(result, total)
    if predicted:  # say which counts are predictions: per value (one --by) and "N of M are predicted"
        for cat in (c for c in by if c in ("action", "issue")):
            per_value, n_pred, n_coded = _predicted_counts(conn, cat, mask)
            result.predicted[cat] = (n_pred, n_coded)
            if len(by) == 1:
                for row in result.rows:
                    row["predicted"] = per_value.get(row[key_name(cat)], 0)
    return result


def _order(cat: str, values: list[Any], totals: Any, sort: str, top: int | None) -> list[int]:
    idx = list(range(len(values)))
    special = {NONE: 1, UNKNOWN: 2}

    def natural(i: int) -> tuple:
        v = values[i]
        if cat == "level":
            return (special.get(v, 0), vocab.ALL_LEVELS.index(v) if v in vocab.ALL_LEVELS else 99, str(v))
        if cat == "response":
            return (special.get(v, 0), vocab.CANONICAL_RESPONSES.index(v) if v in vocab.CANONICAL_RESPONSES else 99, str(v))
        return (special.get(v, 0), v if isinstance(v, int) else 0, str(v))

    by_count = sorted(idx, key=lambda i: (special.get(values[i], 0) > 0, -int(totals[i]), str(values[i])))
    if top is not None:
        chosen = by_count[:top]
        # keep every value tied with the last one kept (special values never extend the list)
        while len(chosen) < len(by_count) and chosen and not special.get(values[by_count[len(chosen)]], 0) \
                and int(totals[by_count[len(chosen)]]) == int(totals[chosen[-1]]):
            chosen.append(by_count[len(chosen)])
        return chosen if sort != "value" else sorted(chosen, key=natural)
    if sort == "value" or (sort == "auto" and cat in NATURAL_ORDER):
        return sorted(idx, key=natural)
    return by_count


def _row(by: list[str], key: tuple, n: int, total: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for cat, value in zip(by, key):
        row[key_name(cat)] = value
        if cat in ("sur", "rs"):
            c = vocab.countries().get(value)
            row[f"{key_name(cat)}_name"] = c.name if c else value
        if cat == "action":
            a = vocab.action_categories().get(value)
            row["action_name"] = a.name if a else value
    row["count"] = n
    row["percent"] = round(100.0 * n / total, 2) if total else 0.0
    return row


def _triggered(result: Tally, total: int) -> None:
    """Add 'triggered action' (fully + partially) and the share of assessed recommendations."""
    li = result.by.index("level")
    others = result.values[1 - li] if len(result.by) == 2 else [None]
    new_rows: list[dict[str, Any]] = []
    for other in others:

        def get(level: str) -> int:
            if len(result.by) == 1:
                return result.counts.get((level,), 0)
            key = (level, other) if li == 0 else (other, level)
            return result.counts.get(key, 0)

        assessed = sum(get(lv) for lv in vocab.LEVELS)
        group_total = assessed + get("not_assessed")
        trig = get("fully") + get("partially")
        share = round(100.0 * trig / assessed, 2) if assessed else None
        result.triggered[() if other is None else (other,)] = {"count": trig, "assessed": assessed, "percent_of_assessed": share}
        for row in result.rows:
            if len(result.by) == 2 and row[key_name(result.by[1 - li])] != other:
                continue
            lv = row[key_name("level")]
            row["percent_of_assessed"] = round(100.0 * row["count"] / assessed, 2) if assessed and lv != "not_assessed" else None
        if group_total:
            key = (TRIGGERED,) if len(result.by) == 1 else ((TRIGGERED, other) if li == 0 else (other, TRIGGERED))
            row = _row(result.by, key, trig, total)
            if len(result.by) == 2:
                row["percent"] = result.share(key, trig)
                row["percent_of"] = result.percent
            row["percent_of_assessed"] = share
            new_rows.append(row)
    result.rows.extend(new_rows)


# --- chart -------------------------------------------------------------------------------------

PALETTE = ("#1f6f8b", "#e07a1f", "#3f9b4f", "#c23b3b", "#7a5aa6", "#8c6d46", "#d16aa8", "#6b6b6b", "#a8a82f", "#2fb0c0")


def _esc(text: Any) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text), {'"': "&quot;"})


def svg_chart(t: Tally, *, width: int = 760) -> str:
    """The tally as a horizontal bar chart in SVG (stacked bars with a legend for a cross-tab).

    With `percent="row"` each bar is its row's 100%: the share of each value of the second
    category, row by row (the accepted share over sessions), with the row's base at its end.
    """
    bar_h, gap, label_w, top_pad = 18, 6, 260, 40
    rows = t.values[0]
    second = t.values[1] if len(t.by) == 2 else [None]
    second = [v for v in second if v != TRIGGERED]

    def count(a: Any, b: Any) -> int:
        return t.counts.get((a,) if b is None else (a, b), 0)

    shares = len(t.by) == 2 and t.percent == "row"
    totals = [sum(count(a, b) for b in second) for a in rows]
    biggest = max(totals, default=0) or 1
    plot_w = width - label_w - 90
    legend_h = (20 * ((len(second) + 3) // 4) + 10) if len(t.by) == 2 else 0
    height = top_pad + len(rows) * (bar_h + gap) + legend_h + 20
    title = CATEGORIES[t.by[0]] + (f" × {CATEGORIES[t.by[1]]}" if len(t.by) == 2 else "")
    if shares:
        title = f"Share of each {t.by[1]} value, by {t.by[0]} (%)"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f"<title>{_esc(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{_esc(title)}</text>',
        f'<text x="{width - 10}" y="20" text-anchor="end" fill="#555">{t.total:,} recommendations</text>',
    ]
    for i, a in enumerate(rows):
        y = top_pad + i * (bar_h + gap)
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end">{_esc(value_label(t.by[0], a))}</text>')
        x = float(label_w)
        for j, b in enumerate(second):
            n = count(a, b)
            if not n:
                continue
            w = plot_w * n / biggest
            tip = value_label(t.by[0], a) + ("" if b is None else f" / {value_label(t.by[1], b)}") + f": {n:,}"
            label = ""
            if shares:
                pct = t.share((a, b), n) or 0.0
                w = plot_w * pct / 100
                tip += f" ({pct:.1f}%)"
                if w >= 34:
                    label = f'<text x="{x + w / 2:.2f}" y="{y + bar_h - 5}" text-anchor="middle" fill="white" font-size="10">{pct:.0f}%</text>'
            out.append(f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{bar_h}" fill="{PALETTE[j % len(PALETTE)]}"><title>{_esc(tip)}</title></rect>')
            if label:
                out.append(label)
            x += w
        end = f"n = {t.bases[0].get(a, 0):,}" if shares else f"{totals[i]:,}"
        out.append(f'<text x="{x + 5:.2f}" y="{y + bar_h - 5}" fill="#333">{end}</text>')
    if len(t.by) == 2:
        y0 = top_pad + len(rows) * (bar_h + gap) + 10
        for j, b in enumerate(second):
            x, y = 10 + (j % 4) * (width - 20) / 4, y0 + (j // 4) * 20
            out.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>')
            out.append(f'<text x="{x + 18:.1f}" y="{y + 11}">{_esc(value_label(t.by[1], b))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
