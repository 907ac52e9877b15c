"""The vocabularies, loaded from the data files in `data/` (and the user's vocabulary folder).

One module owns every list: countries and their aliases, regional groups,
organisations, the 54 UPR Info issues, the five action categories, responses,
sessions, levels of implementation, stakeholder types and the three languages.
One resolver per concept (`resolve_state`, `level_of`/`resolve_level`, `type_of`,
`resolve_language`), one `fold` for every lookup, one CSV loader (`read_csv`).
Lookups normalise case, accents, punctuation and "&"/"St" spellings, and unknown
values come back with the closest known ones so errors can suggest a fix.

The user's vocabulary folder (`user_vocab_dir()`: `$XDG_CONFIG_HOME/uprfollow/`, else
`~/.config/uprfollow/`) may hold a `level_words.csv` with the same columns as the
packaged one; its words are read after `data/`'s and add to them.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import counted

REGIONAL_GROUPS = ("Africa", "Asia", "EEG", "GRULAC", "WEOG", "Observer")
ORGANISATIONS = ("ACS", "AL", "AU", "ASEAN", "CIS", "Commonwealth", "EU", "OAS", "OEI", "OIC", "OIF", "PIF")
CANONICAL_RESPONSES = ("Accepted", "Noted", "Pending", "Voluntary Pledge")
UNKNOWN_STATE_SPELLINGS = ("(unknown)", "unknown")


def data_dir() -> Path:
    """The folder holding the vocabulary files (inside the package when installed)."""
    packaged = resources.files("uprfollow") / "data"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "data"


def user_vocab_dir() -> Path:
    """The user's vocabulary folder: `$XDG_CONFIG_HOME/uprfollow`, else `~/.config/uprfollow` (may not exist)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "uprfollow"


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """The rows of a vocabulary CSV: a bare name is a file of `data/`, a path is read as given."""
    path = Path(path)
    if not path.is_absolute() and len(path.parts) == 1:
        path = data_dir() / path
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


_rows = read_csv
_FOLD_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_COMBINING = re.compile(r"[\u0300-\u036f]")


def user_rows(name: str) -> list[dict[str, str]]:
    """Rows of the user's file `name` in `user_vocab_dir()`, or [] when there is none."""
    path = user_vocab_dir() / name
    if not path.is_file():
        return []
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def fold(text: str) -> str:
    """The one lookup key of every vocabulary: lower case, no accents ('œ' is 'oe'), no punctuation but '§',
    '&' read as 'and', 'St' as 'Saint', a leading 'the' dropped, one space."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.translate(_FOLD_LIGATURES)))
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[’'`]", "", text)
    text = re.sub(r"[^a-z0-9§]+", " ", text).strip()
    if "st" in text:
        text = re.sub(r"^st ", "saint ", text)
        text = re.sub(r" st ", " saint ", text)
    if text.startswith("the "):
        text = text[4:]
    return text


@dataclass(frozen=True)
class Country:
    iso3: str
    iso2: str
    name: str
    name_common: str
    name_official: str
    un_member: bool
    regional_group: str
    organisations: tuple[str, ...]


@cache
def countries() -> dict[str, Country]:
    out = {}
    for r in _rows("countries.csv"):
        out[r["iso3"]] = Country(
            iso3=r["iso3"],
            iso2=r["iso2"],
            name=r["name"],
            name_common=r["name_common"],
            name_official=r["name_official"],
            un_member=r["un_member"] == "yes",
            regional_group=r["regional_group"],
            organisations=tuple(o for o in r["organisations"].split(";") if o),
        )
    return out


@cache
def _packaged_country_index() -> dict[str, str]:
    """Names, codes and aliases of data/ (the part of the vocabulary a store records; see store._vocab_signature)."""
    index: dict[str, str] = {}
    for c in countries().values():
        for spelling in (c.iso3, c.iso2, c.name, c.name_common, c.name_official):
            if spelling:
                index.setdefault(fold(spelling), c.iso3)
    for name in ("country_aliases.csv", "country_aliases_ohchr.csv"):
        if (data_dir() / name).exists():
            for r in _rows(name):
                index[fold(r["alias"])] = r["iso3"]
    return index


def _country_index() -> dict[str, str]:
    """The packaged index, then the user's own spellings (`upr vocab add-alias`), re-read when that file changes."""
    folder = user_vocab_dir()
    return _user_country_index(str(folder), _stamp(folder / "country_aliases.csv"))


