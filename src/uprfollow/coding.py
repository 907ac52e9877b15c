"""`upr classify`: the action category and the issues of recommendations that lack them.

Two ways to code, chosen by what the store holds:

- **learned** (`predicted`): linear models trained on the store's own UPR Info-coded
  recommendations (any UPR Info export the user imported): a linear SVM (one-vs-rest)
  for the action category and one linear SVM per issue, over word 1-2-grams
  (tf-idf) and "lead" features (the opening verb, the second verb of "continue and
  strengthen", a specific example after a general verb, the category the rules give).
- **rules** (`rules`), when fewer than `MIN_CODED` coded recommendations are there:
  UPR Info's published method (the first verb decides; "continue and strengthen" takes
  the second verb; a general action followed by a specific example is 5; recommendations
  to other States or asking for assistance are 1) with the verb table `data/action_verbs.csv`;
  issues from `data/issue_keywords.csv`; OHCHR themes and SDGs through `data/theme_issues.csv`.

Predictions never touch human coding: they live in `coding` / `coding_issues` (migration
m010) with their source, confidence and the fingerprint of the model; a record that has a
human value keeps it, and a later import of UPR Info's coding drops the prediction
(`drop_superseded`, `adopt_human`). Below `ACTION_MIN` / the issue threshold a value stays
empty ("(not coded)"). The model is stored as JSON and float32 arrays (never a pickle) and
retrained only when the fingerprint of the coded set changes, so running classify twice
changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from . import __version__, vocab
from .query import Filters, where_sql

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .store import Store

HUMAN, PREDICTED, RULES = "upr-info", "predicted", "rules"
MIN_CODED = 500          # fewer UPR Info-coded recommendations than this: rules, not a model
ACTION_MIN = 0.40        # a predicted action category below this confidence stays empty
ISSUE_MIN = 0.50         # a predicted issue below this confidence is left out
RULES_ISSUE_CONF = 0.70  # a keyword hit
THEME_CONF = 0.80        # an OHCHR theme / SDG that maps to the issue
THEME_BOOST = 0.6        # learned model: margin added to an issue an OHCHR theme points to
ISSUE_MARGIN = -0.3      # learned model: the SVM margin at which an issue is kept (confidence 0.5)
TOP_ISSUE_MARGIN = -0.8  # ... and the best issue is kept down to this margin (every recommendation has one)
MODEL_VERSION = 2        # bump when the features change: the fingerprint changes and the model is retrained
NGRAMS = (1, 2)
TOKEN_PATTERN = r"(?u)\b\w+\b"
LEAD_WEIGHT = 0.5
OPENING_WORDS = 4        # the first words after "the Government should ..." by position: action features
ACTION_ONLY = re.compile(r"p\d+=")  # lead features left out of the issue models
ACTION_SCALE = 3.0       # learned model: softmax(ACTION_SCALE x SVM scores) is the action category's confidence

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_FILLER = frozenset(
    "to that the government state authorities it also should please we recommend recommends recommended kindly "
    "urgently immediately promptly swiftly duly further fully effectively actively".split()
)
_ADVERBS = frozenset("further fully effectively actively urgently also duly swiftly promptly immediately".split())
_EXAMPLE_MARKERS = frozenset("by through including notably namely particularly especially via".split())
_SPECIFIC_NOUNS = {
    "adoption": "adopt", "ratification": "ratify", "establishment": "establish", "amendment": "amend",
    "amendments": "amend", "enactment": "enact", "abolition": "abolish", "creation": "create", "accession": "accede",
    "implementation": "implement", "repeal": "repeal", "revision": "amend", "elimination": "eliminate",
}
_ASSISTANCE = frozenset("assistance support cooperation help expertise".split())


# --- the rules ----------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _base(token: str, table: dict[str, int]) -> str | None:
    """The table's spelling of an inflected verb: 'ratifying', 'ensures', 'adopted' -> as listed."""
    if token in table:
        return token
    if table is vocab.action_verbs():
        return _verb_base(token)
    return _find_base(token, table)


@cache
def _verb_base(token: str) -> str | None:
    return _find_base(token, vocab.action_verbs())


