"""The vocabularies of the eight categories, loaded from the data files in `data/`.

One module owns every list: countries and their aliases, regional groups,
organisations, the 54 UPR Info issues, the five action categories, responses and
sessions. Lookups normalise case, accents, punctuation and "&"/"St" spellings, and
unknown values come back with the closest known ones so errors can suggest a fix.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

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


def _rows(name: str) -> list[dict[str, str]]:
    with open(data_dir() / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def fold(text: str) -> str:
    """Normalise a name for lookup: lower case, no accents, no punctuation, one space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[’'`]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    text = re.sub(r"^st ", "saint ", text)
    text = re.sub(r" st ", " saint ", text)
    text = re.sub(r"^the ", "", text)
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
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for c in countries().values():
        for spelling in (c.iso3, c.iso2, c.name, c.name_common, c.name_official):
            if spelling:
                index.setdefault(fold(spelling), c.iso3)
    for name in ("country_aliases.csv", "country_aliases_ohchr.csv"):
        if (data_dir() / name).exists():
            for r in _rows(name):
                index[fold(r["alias"])] = r["iso3"]
    # ISO3 codes win over anything else of three letters
    for c in countries().values():
        index[fold(c.iso3)] = c.iso3
    return index


def country_code(name: str) -> str | None:
    """ISO3 code for a name, alias or code as people write it; None when unknown."""
    if not name:
        return None
    return _country_index().get(fold(name))


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


def country_hint(name: str) -> str:
    close = closest_countries(name)
    if close:
        return "did you mean " + " or ".join(close) + "? Add other spellings to data/country_aliases.csv"
    return "use an ISO3 code (see `upr vocab countries`) or add the spelling to data/country_aliases.csv"


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
    """5, '5', '5.0' -> 5; raises ValueError for anything not 1-5."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
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
        m = re.fullmatch(r"\s*-?\s*(?:session\s*)?(\d+(?:\.0+)?)\s*(?:st|nd|rd|th)?\s*(?:session)?\s*", value, re.I)
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
    return len(_country_index())


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