@cache
def _user_country_index(user_dir: str, _stamp: tuple[int, int] | None) -> dict[str, str]:
    index = dict(_packaged_country_index())
    for r in user_rows("country_aliases.csv"):
        if r.get("alias") and (r.get("iso3") or "").upper() in countries():
            index[fold(r["alias"])] = r["iso3"].upper()
    # ISO3 codes win over anything else of three letters
    for c in countries().values():
        index[fold(c.iso3)] = c.iso3
    return index


# Codes people write for "no value": never a State ("NA" is not Namibia here).
MISSING_VALUES = frozenset(("", "na", "n/a", "n.a.", "-", "--", "none", "null", "nan", "nil", "#n/a"))


def is_missing(value: str | None) -> bool:
    """True for an empty cell or a missing-value code ("NA", "N/A", "-", "none", "null", "NaN")."""
    return value is None or value.strip().lower() in MISSING_VALUES


def _squeezed_index() -> dict[str, str]:
    """The country index with spaces removed ("srilanka", "unitedstatesofamerica", "capeverde")."""
    folder = user_vocab_dir()
    return _user_squeezed_index(str(folder), _stamp(folder / "country_aliases.csv"))


@cache
def _user_squeezed_index(user_dir: str, stamp: tuple[int, int] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in _user_country_index(user_dir, stamp).items():
        out.setdefault(k.replace(" ", ""), v)
    return out


def country_code(name: str) -> str | None:
    """ISO3 code for a name, alias or code as people write it; None when unknown or a missing-value code.

    Names compare folded (case, accents, punctuation), then without spaces ("SriLanka").
    """
    if not name or is_missing(name):
        return None
    key = fold(name)
    code = _country_index().get(key)
    if code is None and key:
        code = _squeezed_index().get(key.replace(" ", ""))
    return code


def split_country_names(name: str) -> list[str] | None:
    """["Argentina", "Chile"] when `name` is two or more known States run together ("Argentina Chile"), else None."""
    words = name.split()

    def split(ws: list[str]) -> list[str] | None:
        for i in range(len(ws), 0, -1):
            head = " ".join(ws[:i])
            if country_code(head) is None:
                continue
            if i == len(ws):
                return [head]
            rest = split(ws[i:])
            if rest:
                return [head, *rest]
        return None

    if len(words) < 2 or len(words) > 12 or country_code(name):
        return None
    parts = split(words)
    return parts if parts and len(parts) > 1 else None


def add_alias(alias: str, iso3: str) -> Path:
    """Add a spelling of a State to the user's vocabulary folder; returns the file written."""
    code = iso3.strip().upper()
    if code not in countries():
        code = country_code(iso3) or ""
    if code not in countries():
        raise ValueError(f"unknown State {iso3!r}: give an ISO3 code (see `upr vocab countries`)")
    if not fold(alias):
        raise ValueError("the alias is empty")
    path = user_vocab_dir() / "country_aliases.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["alias", "iso3"])
        w.writerow([alias.strip(), code])
    return path


def is_unknown_state(name: str) -> bool:
    """UPR Info writes '(Unknown)' for a few recommending States it could not identify."""
    return name.strip().lower() in UNKNOWN_STATE_SPELLINGS


def closest(value: str, choices: list[str], n: int = 3) -> list[str]:
    """The closest known values to `value`, for 'did you mean' hints: whole words contained first, then spelling."""
    folded: dict[str, str] = {}
    for c in choices:
        folded.setdefault(fold(c), c)
    target = fold(value)
    words = [k for k in folded if target and re.search(rf"\b{re.escape(target)}", k)]
    hits = words + [h for h in difflib.get_close_matches(target, list(folded), n=n, cutoff=0.6) if h not in words]
    return [folded[h] for h in hits[:n]]


def closest_countries(name: str, n: int = 3) -> list[str]:
    """'Name (ISO3)' strings of the countries closest to an unknown name (only those nearly as close as the best)."""
    index = _country_index()
    target = fold(name)
    out: list[str] = []
    if len(target) == 3 and target.isalpha():  # a mistyped ISO3 code: its anagrams first (HIT -> HTI, not ITA)
        for code, c in countries().items():
            if sorted(code.lower()) == sorted(target) and code.lower() != target:
                out.append(f"{c.name} ({c.iso3})")
    hits = difflib.get_close_matches(target, list(index), n=n * 3, cutoff=0.6)
    if not hits:
        return out[:n]
    best = difflib.SequenceMatcher(None, target, hits[0]).ratio()
    for h in hits:
        if difflib.SequenceMatcher(None, target, h).ratio() < best - 0.1:
            continue
        c = countries()[index[h]]
        label = f"{c.name} ({c.iso3})"
        if label not in out:
            out.append(label)
    return out[:n]


def resolve_state(value: str, option: str | None = None) -> str:
    """The one State resolver for what a user typed (an argument or an option): ISO3 code, name or alias.

    Unknown -> UsageError (exit 2) "unknown State 'X'" (+ " for --sur" when it came from an option),
    with the closest States as a hint.
    """
    from .errors import UsageError

    code = country_code(value)
    if code is None:
        raise UsageError(f"unknown State {value!r}" + (f" for {option}" if option else ""), hint=country_hint(value))
    return code


def country_hint(name: str) -> str:
    parts = split_country_names(name)
    if parts:
        named = " and ".join(f"{p} ({country_code(p)})" for p in parts)
        return f"this looks like {len(parts)} States: {named}; separate them with ';' in the file"
    close = closest_countries(name)
    add = f'upr vocab add-alias "{name}" ' + (close[0][-4:-1] if close else "ISO3")
    if close:
        return "did you mean " + " or ".join(close) + f"? To keep this spelling: {add}"
    return f"use an ISO3 code (see `upr vocab countries`), or add the spelling: {add}"


@cache
def issues() -> list[str]:
    return [r["name"] for r in _rows("issues.csv")]


@cache
def _issue_index() -> dict[str, str]:
    return {fold(i): i for i in issues()}


def issue_name(value: str) -> str | None:
    return _issue_index().get(fold(value))


@dataclass(frozen=True)
class ActionCategory:
    level: int
    name: str
    definition: str
    example_verbs: str


@cache
def action_categories() -> dict[int, ActionCategory]:
    return {
        int(r["level"]): ActionCategory(int(r["level"]), r["name"], r["definition"], r["example_verbs"])
        for r in _rows("action_categories.csv")
    }


def action_level(value: str | float | int | None) -> int | None:
    """5, '5', '5.0', '5 - Specific action' -> 5; raises ValueError for anything not 1-5."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and (named := re.fullmatch(r"\s*(\d)\s*[-–:]\s*[A-Za-z][\w ]*", value)):
        value = named.group(1)  # the UPR Info database (Uwazi) writes "5 - Specific action"
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a number: {value!r}") from None
    if not math.isfinite(f) or f != int(f) or int(f) not in action_categories():
        raise ValueError(f"not an action category 1-5: {value!r}")
    return int(f)


@cache
def _response_index() -> dict[str, str]:
    index = {fold(r["spelling"]): r["canonical"] for r in _rows("responses.csv")}
    for c in CANONICAL_RESPONSES:
        index[fold(c)] = c
    return index


def response_spellings() -> list[dict[str, str]]:
    return _rows("responses.csv")


def canonical_response(value: str) -> str | None:
    return _response_index().get(fold(value))


@dataclass(frozen=True)
class Session:
    session: int
    year: int
    cycle: int


@cache
def sessions() -> dict[int, Session]:
    return {int(r["session"]): Session(int(r["session"]), int(r["year"]), int(r["cycle"])) for r in _rows("sessions.csv")}


def session_number(value: str | float | int | None) -> int | None:
    """'12', '12.0', 12.0, '36th Session', '- 36th session' -> the session number; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)):
        try:
            f = float(value)
        except OverflowError:
            raise ValueError(f"not a session number: {value!r}") from None
    else:
        m = re.fullmatch(r"\s*-?\s*(?:session\s*)?(\d+(?:\.0+)?)\s*(?:st|nd|rd|th)?\s*(?:session)?\s*", value, re.I) or re.fullmatch(
            r"\s*(\d+)\s*[-–]\s*[A-Za-z]+\s+\d{4}\s*", value  # the UPR Info database (Uwazi): "44 - November 2023"
        )
        if not m:
            raise ValueError(f"not a session number: {value!r}")
        f = float(m.group(1))
    if not math.isfinite(f):
        raise ValueError(f"not a session number: {value!r}")
    if f != int(f) or int(f) not in sessions():
        known = max(sessions())
        raise ValueError(f"not a UPR session 1-{known}: {value!r}")
    return int(f)