def _find_base(token: str, table: dict[str, int]) -> str | None:
    if token in table:
        return token
    for suffix, add in (("ies", "y"), ("ied", "y"), ("ying", "y"), ("ing", ""), ("ing", "e"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("d", "")):
        if token.endswith(suffix) and len(token) > len(suffix) + 2:
            stem = token[: -len(suffix)] + add
            if stem in table:
                return stem
            if suffix == "ing" and len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in table:  # 'committing'
                return stem[:-1]
    return None


def _phrase_at(tokens: Sequence[str], i: int, table: dict[str, int]) -> tuple[str, int] | None:
    """The longest verb phrase of the table starting at token i, and how many tokens it takes."""
    for n in (4, 3, 2):
        if i + n <= len(tokens):
            phrase = " ".join(tokens[i : i + n])
            if phrase in table:
                return phrase, n
            first = _base(tokens[i], table)
            if first and " ".join([first, *tokens[i + 1 : i + n]]) in table:
                return " ".join([first, *tokens[i + 1 : i + n]]), n
    if i < len(tokens):
        base = _base(tokens[i], table)
        if base:
            return base, 1
    return None


@dataclass
class RuleAction:
    """What the rules say about a text's action category, and why."""

    level: int | None
    confidence: float
    verb: str | None = None        # the phrase that decided
    rule: str = ""                 # which principle applied
    runner_up: int | None = None
    first: str | None = None       # the opening verb (lead feature)
    second: str | None = None      # the second verb of "X and Y"
    example: str | None = None     # the specific example after a general verb


def rule_action(text: str) -> RuleAction:
    """UPR Info's method: the first verb decides, with its three exceptions."""
    table = vocab.action_verbs()
    tokens = words(text)
    i = 0
    while i < len(tokens) and tokens[i] in _FILLER and not (tokens[i] in table and i + 1 < len(tokens) and tokens[i + 1] not in _FILLER):
        i += 1
    hit = _phrase_at(tokens, i, table)
    confidence = 0.9
    if hit is None:  # the verb comes a little later ("The Government should as a matter of priority ratify")
        for j in range(i + 1, min(i + 8, len(tokens))):
            hit = _phrase_at(tokens, j, table)
            if hit:
                i, confidence = j, 0.6
                break
    if hit is None:
        return RuleAction(None, 0.0, rule="no known verb at the start")
    phrase, n = hit
    level = table[phrase]
    out = RuleAction(level, confidence, verb=phrase, rule="the first verb decides", first=phrase)
    # "Continue and strengthen": the second verb is privileged
    j = i + n
    if j < len(tokens) and tokens[j] in ("and", "or"):
        k = j + 1
        while k < len(tokens) and tokens[k] in _ADVERBS:
            k += 1
        second = _phrase_at(tokens, k, table)
        if second and table[second[0]] != level:
            out.second = second[0]
            out.runner_up, out.level, out.verb = level, table[second[0]], second[0]
            out.rule = "two opening verbs: the second one decides"
            level = out.level
    # to other States / asking for assistance
    if phrase in ("seek", "request", "ask", "accept", "invite") and _ASSISTANCE & set(tokens[j : j + 6]):
        out.runner_up, out.level, out.rule = (level if level != 1 else 4), 1, "asks for assistance"
        return out
    if level != 1 and ("international community" in text.lower()[:80] or (tokens[i : i + 2] == ["call", "on"])):
        out.runner_up, out.level, out.rule = level, 1, "addressed to States other than the State under review"
        return out
    # a general action followed by a specific example is category 5
    if level == 4:
        five = _level_five()
        for k in range(j, len(tokens) - 1):
            if tokens[k] in _EXAMPLE_MARKERS:
                nxt = tokens[k + 1 : k + 4]
                for t in nxt:
                    base = _base(t, table) if t.endswith("ing") else _SPECIFIC_NOUNS.get(t)
                    if base in five:
                        out.example = base
                        out.runner_up, out.level, out.verb = 4, 5, f"{phrase} ... {tokens[k]} {t}"
                        out.rule = "a general action followed by a specific example"
                        return out
    if out.runner_up is None:
        out.runner_up = {1: 4, 2: 4, 3: 4, 4: 5, 5: 4}[out.level]
    return out


@cache
def _level_five() -> frozenset[str]:
    return frozenset(v for v, lv in vocab.action_verbs().items() if lv == 5)


def _keyword_regex() -> tuple[re.Pattern[str], dict[str, list[str]]]:
    """One alternation of every keyword (longest first) and keyword -> issues: one pass over a text."""
    global _KEYWORDS
    if _KEYWORDS is None:
        issues: dict[str, list[str]] = {}
        for k, issue in vocab.issue_keywords():
            issues.setdefault(k, []).append(issue)
        _KEYWORDS = (re.compile(r"\b" + _trie_regex(list(issues))), issues)
    return _KEYWORDS


_KEYWORDS: tuple[re.Pattern[str], dict[str, list[str]]] | None = None


def _trie_regex(words: list[str]) -> str:
    """A regex matching any of `words`, longest first, written as a trie: the engine tries one
    branch per letter instead of every keyword at every word boundary (ten times faster here)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return body + ("?" if ends else "")

    return build(trie)


def keyword_hits(text: str) -> dict[str, str]:
    """Issue -> the first keyword of the table found in the text."""
    pattern, issues = _keyword_regex()
    out: dict[str, str] = {}
    for m in pattern.finditer(text.lower()):
        for issue in issues[m.group(0)]:
            out.setdefault(issue, m.group(0))
    return out


_THEME_CODE = re.compile(r"^\s*(?:SDG\s*)?([A-H]\d{1,2}|S\d{2})\b", re.IGNORECASE)
_SDG = re.compile(r"^\s*SDG\s*(\d{1,2})\b", re.IGNORECASE)


def theme_evidence(themes: Iterable[str]) -> dict[str, str]:
    """Issue -> the OHCHR theme or SDG that points to it."""
    table = vocab.theme_issues()
    out: dict[str, str] = {}
    for theme in themes:
        m = _SDG.match(theme)
        code = f"S{int(m.group(1)):02d}" if m else (_THEME_CODE.match(theme).group(1).upper() if _THEME_CODE.match(theme) else None)
        for issue in table.get(code or "", []):
            out.setdefault(issue, theme)
    return out


def rule_issues(text: str, themes: Iterable[str] = ()) -> dict[str, tuple[float, str]]:
    """Issue -> (confidence, the keyword or theme that found it)."""
    low = text.lower()
    out: dict[str, tuple[float, str]] = {}
    for issue, keyword in keyword_hits(low).items():
        out[issue] = (RULES_ISSUE_CONF, f"keyword {keyword!r}")
    for issue, theme in theme_evidence(themes).items():
        out[issue] = (THEME_CONF, f"theme {theme!r}")
    return out


def lead_features(text: str) -> list[str]:
    """The rule features the learned model sees beside the words; `p<k>=` (the opening words by position)
    are for the action category only (they cost the issues a little)."""
    r = rule_action(text)
    feats = [f"lv={r.level or 0}", f"rule={r.rule}"]
    tokens = words(text)
    i = 0
    while i < len(tokens) and tokens[i] in _FILLER:
        i += 1
    feats.extend(f"p{k}={t}" for k, t in enumerate(tokens[i : i + OPENING_WORDS]))
    if r.first:
        feats.append(f"fv={r.first}")
    if r.second:
        feats.append(f"sv={r.second}")
    if r.example:
        feats.append(f"ex={r.example}")
    feats.extend(f"kw={issue}" for issue in keyword_hits(text))
    return feats


# --- the learned model --------------------------------------------------------------------------


@dataclass
class Model:
    """A trained model as plain arrays and vocabularies (what the store keeps)."""

    fingerprint: str
    kind: str                      # 'learned' or 'rules'
    coded_rows: int
    vocabulary: list[str] = field(default_factory=list)       # word n-grams, column order
    lead_vocabulary: list[str] = field(default_factory=list)  # lead features, after the words
    idf: Any = None                                           # (n_words,)
    action_classes: list[int] = field(default_factory=list)
    action_coef: Any = None                                   # (n_classes, n_features)
    action_intercept: Any = None
    issue_names: list[str] = field(default_factory=list)
    issue_coef: Any = None                                    # (n_issues, n_features)
    issue_intercept: Any = None
    created_at: str = ""
    train_seconds: float = 0.0
    _vectorizer: Any = None
    _lead_index: dict[str, int] | None = None

    @property
    def source(self) -> str:
        return PREDICTED if self.kind == "learned" else RULES

    # -- serialisation: JSON + float32, never pickle
    ARRAYS = ("idf", "action_coef", "action_intercept", "issue_coef", "issue_intercept")

    def to_row(self) -> tuple[str, str, int, str, str, str, bytes | None]:
        import numpy as np

        spec: dict[str, Any] = {
            "model_version": MODEL_VERSION, "ngrams": list(NGRAMS), "token_pattern": TOKEN_PATTERN, "lead_weight": LEAD_WEIGHT,
            "vocabulary": self.vocabulary, "lead_vocabulary": self.lead_vocabulary, "action_classes": self.action_classes,
            "issue_names": self.issue_names, "train_seconds": self.train_seconds, "arrays": [],
        }
        blob = b""
        if self.kind == "learned":
            parts = []
            for name in self.ARRAYS:
                a = np.ascontiguousarray(getattr(self, name), dtype="<f4")
                spec["arrays"].append({"name": name, "shape": list(a.shape)})
                parts.append(a.tobytes())
            blob = b"".join(parts)
        return (self.fingerprint, self.kind, self.coded_rows, self.created_at, __version__, json.dumps(spec), blob or None)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Model:
        import numpy as np

        fingerprint, kind, coded_rows, created_at, _version, spec_text, blob = row
        spec = json.loads(spec_text)
        m = cls(fingerprint, kind, coded_rows, spec["vocabulary"], spec["lead_vocabulary"], None, spec["action_classes"], None, None,
                spec["issue_names"], None, None, created_at, spec.get("train_seconds", 0.0))
        offset = 0
        for a in spec["arrays"]:
            n = math.prod(a["shape"])
            arr = np.frombuffer(blob, dtype="<f4", count=n, offset=offset).reshape(a["shape"]).astype(np.float32)
            offset += 4 * n
            setattr(m, a["name"], arr)
        return m

    # -- features
    def features(self, texts: Sequence[str]):
        """tf-idf of the word n-grams (l2), then the lead features, as one sparse matrix."""
        import numpy as np
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        if self._vectorizer is None:
            self._vectorizer = CountVectorizer(vocabulary={t: i for i, t in enumerate(self.vocabulary)}, ngram_range=NGRAMS,
                                               token_pattern=TOKEN_PATTERN, dtype=np.float32)
            self._lead_index = {t: i for i, t in enumerate(self.lead_vocabulary)}
        counts = self._vectorizer.transform(texts).astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)
        words_x = normalize(counts @ sp.diags(self.idf.astype(np.float32)))
        return sp.hstack([words_x, _lead_matrix(texts, self._lead_index or {})], format="csr", dtype=np.float32)


def _lead_matrix(texts: Sequence[str], index: dict[str, int]):
    import numpy as np
    import scipy.sparse as sp

    rows, cols = [], []
    for r, text in enumerate(texts):
        for f in lead_features(text):
            c = index.get(f)
            if c is not None:
                rows.append(r)
                cols.append(c)
    data = np.full(len(rows), LEAD_WEIGHT, dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(index)), dtype=np.float32)


def train(texts: Sequence[str], actions: Sequence[int | None], issues: Sequence[Sequence[str]], *, fingerprint: str = "") -> Model:
    """Fit the two linear models on coded texts (actions None / issues [] where that part is uncoded)."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    started = time.perf_counter()
    coded_rows = len(texts)
    # UPR Info's exports repeat a joint recommendation once per recommending State: train on each distinct
    # (text, coding) once, weighted by its count (the same objective, in a fraction of the time)
    weight_of: dict[tuple[str, int | None, tuple[str, ...]], int] = {}
    for t, a, i in zip(texts, actions, issues):
        key = (t, a, tuple(sorted(i)))
        weight_of[key] = weight_of.get(key, 0) + 1
    texts = [k[0] for k in weight_of]
    actions = [k[1] for k in weight_of]
    issues = [list(k[2]) for k in weight_of]
    weights = np.array(list(weight_of.values()), dtype=np.float64)
    tfidf = TfidfVectorizer(ngram_range=NGRAMS, min_df=2, sublinear_tf=True, token_pattern=TOKEN_PATTERN, dtype=np.float32)
    words_x = tfidf.fit_transform(texts)
    vocabulary = [""] * len(tfidf.vocabulary_)
    for term, i in tfidf.vocabulary_.items():
        vocabulary[i] = term
    leads = [lead_features(t) for t in texts]
    lead_vocabulary = sorted({f for fs in leads for f in fs})
    lead_index = {f: i for i, f in enumerate(lead_vocabulary)}
    rows = [r for r, fs in enumerate(leads) for f in fs]
    cols = [lead_index[f] for fs in leads for f in fs]
    lead_x = sp.csr_matrix((np.full(len(rows), LEAD_WEIGHT, np.float32), (rows, cols)), shape=(len(texts), len(lead_vocabulary)))
    x = sp.hstack([words_x, lead_x], format="csr", dtype=np.float32)
    model = Model(fingerprint, "learned", coded_rows, vocabulary, lead_vocabulary, tfidf.idf_.astype(np.float32))

    has_action = np.array([a is not None for a in actions])
    y = np.array([a for a in actions if a is not None], dtype=np.int64)
    if has_action.sum() and len(set(y.tolist())) > 1:
        svm = LinearSVC(C=0.3)  # one-vs-rest; as accurate as a logistic regression here, and 5-10 times faster to train
        svm.fit(x[has_action], y, sample_weight=weights[has_action])
        model.action_classes = [int(c) for c in svm.classes_]
        model.action_coef, model.action_intercept = svm.coef_.astype(np.float32), svm.intercept_.astype(np.float32)
    else:
        model.action_coef, model.action_intercept = np.zeros((0, x.shape[1]), np.float32), np.zeros(0, np.float32)

    has_issues = np.array([bool(i) for i in issues])
    issue_cols = np.array([True] * len(vocabulary) + [not ACTION_ONLY.match(f) for f in lead_vocabulary])
    xi, wi = x[has_issues][:, issue_cols], weights[has_issues]
    names = sorted({i for row in issues for i in row})
    coefs, intercepts = [], []
    kept = []
    for name in names:
        yy = np.array([name in row for row, h in zip(issues, has_issues) if h])
        if yy.sum() < 2 or yy.all():
            continue
        svm = LinearSVC(C=0.5)
        svm.fit(xi, yy, sample_weight=wi)
        kept.append(name)
        full = np.zeros(x.shape[1], dtype=np.float32)
        full[issue_cols] = svm.coef_[0]
        coefs.append(full)
        intercepts.append(np.float32(svm.intercept_[0]))
    model.issue_names = kept
    model.issue_coef = np.vstack(coefs) if coefs else np.zeros((0, x.shape[1]), np.float32)
    model.issue_intercept = np.array(intercepts, dtype=np.float32)
    model.train_seconds = round(time.perf_counter() - started, 2)
    model.created_at = datetime.now(UTC).isoformat(timespec="seconds")
    return model


def rules_model(fingerprint: str, coded_rows: int) -> Model:
    return Model(fingerprint, "rules", coded_rows, created_at=datetime.now(UTC).isoformat(timespec="seconds"))


# --- predictions --------------------------------------------------------------------------------


@dataclass
class Prediction:
    action: int | None               # None: below ACTION_MIN (or nothing to go on)
    action_confidence: float
    runner_up: int | None
    runner_up_confidence: float
    issues: dict[str, float]         # issue -> confidence, only those kept
    why_action: list[str] = field(default_factory=list)
    why_issues: dict[str, str] = field(default_factory=dict)
    issue_runner_up: tuple[str, float] | None = None


def _softmax(z: np.ndarray) -> np.ndarray:
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-z))


