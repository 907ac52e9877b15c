"""UPR Info's Implementation of the Recommendation Index (IRI), per recommendation and per State.

Each stakeholder's current assessment is a level: fully, partially, not implemented, or
no data. The IRI averages fully = 1, partially = 0.5, not = 0 ('no data' is left out),
rounds half-up to two decimals, and bands the result: 0.00-0.32 not implemented,
0.33-0.65 partially, 0.66-1.00 fully. A recommendation nobody commented on is
'not assessed'. It is disputed when its stakeholders give two or more different levels
among fully / partially / not (a 'no data' voice does not make a dispute).
The store's view `recommendation_levels` computes the same figures in SQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .store import Store
from .vocab import ALL_LEVELS, level_label

LEVEL_LABELS = {lv: level_label(lv, "en") for lv in ALL_LEVELS}
DOUBLED_SCORE = {"fully": 2, "partially": 1, "not": 0}


def iri(levels: list[str]) -> float | None:
    """The index of a list of levels, rounded half-up to two decimals; None when nothing is scored."""
    scored = [DOUBLED_SCORE[lv] for lv in levels if lv in DOUBLED_SCORE]
    if not scored:
        return None
    n = len(scored)
    return ((100 * sum(scored) + n) // (2 * n)) / 100


def band(value: float | None) -> str:
    """The level an index value maps to ('no_data' for None)."""
    if value is None:
        return "no_data"
    hundredths = round(value * 100)
    if hundredths >= 66:
        return "fully"
    if hundredths >= 33:
        return "partially"
    return "not"


def is_disputed(levels: list[str]) -> bool:
    return len({lv for lv in levels if lv in DOUBLED_SCORE}) > 1


@dataclass
class Voice:
    stakeholder: str
    type: str
    label: str | None
    level: str
    level_raw: str | None
    comment: str | None
    sources: str | None
    as_of: str | None
    file: str | None
    row: int | None


@dataclass
class RecStatus:
    pk: int
    id: str
    sur: str
    session: int | None
    paragraph: str | None
    text: str
    response: str | None
    action: int | None
    is_pledge: bool
    rs: list[str] = field(default_factory=list)          # ISO3 (or raw name when unknown)
    issues: list[str] = field(default_factory=list)
    voices: list[Voice] = field(default_factory=list)

    @property
    def iri(self) -> float | None:
        return iri([v.level for v in self.voices])

    @property
    def level(self) -> str:
        if not self.voices:
            return "not_assessed"
        return band(self.iri)

    @property
    def disputed(self) -> bool:
        return is_disputed([v.level for v in self.voices])


def statuses(
    store: Store,
    sur: str,
    *,
    session: int | None = None,
    cycle: int | None = None,
    include_pledges: bool = False,
) -> list[RecStatus]:
    """Every recommendation a State received (one session or cycle), with its current voices.

    All queries run in one read transaction, so a write committed meanwhile is seen whole or not at all.
    """
    with store.read():
        return _statuses(store, sur, session=session, cycle=cycle, include_pledges=include_pledges)


def received_any(store: Store, sur: str) -> bool:
    """Whether the store holds any recommendation (or pledge) to this State."""
    return store.conn.execute("SELECT 1 FROM recommendations WHERE sur = ? LIMIT 1", (sur,)).fetchone() is not None


def _statuses(store: Store, sur: str, *, session: int | None, cycle: int | None, include_pledges: bool) -> list[RecStatus]:
    where = ["r.sur = ?"]
    params: list = [sur]
    if session is not None:
        where.append("r.session = ?")
        params.append(session)
    if cycle is not None:
        where.append("r.cycle = ?")
        params.append(cycle)
    if not include_pledges:
        where.append("NOT r.is_pledge")
    conn = store.conn
    rows = conn.execute(
        f"SELECT pk, id, sur, session, paragraph, text, response, action, is_pledge FROM recommendations r "
        f"WHERE {' AND '.join(where)} ORDER BY r.session, r.pk",
        params,
    ).fetchall()
    out = {r["pk"]: RecStatus(r["pk"], r["id"], r["sur"], r["session"], r["paragraph"], r["text"], r["response"],
                              r["action"], bool(r["is_pledge"])) for r in rows}
    if not out:
        return []
    sub = f"SELECT pk FROM recommendations r WHERE {' AND '.join(where)}"
    for r in conn.execute(
        f"SELECT rec_pk, coalesce(iso3, name_raw) FROM recommending_states WHERE rec_pk IN ({sub}) ORDER BY rec_pk, position", params
    ):
        out[r[0]].rs.append(r[1])
    for r in conn.execute(f"SELECT rec_pk, issue FROM recommendation_issues WHERE rec_pk IN ({sub}) ORDER BY rec_pk, issue", params):
        out[r[0]].issues.append(r[1])
    for r in conn.execute(
        f"""SELECT a.rec_pk, s.name, s.type, s.label, a.level, a.level_raw, a.comment, a.sources, a.as_of, i.file_name, a.row
            FROM assessments a JOIN stakeholders s ON s.id = a.stakeholder_id LEFT JOIN ingests i ON i.id = a.ingest_id
            WHERE a.current = 1 AND a.rec_pk IN ({sub}) ORDER BY a.rec_pk, s.type = 'state' DESC, s.name""",
        params,
    ):
        out[r[0]].voices.append(Voice(*r[1:]))
    return list(out.values())


@dataclass
class Summary:
    """Counts of a set of recommendations by level, with shares and triggered action."""

    total: int
    counts: dict[str, int]
    disputed: int

    @property
    def assessed(self) -> int:
        return self.total - self.counts.get("not_assessed", 0)

    @property
    def triggered(self) -> int:
        return self.counts.get("fully", 0) + self.counts.get("partially", 0)

    def share(self, level: str) -> float:
        return self.counts.get(level, 0) / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            **{lv: self.counts.get(lv, 0) for lv in ALL_LEVELS},
            "assessed": self.assessed,
            "triggered_action": self.triggered,
            "disputed": self.disputed,
        }


def summarise(items: list[RecStatus]) -> Summary:
    counts = Counter(s.level for s in items)
    return Summary(total=len(items), counts={lv: counts.get(lv, 0) for lv in ALL_LEVELS},
                   disputed=sum(1 for s in items if s.disputed))


def summarise_by(items: list[RecStatus], key) -> dict[object, Summary]:
    groups: dict[object, list[RecStatus]] = {}
    for s in items:
        for k in key(s) if callable(key) else [getattr(s, key)]:
            groups.setdefault(k, []).append(s)
    return {k: summarise(v) for k, v in groups.items()}