def cycle_of(session: int) -> int:
    return sessions()[session].cycle


def regional_group(value: str) -> str | None:
    for g in REGIONAL_GROUPS:
        if fold(g) == fold(value):
            return g
    return None


def organisation(value: str) -> str | None:
    for o in ORGANISATIONS:
        if fold(o) == fold(value):
            return o
    return None


def alias_count() -> int:
    """Spellings in data/ (not the user's own: a store's vocabulary does not depend on who opens it)."""
    return len(_packaged_country_index())


# --------------------------------------------------------------------------- languages

LANGUAGES = ("en", "fr", "es")


def resolve_language(value: str, option: str = "--lang") -> str:
    """'en', 'FR', 'es' -> the language code; UsageError (exit 2) otherwise."""
    from .errors import UsageError

    code = value.strip().lower()
    if code not in LANGUAGES:
        raise UsageError(f"{option} {value!r}: not a language upr writes", hint=f"use one of {', '.join(LANGUAGES)}")
    return code


# --------------------------------------------------------------------------- levels of implementation

LEVELS = ("fully", "partially", "not", "no_data")
NOT_ASSESSED = "not_assessed"
ALL_LEVELS = (*LEVELS, NOT_ASSESSED)
LEVEL_FILE = "level_words.csv"
_LEVEL_CODES = {"fully": "fully", "partially": "partially", "not": "not", "no data": "no_data", "no_data": "no_data", "nodata": "no_data"}
_NOT_ASSESSED_WORDS = ("not assessed", "not_assessed", "unassessed", "non evaluee", "no evaluada")