def issue_confidence(margin):
    """An SVM margin as a 0-1 confidence: 0.5 at ISSUE_MARGIN, where an issue starts to be kept."""
    return _sigmoid(3.0 * (margin - ISSUE_MARGIN))


def predict(model: Model, texts: Sequence[str], themes: Sequence[Sequence[str]] | None = None, *, explain: bool = False) -> list[Prediction]:
    themes = themes if themes is not None else [[] for _ in texts]
    if model.kind == "rules":
        return [_predict_rules(t, th) for t, th in zip(texts, themes)]
    import numpy as np

    out: list[Prediction] = []
    for lo in range(0, len(texts), 20_000):  # bounded memory on a large store
        chunk, chunk_themes = texts[lo : lo + 20_000], themes[lo : lo + 20_000]
        x = model.features(chunk)
        if len(model.action_classes):
            proba = _softmax(ACTION_SCALE * (np.asarray(x @ model.action_coef.T) + model.action_intercept))
        else:
            proba = np.zeros((len(chunk), 0))
        margins = np.asarray(x @ model.issue_coef.T) + model.issue_intercept if len(model.issue_names) else np.zeros((len(chunk), 0))
        issue_col = {n: j for j, n in enumerate(model.issue_names)}
        evidence_of = [theme_evidence(th) if th else {} for th in chunk_themes]
        for r, evidence in enumerate(evidence_of):
            for issue in evidence:
                if issue in issue_col:
                    margins[r, issue_col[issue]] += THEME_BOOST
        if proba.shape[1]:
            order_a = np.argsort(-proba, axis=1)[:, :2]
        if margins.shape[1]:
            conf_i = issue_confidence(margins)
            top2 = np.argsort(-margins, axis=1)[:, :2]
            kept_r, kept_c = np.nonzero(margins >= ISSUE_MARGIN)
            kept: list[list[int]] = [[] for _ in chunk]
            for rr, cc in zip(kept_r.tolist(), kept_c.tolist()):
                kept[rr].append(cc)
        names = model.issue_names
        for r in range(len(chunk)):
            evidence = evidence_of[r]
            p = Prediction(None, 0.0, None, 0.0, {})
            if proba.shape[1]:
                best = int(order_a[r, 0])
                second = int(order_a[r, 1]) if order_a.shape[1] > 1 else best
                p.action_confidence = float(proba[r, best])
                p.action = model.action_classes[best] if p.action_confidence >= ACTION_MIN else None
                p.runner_up, p.runner_up_confidence = model.action_classes[second], float(proba[r, second])
                if explain:
                    p.why_action = _top_terms(model, x[r], model.action_coef[best] - model.action_coef[second])
            if margins.shape[1]:
                cols = sorted(kept[r], key=lambda c: -margins[r, c])
                first = int(top2[r, 0])
                if not cols and margins[r, first] >= TOP_ISSUE_MARGIN:  # every UPR Info recommendation has an issue
                    cols = [first]
                keep = {names[c]: float(conf_i[r, c]) for c in cols}
                p.issues = keep
                runner = next((int(c) for c in top2[r] if names[c] not in keep), None)
                if runner is None and len(names) > len(keep):
                    runner = next(j for j in np.argsort(-margins[r]).tolist() if names[j] not in keep)
                if runner is not None:
                    p.issue_runner_up = (names[runner], float(conf_i[r, runner]))
                if explain:
                    for name in keep:
                        j = issue_col[name]
                        terms = _top_terms(model, x[r], model.issue_coef[j], n=4)
                        p.why_issues[name] = ", ".join(terms) + (f"; theme {evidence[name]!r}" if name in evidence else "")
            out.append(p)
    return out


