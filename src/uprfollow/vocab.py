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
import os
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


def user_vocab_dir() -> Path:
    """The user's own vocabulary folder, read after `data/`: `$XDG_CONFIG_HOME/uprfollow` (~/.config/uprfollow).

    It holds files named like those of `data/` (country_aliases.csv, level_words.csv, ...) with the
    user's own spellings; `upr vocab add-alias` writes there. Package data is never edited.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "uprfollow"


def user_rows(name: str) -> list[dict[str, str]]:
    """Rows of the user's file `name` in `user_vocab_dir()`, or [] when there is none."""
    path = user_vocab_dir() / name
    if not path.is_file():
        return []
    with open(path, encoding="utf-8-sig", newline="") as f:
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
    for r in user_rows("country_aliases.csv"):  # the user's own spellings (`upr vocab add-alias`)
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


@cache
def _squeezed_index() -> dict[str, str]:
    """The country index with spaces removed ("srilanka", "unitedstatesofamerica", "capeverde")."""
    out: dict[str, str] = {}
    for k, v in _country_index().items():
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
    _country_index.cache_clear()
    _squeezed_index.cache_clear()
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
    return len(_country_index())


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