@dataclass(frozen=True)
class Words:
    """A vocabulary of words: folded word -> value, the lemma keys, the label of each value per language."""

    exact: dict[str, str]
    lemmas: dict[str, str]
    labels: dict[tuple[str, str], str]  # (value, lang) -> label
    shown: dict[str, str]  # folded word -> the word as written, for "did you mean"


_STEM = re.compile(r"(?:es|s)$")


def _lemma(word: str) -> str:
    """A crude lemma of one folded word, enough for level wordings: plural and gender endings dropped,
    a final doubled consonant single ('mise'/'mis', 'partielle'/'partiel', 'implementadas'/'implementado')."""
    if len(word) > 4:
        word = _STEM.sub("", word)
    if len(word) > 3 and word[-1] in "aeo":
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


_LEMMA_STOP = frozenset({"de", "la", "le", "les", "el", "los", "las", "del", "des", "du", "a", "an", "of", "y", "et", "and"})


def lemma_key(text: str) -> str:
    """Folded words as lemmas, small words dropped, in sorted order ('mis en œuvre partiellement' =
    'partiellement mise en œuvre')."""
    return " ".join(sorted(_lemma(w) for w in fold(text).split() if w not in _LEMMA_STOP))


def _words(rows: list[tuple[str, str, str, str, str]]) -> Words:
    """From (word, value, lang, label, source) rows; a lemma two values share is dropped (ambiguous)."""
    exact: dict[str, str] = {}
    shown: dict[str, str] = {}
    labels: dict[tuple[str, str], str] = {}
    lemmas: dict[str, str] = {}
    clash: set[str] = set()
    for word, value, lang, label, _source in rows:
        k = fold(word)
        exact[k] = value
        shown.setdefault(k, word)
        if label.strip().lower() in ("yes", "y", "1", "true"):
            labels[(value, lang)] = word
        lk = lemma_key(word)
        if lk in lemmas and lemmas[lk] != value:
            clash.add(lk)
        lemmas.setdefault(lk, value)
    for lk in clash:
        lemmas.pop(lk, None)
    return Words(exact, lemmas, labels, shown)