def _top_terms(model: Model, row, weights, n: int = 5) -> list[str]:
    """The features of one text that pushed most towards a class (weight x value)."""
    import numpy as np

    idx = row.indices
    contrib = row.data * weights[idx]
    names = model.vocabulary + model.lead_vocabulary
    order = np.argsort(-contrib)[:n]
    return [f"{names[idx[k]]!r} {contrib[k]:+.2f}" for k in order if contrib[k] > 0]


def _predict_rules(text: str, themes: Sequence[str]) -> Prediction:
    r = rule_action(text)
    found = rule_issues(text, themes)
    p = Prediction(
        r.level if r.level and r.confidence >= ACTION_MIN else None, r.confidence, r.runner_up, 0.0,
        {k: c for k, (c, _) in found.items() if c >= ISSUE_MIN},
        why_action=[f"{r.rule}: {r.verb!r}" if r.verb else r.rule],
        why_issues={k: why for k, (_, why) in found.items()},
    )
    return p


# --- the store ----------------------------------------------------------------------------------


def _human_rows(conn: sqlite3.Connection) -> Iterable[tuple[int, str, str, int | None, str | None]]:
    """(pk, id, text, human action, human issues '|'-joined) of every UPR Info-coded recommendation, in id order."""
    return conn.execute(
        "SELECT r.pk, r.id, r.text, r.action, (SELECT group_concat(issue, '|') FROM (SELECT issue FROM recommendation_issues i "
        "WHERE i.rec_pk = r.pk ORDER BY issue)) FROM recommendations r "
        "WHERE r.is_pledge = 0 AND (r.action IS NOT NULL OR r.pk IN (SELECT rec_pk FROM recommendation_issues)) ORDER BY r.id"
    )


