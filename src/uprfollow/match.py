"""Matching the rows of a filled response sheet to recommendations: pure functions over texts, no I/O.

By ID; else by paragraph number; else by text, first exact after normalising case, accents,
spaces and punctuation (`vocab.fold`), then fuzzy (rapidfuzz `fuzz.ratio` on the normalised
texts) at FUZZY_THRESHOLD or more. Candidates within FUZZY_MARGIN points of the best one count
as equally good: the recommending State(s) column may separate them; if it does not, the row
is ambiguous. A row that matches nothing is reported. Nothing is ever guessed.

The caller (ingest) loads the candidates from the store and turns outcomes into problems.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from . import vocab

FUZZY_THRESHOLD = 88.0  # rapidfuzz fuzz.ratio (0-100) on normalised texts
FUZZY_MARGIN = 3.0      # candidates this close to the best one are "about equally" good


def text_key(text: str) -> str:
    """A recommendation text as it counts for matching."""
    return vocab.fold(text)


@dataclass
class Rec:
    pk: int
    id: str
    sur: str
    session: int | None
    paragraph: str | None
    key: str
    rs: frozenset[str]
    text: str = ""  # as stored, for listing fuzzy matches


def norm_paragraph(value: str) -> str:
    m = re.search(r"\d+(?:\.\d+)*", value)
    return m.group(0) if m else vocab.fold(value)


def rs_codes(value: str) -> frozenset[str]:
    parts = [p.strip() for p in re.split(r"[;,/\n]|\band\b|\bet\b|\by\b", value) if p.strip()]
    return frozenset(c for p in parts if (c := vocab.country_code(p)))


class Matcher:
    """The recommendations of one State (one session if known), indexed for matching."""

    def __init__(self, rows: list[tuple[int, str, str, int | None, str | None, str]], rs: dict[int, set[str]] | None = None):
        """`rows`: (pk, id, sur, session, paragraph, text) of the candidate recommendations; `rs`: pk -> their RS codes."""
        rs = rs or {}
        self.recs = [Rec(r[0], r[1], r[2], r[3], r[4], text_key(r[5]), frozenset(rs.get(r[0], ())), r[5]) for r in rows]
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
            pick = by_rs(exact, rs)
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
        pick = by_rs([r for r, _ in close], rs)
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


def by_rs(cands: list[Rec], rs: frozenset[str]) -> Rec | None:
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



def fuzzy_among(cands: list[Rec], key: str) -> list[Rec]:
    """The candidates whose text is about equally close to `key`, at the threshold or more."""
    from rapidfuzz import fuzz

    scored = sorted(((fuzz.ratio(key, c.key), c) for c in cands), key=lambda x: -x[0])
    if not scored or scored[0][0] < FUZZY_THRESHOLD:
        return []
    return [c for s, c in scored if s >= scored[0][0] - FUZZY_MARGIN]


@dataclass
class Outcome:
    """What matching one row gave: the recommendation, how, and the score; or why not (`problem`, its column, hint)."""

    rec: Rec | None = None
    method: str = ""
    score: float = 0.0
    problem: str = ""
    column: str = ""
    hint: str = ""
    unmatched_key: str = ""


def excerpt(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def match_row(matcher: Matcher, id_recs: dict[str, Rec], *, rid: str, para: str, text: str, rs: frozenset[str],
              has_paragraph: bool, has_id: bool) -> Outcome:
    """Match one row (its ID, paragraph, text and recommending States) to one of `matcher`'s recommendations."""
    key = text_key(text) if text else ""
    rec: Rec | None = None
    method = ""
    if rid and rid in id_recs and id_recs[rid].pk in matcher.by_pk:
        rec, method = matcher.by_pk[id_recs[rid].pk], "id"
    elif para and has_paragraph:
        cands = matcher.by_para.get(norm_paragraph(para), [])
        if len(cands) == 1:
            rec, method = cands[0], "paragraph"
        elif len(cands) > 1 and key:
            pick = [c for c in cands if c.key == key] or fuzzy_among(cands, key)
            if len(pick) == 1:
                rec, method = pick[0], "paragraph+text"
    if rec is not None:
        other = matcher.text_conflict(rec, key, rs)
        if other is not None:
            col = "id" if method == "id" else "paragraph"
            return Outcome(problem=f"the {col} {rid or para!r} is {rec.id} but the text is that of {other.id}: {excerpt(text)!r}",
                           column=col, hint="the rows may have been sorted or pasted out of line; fix the ID/paragraph or the text")
        return Outcome(rec, method, 100.0)
    if not key:
        what = f"ID {rid!r}" if rid else f"paragraph {para!r}" if para else "nothing to match"
        col = "id" if rid and has_id else "paragraph" if para and has_paragraph else ""
        return Outcome(problem=f"no recommendation matches this row ({what}, no text)", column=col,
                       hint="copy the ID or the recommendation text from the sheet made by `upr sheet`")
    found, method, score, tied = matcher.by_text(key, rs)
    if found is not None:
        return Outcome(found, method, score)
    if method == "ambiguous":
        listed = " and ".join(f"{r.id} ({s:.0f})" for r, s in tied[:3])
        return Outcome(problem=f"the text matches {len(tied)} recommendations about equally: {listed}: {excerpt(text)!r}", column="text",
                       hint="add the ID column, or the recommending State(s), so the row names one recommendation")
    close = matcher.closest(key)
    hint = "copy the text (or the ID) from the sheet made by `upr sheet`"
    if close:
        hint = f"the closest is {close[0].id} at {close[1]:.0f}/100, below the {FUZZY_THRESHOLD:.0f} needed; " + hint
    return Outcome(problem=f"no recommendation matches the text {excerpt(text)!r}" + (f" (ID {rid!r} is not in the store)" if rid else ""),
                   column="text", hint=hint, unmatched_key=key)


@dataclass
class TextIndex:
    """Every recommendation text of the store (folded) -> the States it is addressed to."""

    keys: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs) -> TextIndex:
        """From (sur, text) pairs."""
        keys: dict[str, set[str]] = {}
        for sur, text in pairs:
            keys.setdefault(text_key(text), set()).add(sur)
        return cls(keys)

    def sur_by_text(self, keys: list[str], exclude: str | None = None) -> str | None:
        """The State most of these texts are recommendations to (exact matches; else fuzzy ones of a sample)."""
        if not keys:
            return None
        votes: Counter[str] = Counter()
        for k in keys:
            for s in self.keys.get(k, ()):
                if s != exclude:
                    votes[s] += 1
        if not votes:
            # retyped texts: vote with fuzzy matches of a sample of rows (each hit must name one State)
            from rapidfuzz import fuzz, process

            choices = list(self.keys)
            sample = keys[:: max(1, len(keys) // 25)][:25]
            for k in sample:
                hit = process.extractOne(k, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
                if hit:
                    surs = self.keys[hit[0]] - {exclude}
                    if len(surs) == 1:
                        votes[next(iter(surs))] += 1
            keys = sample
        if not votes:
            return None
        best, n = votes.most_common(1)[0]
        return best if n >= max(1, (len(keys) + 1) // 2) else None