def _user_rows(name: str, key: str, known: tuple[str, ...], user_dir: str) -> list[tuple[str, str, str, str, str]]:
    """Rows of the user's copy of a vocabulary file; a bad row is an error naming the file and row."""
    from .errors import InputError, Problem

    path = Path(user_dir) / name
    if not path.is_file():
        return []
    try:
        rows = read_csv(path)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read your vocabulary file {path}: {e}", hint="save it as UTF-8 CSV with columns word," + key) from None
    out = []
    problems = []
    for n, r in enumerate(rows, start=2):
        word, value = (r.get("word") or "").strip(), (r.get(key) or "").strip()
        if not word:
            continue
        if value not in known:
            problems.append(Problem(f"{key} {value!r} is not one of {', '.join(known)}", file=str(path), row=n, value=value))
            continue
        out.append((word, value, (r.get("lang") or "").strip(), "", str(path)))
    if problems:
        raise InputError(f"{counted(len(problems), 'row')} of your vocabulary file {path} cannot be used", problems=problems,
                         hint=f"each row is word,{key}[,lang] with {key} one of {', '.join(known)}")
    return out


@cache
def _packaged_levels() -> list[tuple[str, str, str, str, str]]:
    rows = [(r["word"], r["level"], r["lang"], r.get("label") or "", "data") for r in read_csv(LEVEL_FILE)]
    return rows + [(w, lv, "", "", "code") for w, lv in _LEVEL_CODES.items()]


@cache
def _level_labels() -> dict[tuple[str, str], str]:
    return _words(_packaged_levels()).labels


@cache
def _level_vocab(user_dir: str, _stamp: tuple[int, int] | None) -> Words:
    return _words(_packaged_levels() + _user_rows(LEVEL_FILE, "level", LEVELS, user_dir))


def _stamp(path: Path) -> tuple[int, int] | None:
    """(mtime, size) of a user file, so an edited file is read again; None when there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def level_vocab() -> Words:
    """The level words of data/level_words.csv, then the user's (see `user_vocab_dir`)."""
    folder = user_vocab_dir()
    return _level_vocab(str(folder), _stamp(folder / LEVEL_FILE))


def level_of(word: str) -> str | None:
    """The level a stakeholder's wording names (fully / partially / not / no_data); None when unknown.

    Tried in turn: the word as written (case, accents, punctuation ignored); its lemmas in any order
    ('mis en œuvre partiellement'); without a part in parentheses, which must not name another level
    ('Partially implemented (ongoing)').
    """
    v = level_vocab()
    k = fold(word)
    if not k:
        return None
    hit = v.exact.get(k) or v.lemmas.get(lemma_key(word))
    if hit:
        return hit
    m = re.fullmatch(r"\s*([^()]*?)\s*\(([^()]*)\)\s*([^()]*?)\s*", word)
    if m and (m.group(1) or m.group(3)):
        outer = level_of(f"{m.group(1)} {m.group(3)}")
        inner = level_of(m.group(2)) if fold(m.group(2)) else None
        if outer and inner in (None, outer):
            return outer
    return None


def level_suggestions(word: str, n: int = 2) -> list[str]:
    """'did you mean' for an unknown level wording: the closest known wordings, as written in the data."""
    v = level_vocab()
    hits = difflib.get_close_matches(fold(word), list(v.shown), n=n, cutoff=0.6)
    return [v.shown[h] for h in hits]


def level_label(level: str, lang: str = "en") -> str:
    """The word sheets and the digest write for a level ('Fully implemented', 'Entièrement mise en œuvre', ...)."""
    if level == NOT_ASSESSED:
        return {"en": "Not assessed", "fr": "Non évaluée", "es": "No evaluada"}[lang]
    return _level_labels()[(level, lang)]


def level_labels(lang: str = "en") -> dict[str, str]:
    """Level -> label, in the order of LEVELS."""
    return {lv: level_label(lv, lang) for lv in LEVELS}


def resolve_level(value: str, option: str = "--level", *, not_assessed: bool = True) -> str:
    """The one level resolver for an option: any level wording, or 'not_assessed'; UsageError (exit 2) otherwise."""
    from .errors import UsageError

    if not_assessed and fold(value) in {fold(w) for w in _NOT_ASSESSED_WORDS}:
        return NOT_ASSESSED
    hit = level_of(value)
    if hit:
        return hit
    known = ", ".join(ALL_LEVELS if not_assessed else LEVELS)
    close = level_suggestions(value)
    hint = ("did you mean " + " or ".join(repr(c) for c in close) + "? " if close else "") + f"use {known}"
    raise UsageError(f"{option} {value!r}: not a level", hint=hint)