def _tables_signature() -> str:
    h = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    for name in ("action_verbs.csv", "issue_keywords.csv", "theme_issues.csv"):
        h.update((vocab.data_dir() / name).read_bytes())
    return h.hexdigest()[:8]


def coded_set(conn: sqlite3.Connection) -> tuple[str, list[tuple[str, int | None, list[str]]]]:
    """The fingerprint of the UPR Info-coded set (ids and values, plus the rule tables) and the set itself."""
    h = hashlib.sha256()
    rows = []
    for _pk, rid, text, action, issues in _human_rows(conn):
        h.update(f"{rid}\x1f{action or ''}\x1f{issues or ''}\x1e".encode())
        rows.append((text, action, issues.split("|") if issues else []))
    kind = "learned" if len(rows) >= MIN_CODED else "rules"
    return f"{kind[0]}{len(rows)}-{h.hexdigest()[:12]}-{_tables_signature()}", rows


def has_tables(conn: sqlite3.Connection) -> bool:
    """Whether the store has the tables of migration m010 (a read-only open of an older store has not)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'coding_models'").fetchone() is not None


def load_model(conn: sqlite3.Connection, fingerprint: str) -> Model | None:
    if not has_tables(conn):
        return None
    row = conn.execute(
        "SELECT fingerprint, kind, coded_rows, created_at, tool_version, spec, weights FROM coding_models WHERE fingerprint = ?", (fingerprint,)
    ).fetchone()
    return Model.from_row(tuple(row)) if row else None


def current_model(store: Store, *, save: bool = True) -> tuple[Model, bool]:
    """The model for the store's coded set: stored, or trained now (saved unless `save` is False). -> (model, trained)."""
    fingerprint, rows = coded_set(store.conn)
    model = load_model(store.conn, fingerprint)
    if model is not None:
        return model, False
    if len(rows) >= MIN_CODED:
        model = train([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], fingerprint=fingerprint)
    else:
        model = rules_model(fingerprint, len(rows))
    if save:
        with store.write() as conn:
            save_model(conn, model)
    return model, True


def save_model(conn: sqlite3.Connection, model: Model) -> None:
    conn.execute("INSERT OR REPLACE INTO coding_models (fingerprint, kind, coded_rows, created_at, tool_version, spec, weights) "
                 "VALUES (?,?,?,?,?,?,?)", model.to_row())


def drop_superseded(conn: sqlite3.Connection) -> int:
    """Drop predicted values where UPR Info's (human) coding is now present; inside a write transaction. -> values dropped."""
    n = conn.execute(
        "UPDATE coding SET action = NULL, action_source = NULL, action_confidence = NULL "
        "WHERE action_source IS NOT NULL AND rec_pk IN (SELECT pk FROM recommendations WHERE action IS NOT NULL)"
    ).rowcount
    n += conn.execute("DELETE FROM coding_issues WHERE rec_pk IN (SELECT rec_pk FROM recommendation_issues)").rowcount
    conn.execute("UPDATE coding SET issues_source = NULL WHERE issues_source IS NOT NULL AND rec_pk IN (SELECT rec_pk FROM recommendation_issues)")
    conn.execute("DELETE FROM coding WHERE action_source IS NULL AND issues_source IS NULL")
    return n


def adopt_human(conn: sqlite3.Connection, coded: Iterable[tuple[str, int | None, Sequence[str]]]) -> int:
    """An import brought UPR Info coding for recommendations already in the store that carry predictions:
    the human values replace the predictions. `coded` is (id, action, issues). Inside the import's transaction."""
    if conn.execute("SELECT 1 FROM coding LIMIT 1").fetchone() is None:
        return 0
    predicted = dict(conn.execute("SELECT r.id, r.pk FROM coding c JOIN recommendations r ON r.pk = c.rec_pk").fetchall())
    n = 0
    for rid, action, issues in coded:
        pk = predicted.get(rid)
        if pk is None or (action is None and not issues):
            continue
        if action is not None:
            n += conn.execute("UPDATE recommendations SET action = ? WHERE pk = ? AND action IS NULL", (action, pk)).rowcount
        if issues and conn.execute("SELECT 1 FROM recommendation_issues WHERE rec_pk = ?", (pk,)).fetchone() is None:
            conn.executemany("INSERT INTO recommendation_issues (rec_pk, issue) VALUES (?,?)", [(pk, i) for i in issues])
            n += 1
    drop_superseded(conn)
    return n