# --------------------------------------------------------------------------- stakeholder types

STAKEHOLDER_TYPES = ("state", "ngo", "nhri", "un", "academic", "other")


@cache
def type_vocab() -> Words:
    rows = [(r["word"], r["type"], r["lang"], r.get("label") or "", "data") for r in read_csv("stakeholder_types.csv")]
    rows += [(t, t, "", "", "code") for t in STAKEHOLDER_TYPES]
    return _words(rows)


def type_of(word: str) -> str | None:
    """state / ngo / nhri / un / academic / other for how a sheet or an option names it; None when unknown."""
    return type_vocab().exact.get(fold(word))


def type_label(stakeholder_type: str, lang: str = "en") -> str:
    return type_vocab().labels[(stakeholder_type, lang)]


def type_labels(lang: str = "en") -> dict[str, str]:
    return {t: type_label(t, lang) for t in STAKEHOLDER_TYPES}


def resolve_type(value: str, option: str = "--type") -> str:
    from .errors import UsageError

    t = type_of(value)
    if t is None:
        raise UsageError(f"{option} {value!r}: not a stakeholder type", hint="use one of " + ", ".join(STAKEHOLDER_TYPES))
    return t
@cache
def sdgs() -> dict[int, str]:
    """The 17 Sustainable Development Goals: number -> name (data/sdgs.csv)."""
    return {int(r["sdg"]): r["name"] for r in _rows("sdgs.csv")}


def sdg_label(number: int) -> str:
    """'16 Peace, justice and strong institutions'."""
    return f"{number} {sdgs().get(number, '')}".strip()


_SDG = re.compile(r"^\s*(?:sdg|goal)?\s*(\d{1,2})\b\s*(?:(?:[-–:]|\.(?!\d))\s*(.*))?$", re.IGNORECASE)


def sdg_number(value: str) -> int | None:
    """16 for '16', 'SDG 16', '16 - PEACE, JUSTICE AND STRONG INSTITUTIONS', 'Peace, justice and strong institutions',
    and for a target of goal 16 ('16.3 Promote the rule of law ...', as UHRI writes them)."""
    m = _SDG.match(value or "") or re.match(r"^\s*(?:sdg\s*)?(\d{1,2})\.\d{1,2}[a-z]?\b", value or "", re.IGNORECASE)
    if m and int(m.group(1)) in sdgs():
        return int(m.group(1))
    key = fold(value or "")
    for n, name in sdgs().items():
        if key and fold(name) == key:
            return n
    return None


@cache
def hrc_sessions() -> dict[int, list[int]]:
    """Human Rights Council session -> the UPR sessions whose outcomes it adopted (data/hrc_sessions.csv)."""
    out: dict[int, list[int]] = {}
    for r in _rows("hrc_sessions.csv"):
        out.setdefault(int(r["hrc_session"]), []).append(int(r["upr_session"]))
    return out


def upr_session_of_symbol(symbol: str | None) -> int | None:
    """The UPR session of an outcome document symbol: 'A/HRC/59/15/Add.1' -> HRC 59 -> UPR 48; None when unsure."""
    m = re.search(r"A\s*/\s*HRC\s*/\s*(\d{1,3})\s*/", symbol or "", re.IGNORECASE)
    if not m:
        return None
    found = hrc_sessions().get(int(m.group(1)), [])
    return found[0] if len(found) == 1 else None
# --- tables of `upr classify` (coding.py) ------------------------------------------------------


@cache
def action_verbs() -> dict[str, int]:
    """Opening verbs and phrases ("take measures", "ratify") -> action category 1-5."""
    return {" ".join(r["verb"].lower().split()): int(r["level"]) for r in _rows("action_verbs.csv")}


@cache
def issue_keywords() -> list[tuple[str, str]]:
    """(keyword, issue) pairs: a word or a word's beginning that points to an issue."""
    return [(r["keyword"].lower(), r["issue"]) for r in _rows("issue_keywords.csv")]


@cache
def theme_issues() -> dict[str, list[str]]:
    """OHCHR theme or SDG code ("D23", "S03") -> the UPR Info issues it is evidence for."""
    out: dict[str, list[str]] = {}
    for r in _rows("theme_issues.csv"):
        out.setdefault(r["theme"].upper(), []).append(r["issue"])
    return out