@dataclass
class ClassifyResult:
    model: Model
    trained: bool
    in_scope: int = 0                # matching recommendations
    human_complete: int = 0          # with UPR Info's action and issues: nothing to do
    unchanged: int = 0               # already coded by this model
    classified: int = 0              # written now (or would be, with dry_run)
    action_coded: int = 0            # of those: an action category at or above the threshold
    action_uncoded: int = 0
    issues_coded: int = 0
    issues_uncoded: int = 0
    dropped: int = 0                 # predictions dropped because human coding arrived
    dry_run: bool = False
    rows: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("model", "rows")}
        d.update(model=self.model.fingerprint, source=self.model.source, coded_rows=self.model.coded_rows)
        return d


def classify(store: Store, f: Filters, *, dry_run: bool = False, keep_rows: bool = False) -> ClassifyResult:
    """Predict what is missing for every matching recommendation without human coding (see the module docstring)."""
    conn = store.conn
    model, trained = current_model(store, save=False)  # saved with the predictions, in one transaction
    result = ClassifyResult(model, trained, dry_run=dry_run)
    where, params = where_sql(f, conn)
    model_col, join = ("c.model", "LEFT JOIN coding c ON c.rec_pk = r.pk") if has_tables(conn) else ("NULL", "")
    rows = conn.execute(
        f"""SELECT r.pk, r.id, r.text, r.action IS NULL,
                   NOT EXISTS (SELECT 1 FROM recommendation_issues i WHERE i.rec_pk = r.pk),
                   {model_col},
                   (SELECT group_concat(theme, '\x1f') FROM recommendation_themes t WHERE t.rec_pk = r.pk)
            FROM recommendations r {join} WHERE {where} ORDER BY r.pk""",
        params,
    ).fetchall()
    result.in_scope = len(rows)
    todo = []
    for pk, rid, text, no_action, no_issues, model_fp, themes in rows:
        if not no_action and not no_issues:
            result.human_complete += 1
        elif model_fp == model.fingerprint:
            result.unchanged += 1
        else:
            todo.append((pk, rid, text, bool(no_action), bool(no_issues), themes.split("\x1f") if themes else []))
    preds = predict(model, [t[2] for t in todo], [t[5] for t in todo])
    writes_coding, writes_issues = [], []
    for (pk, rid, _text, no_action, no_issues, _themes), p in zip(todo, preds):
        action = p.action if no_action else None
        issues = p.issues if no_issues else {}
        result.classified += 1
        if no_action:
            result.action_coded += action is not None
            result.action_uncoded += action is None
        if no_issues:
            result.issues_coded += bool(issues)
            result.issues_uncoded += not issues
        writes_coding.append((pk, action, model.source if no_action else None, round(p.action_confidence, 4) if no_action else None,
                              model.source if no_issues else None, model.fingerprint))
        writes_issues.extend((pk, issue, round(c, 4)) for issue, c in issues.items())
        if keep_rows:
            result.rows.append({"id": rid, "action": action, "action_source": model.source if no_action and action else None,
                                "action_confidence": round(p.action_confidence, 3) if no_action else None,
                                "issues": sorted(issues), "issues_source": model.source if no_issues and issues else None,
                                "issue_confidences": {k: round(v, 3) for k, v in sorted(issues.items())}})
    if dry_run:
        return result
    with store.write() as wconn:
        if trained:
            save_model(wconn, model)
        result.dropped = drop_superseded(wconn)
        pks = [(w[0],) for w in writes_coding]
        wconn.executemany("DELETE FROM coding_issues WHERE rec_pk = ?", pks)
        wconn.executemany("INSERT OR REPLACE INTO coding (rec_pk, action, action_source, action_confidence, issues_source, model) "
                          "VALUES (?,?,?,?,?,?)", writes_coding)
        wconn.executemany("INSERT INTO coding_issues (rec_pk, issue, confidence) VALUES (?,?,?)", writes_issues)
        wconn.execute("DELETE FROM coding_models WHERE fingerprint NOT IN (SELECT model FROM coding) AND fingerprint != ?", (model.fingerprint,))
    return result


@dataclass
class Explanation:
    id: str
    text: str
    source: str                       # what coded it: upr-info, predicted, rules
    action: int | None
    action_confidence: float | None
    runner_up: int | None
    runner_up_confidence: float | None
    why_action: list[str]
    issues: dict[str, float]
    why_issues: dict[str, str]
    issue_runner_up: tuple[str, float] | None
    human_action: int | None
    human_issues: list[str]
    rule: RuleAction
    model: str

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["rule"] = {k: v for k, v in self.rule.__dict__.items()}
        return d


def explain(store: Store, rec_id: str) -> Explanation:
    """Why a recommendation gets (or would get) its action category and issues, with the runner-up."""
    from .errors import UsageError

    conn = store.conn
    row = conn.execute("SELECT pk, id, text, action FROM recommendations WHERE id = ? OR id LIKE ? ORDER BY id LIMIT 2",
                       (rec_id, rec_id + "%")).fetchall()
    if not row:
        raise UsageError(f"no recommendation with ID {rec_id!r}", hint="IDs are in `upr search --format json` (field id)")
    if len(row) > 1 and row[0][1] != rec_id:
        raise UsageError(f"ID {rec_id!r} is the start of several IDs", hint="give more of it")
    pk, rid, text, human_action = row[0]
    human_issues = [r[0] for r in conn.execute("SELECT issue FROM recommendation_issues WHERE rec_pk = ? ORDER BY issue", (pk,))]
    themes = [r[0] for r in conn.execute("SELECT theme FROM recommendation_themes WHERE rec_pk = ?", (pk,))]
    fingerprint, _rows = coded_set(conn)
    model = load_model(conn, fingerprint)
    if model is None:  # not trained yet: explain with what classify would use, without writing
        model, _ = current_model(store, save=False)
    p = predict(model, [text], [themes], explain=True)[0]
    return Explanation(rid, text, HUMAN if human_action is not None else model.source, p.action, round(p.action_confidence, 3),
                       p.runner_up, round(p.runner_up_confidence, 3) if p.runner_up_confidence else None, p.why_action,
                       {k: round(v, 3) for k, v in p.issues.items()}, p.why_issues,
                       (p.issue_runner_up[0], round(p.issue_runner_up[1], 3)) if p.issue_runner_up else None,
                       human_action, human_issues, rule_action(text), model.fingerprint)
