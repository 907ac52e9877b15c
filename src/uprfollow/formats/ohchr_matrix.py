"""OHCHR "matrix" / "thematic list of recommendations" (.docx): one table, one row per recommendation.

Four layouts exist (DOMAIN.md section 3):

* cycle 1-2: ``Recommendation | Position | Full list of themes | Assessment/comments on level
  of implementation``, group rows ``Theme: A12 Acceptance of international norms``;
* older: ``Recommendation | Recommending state/s | Position | Full list of rights/affected
  persons``, group rows ``Right or area: 2.1 ...``;
* cycle 3: as cycle 1-2, with "SDGs:" and "Affected persons:" sub-lists inside the themes cell;
* cycle 4: ``Recommendation and recommending State | Position of the State under review | Human
  rights themes and groups of persons | Relevant SDGs``, values as "- " list items, a
  "Groups of Persons:" sub-list in the themes cell and SDGs as "- 16 - PEACE, JUSTICE ...".

Themes, SDGs and affected persons / groups of persons come back as three lists; list markers and
sub-headers are never values.

A recommendation cell reads ``28.212 Continue ... (Tunisia);`` followed by a line
``Source of position: A/HRC/40/6/Add.1 - Para. 2``. Clustered recommendations repeat the
pattern inside one cell (``... (New Zealand); Accelerate ... (Uruguay) (Mali);``). The
reader removes the paragraph number, every recommending-State parenthesis and the
source line from the text, and keeps the State names as written.

The State under review and the session are read where the document states them: the page
header (``UPR of China (3rd Cycle – 31st session)``, ``UPR of Egypt - Second Cycle``), the
title, the symbol of the Source of Position (A/HRC/28/16: the Human Rights Council session
that adopted the outcome, mapped to its UPR session by data/hrc_sessions.csv), and the file
name as a last resort. They are returned as ``ReadResult.defaults`` with where each was found
(``sur_from``, ``session_from``).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from uprfollow import vocab
from uprfollow.errors import FormatNotRecognised, InputError, Problem
from uprfollow.formats.base import ReadResult, Record

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

NAME = "ohchr-matrix"

_W_TEXT = re.compile(rb"<w:t(?:\s[^>]*)?>([^<]*)</w:t>")
_SPACES = re.compile(r"[\s\u00a0\u200b]+")
_PARAGRAPH = re.compile(r"^\s*(\d+(?:\.\d+)+)\.?(?=\s|$)\s*")
_SOURCE = re.compile(r"source\s+of\s+position\s*:?", re.IGNORECASE)
_GROUP = re.compile(r"^\s*(theme|right\s+or\s+area|rights?\s+or\s+areas?)\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
# Sub-headers inside a themes cell: what follows them is a list of SDGs or of groups of persons.
_SUBHEADER = re.compile(
    r"^\s*(?:(?P<sdg>(?:relevant\s+)?sdgs?|sustainable\s+development\s+goals?)"
    r"|(?P<grp>affected\s+persons?|groups?\s+of\s+persons?|persons?\s+affected|affected\s+groups?))\s*:\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_THEMES_HEADER = re.compile(r"^\s*(?:human\s+rights\s+)?themes?\s*:\s*(?P<rest>.*)$", re.IGNORECASE)
_MARKER = re.compile(r"^\s*[-–•*·▪◦]\s*")
_SDG_VALUE = re.compile(r"^(?:sdg\s*)?(\d{1,2})\s*[-–:]\s*\S", re.IGNORECASE)
_SDG_IN_THEME = re.compile(r"\bSDG\s*(\d{1,2})\b", re.IGNORECASE)
_HEADER_SUR = re.compile(
    r"\b(?:UPR|Universal\s+Periodic\s+Review)\s+of\s+(?:the\s+)?([^()\t\n:,]+?)\s*(?:\(|\s[-–—]\s|\t|:|,|$)", re.IGNORECASE
)
_HEADER_SESSION = re.compile(r"\b(\d{1,2})\s*(?:st|nd|rd|th)?\s+session\b", re.IGNORECASE)
_SYMBOL = re.compile(r"A\s*/\s*HRC\s*/\s*\d{1,3}\s*/\s*\d+", re.IGNORECASE)

# State names that contain "and" (or "&") and must not be split.
_AND_NAMES = re.compile(
    r"antigua\s*(and|&)\s*barbuda|bosnia\s*(and|&)\s*herzegovina|(saint|st\.?)\s+kitts\s*(and|&)\s*nevis"
    r"|(saint|st\.?)\s+vincent\s*(and|&)\s*the\s+grenadines|s[aã]o\s+tom[eé]\s*(and|&)\s*pr[ií]ncipe"
    r"|trinidad\s*(and|&)\s*tobago|great\s+britain\s*(and|&)\s*northern\s+ireland"
    r"|heard\s+island\s*(and|&)\s*mcdonald",
    re.IGNORECASE,
)
_KEEP = "\x00"
# Words that show a parenthesis is part of the text ("(the Paris Principles)"), not a State.
_NOT_STATE_WORDS = {
    "act", "action", "agenda", "agreement", "code", "commission", "committee", "convention", "council",
    "covenant", "declaration", "goals", "law", "laws", "office", "organization", "plan", "policy",
    "principles", "programme", "program", "protocol", "rights", "rules", "statute", "strategy", "treaty",
}


def _clean(value: str | None) -> str:
    """Collapse runs of white space (incl. no-break spaces) and strip."""
    return _SPACES.sub(" ", value or "").strip()


# --------------------------------------------------------------------------- sniffing


def _docx_text(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            if "word/document.xml" not in zf.namelist():
                return None
            xml = zf.read("word/document.xml")
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return b" ".join(_W_TEXT.findall(xml)).decode("utf-8", "replace")


def sniff(path: Path, head: bytes) -> bool:
    """A .docx whose text has "Source of position" or a matrix header row."""
    if not head.startswith(b"PK"):
        return False
    text = _docx_text(path)
    if text is None:
        return False
    low = _clean(text).lower()
    # run boundaries may split words; also compare with spaces removed
    squeezed = low.replace(" ", "")
    if "sourceofposition" in squeezed:
        return True
    return "recommendation" in squeezed and ("position" in squeezed or "recommendingstate" in squeezed)


# --------------------------------------------------------------------------- RS parsing


@dataclass
class _Paren:
    start: int
    end: int  # exclusive
    inner: str


def _parens(text: str) -> list[_Paren]:
    """Top-level balanced parentheses of `text`."""
    out: list[_Paren] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(_Paren(start, i + 1, text[start + 1 : i]))
    return out


def _split_top(value: str, sep: str) -> list[str]:
    """Split on `sep` outside parentheses."""
    parts: list[str] = []
    depth = 0
    buf = ""
    for ch in value:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return parts


def split_states(value: str) -> list[str]:
    """Split a list of State names on commas, semicolons, new lines and "and".

    Names that contain "and" ("Trinidad and Tobago", "United Kingdom of Great Britain and
    Northern Ireland") or nested parentheses ("Bolivia (Plurinational State of)") are kept whole.
    """
    names: list[str] = []
    for line in re.split(r"[\n;]", value):
        for piece in _split_top(line, ","):
            piece = _clean(piece)
            if not piece:
                continue
            # protect the "and" inside names such as "Trinidad and Tobago", then split on the others
            guarded = _AND_NAMES.sub(lambda m: m.group(0).replace(" ", _KEEP), piece)
            for sub in re.split(r"\s+(?:and|&)\s+", guarded):
                sub = _clean(re.sub(r"^(?:and|&)\s+", "", sub.replace(_KEEP, " ")))
                if sub:
                    names.append(sub)
    return names


def _looks_like_state(name: str) -> bool:
    name = name.strip()
    if not name or len(name) > 80 or any(ch.isdigit() for ch in name):
        return False
    if vocab.country_code(name) and len(name) > 3:  # "(the former Yugoslav Republic of Macedonia)", not "(ILO)"
        return True
    if not name[0].isupper():
        return False
    letters = [ch for ch in name if ch.isalpha()]
    if not any(ch.islower() for ch in letters):  # acronyms: (ILO), (NHRAP), (OP-CAT)
        return False
    words = re.findall(r"[A-Za-z]+", name.lower())
    return len(words) <= 10 and not _NOT_STATE_WORDS.intersection(words)


def _states_in(paren: _Paren) -> list[str] | None:
    """The State names of a parenthesis, or None when it is not a list of States."""
    names = split_states(paren.inner)
    if names and all(_looks_like_state(n) for n in names):
        return names
    return None


def strip_states(body: str) -> tuple[str, list[str]]:
    """Remove recommending-State parentheses from a recommendation text.

    A run of parentheses counts as recommending States when it ends a clause: it is followed
    by ";", "." or the end of the text. Inside a run, groups are taken from the right while they
    look like State names, so "(2016–2020) (Kyrgyzstan);" keeps "(2016–2020)" in the text.
    Returns (text, names in order of appearance, without duplicates).
    """
    parens = _parens(body)
    # group parentheses into runs separated only by white space
    runs: list[list[_Paren]] = []
    for p in parens:
        if runs and not body[runs[-1][-1].end : p.start].strip():
            runs[-1].append(p)
        else:
            runs.append([p])
    cuts: list[tuple[int, int]] = []
    names: list[str] = []
    for run in runs:
        after = body[run[-1].end :].lstrip()
        if after and after[0] not in ";.":
            continue
        accepted: list[list[str]] = []
        first = len(run)
        for idx in range(len(run) - 1, -1, -1):
            got = _states_in(run[idx])
            if got is None:
                break
            accepted.insert(0, got)
            first = idx
        if not accepted:
            continue
        cuts.append((run[first].start, run[-1].end))
        for group in accepted:
            names.extend(group)
    text = body
    for start, end in reversed(cuts):
        text = text[:start].rstrip() + text[end:]
    text = _clean(text)
    text = re.sub(r"\s+([;.,])", r"\1", text)
    text = re.sub(r";(?=\S)", "; ", text)
    text = text.rstrip(" ;,")
    unique: list[str] = []
    for n in names:
        if n not in unique:
            unique.append(n)
    return text, unique


def split_paragraph(text: str) -> tuple[str | None, str]:
    """("28.212", rest) when the text starts with a paragraph number, else (None, text)."""
    m = _PARAGRAPH.match(text)
    if not m:
        return None, text
    return m.group(1), text[m.end() :]


# --------------------------------------------------------------------------- reading


@dataclass
class _Columns:
    text: int
    response: int | None = None
    rs: int | None = None
    themes: int | None = None
    sdgs: int | None = None
    comment: int | None = None


def _header_columns(cells: list[str]) -> _Columns | None:
    low = [_clean(c).lower() for c in cells]
    text = next((i for i, c in enumerate(low) if c.startswith("recommendation")), None)
    if text is None:
        return None
    cols = _Columns(text=text)
    for i, c in enumerate(low):
        if i == text:
            continue
        if cols.rs is None and "recommending" in c:
            cols.rs = i
        elif cols.response is None and ("position" in c or "response" in c):
            cols.response = i
        elif cols.sdgs is None and "sdg" in c.replace(" ", ""):
            cols.sdgs = i
        elif cols.themes is None and ("theme" in c or "rights" in c or "affected" in c):
            cols.themes = i
        elif cols.comment is None and ("assessment" in c or "comment" in c or "implementation" in c):
            cols.comment = i
    if cols.response is None and cols.rs is None:
        return None
    return cols


def _header_texts(doc: DocxDocument, title: bool = True) -> list[str]:
    """Texts of the page headers, then (with `title`) of the first paragraphs of the body."""
    texts: list[str] = []
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.even_page_header):
            try:
                if part.is_linked_to_previous and texts:
                    continue
                texts.extend(p.text for p in part.paragraphs)
                for table in part.tables:
                    texts.extend(c.text for row in table.rows for c in row.cells)
            except (AttributeError, ValueError, KeyError):  # pragma: no cover - odd documents
                continue
    if title:
        texts.extend(p.text for p in doc.paragraphs[:30])
    return [t for t in texts if t.strip()]


def _defaults(doc: DocxDocument, path: Path, documents: list[str]) -> dict[str, str]:
    """State under review and session from the page header or title, the Source of Position, the file name."""
    out: dict[str, str] = {}
    headers = {_clean(t) for t in _header_texts(doc, title=False)}
    for text in _header_texts(doc):
        text = _clean(text)
        where = "the page header" if text in headers else "the title"
        if "sur" not in out:
            m = _HEADER_SUR.search(text)
            if m and (where == "the page header" or vocab.country_code(m.group(1).strip())):
                out["sur"], out["sur_from"] = m.group(1).strip(), where
        if "session" not in out and re.search(r"\bUPR\b|universal periodic review", text, re.IGNORECASE):
            m = _HEADER_SESSION.search(text)
            if m:
                out["session"], out["session_from"] = m.group(1), where
    if "session" not in out:
        symbols = {_clean(m.group(0)).replace(" ", "") for d in documents for m in [_SYMBOL.search(d)] if m}
        found = {vocab.upr_session_of_symbol(sym + "/") for sym in symbols} - {None}
        if len(found) == 1:
            session = found.pop()
            out["session"], out["session_from"] = str(session), f"the Source of Position ({sorted(symbols)[0]})"
    if "sur" not in out or "session" not in out:
        from_name = file_name_hints(path.stem)
        for key in ("sur", "session"):
            if key not in out and key in from_name:
                out[key], out[f"{key}_from"] = from_name[key], "the file name"
    return out


def file_name_hints(stem: str) -> dict[str, str]:
    """State and session named in a file name ("Slovenia_UPR48_thematic_list_2025", "UPR28_Egypt")."""
    out: dict[str, str] = {}
    words = [w for w in re.split(r"[\s_\-.]+", stem) if w]
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            name = " ".join(words[i : i + size])
            if len(name) > 3 and not name.isdigit() and vocab.country_code(name) and "sur" not in out:
                out["sur"] = name
    m = re.search(r"UPR[\s_\-]*(\d{1,2})(?!\d)|(\d{1,2})(?:st|nd|rd|th)?[\s_\-]*session", stem, re.IGNORECASE)
    if m:
        out["session"] = m.group(1) or m.group(2)
    return out


def _list_value(line: str) -> str:
    """A value of a list cell without its "- " marker and trailing separators."""
    return _clean(_MARKER.sub("", line)).rstrip(";,").strip()


def theme_cell(cell: str) -> tuple[list[str], list[str], list[str]]:
    """(themes, SDGs, groups of persons) of a themes cell; sub-headers switch list and are never values."""
    lists: dict[str, list[str]] = {"themes": [], "sdgs": [], "groups": []}
    current = "themes"
    for line in cell.splitlines():
        if not _clean(line):
            continue
        head = _SUBHEADER.match(_clean(line))
        if head:
            current = "sdgs" if head.group("sdg") else "groups"
            line = head.group("rest")
        else:
            theme_head = _THEMES_HEADER.match(_clean(line))
            if theme_head:
                current, line = "themes", theme_head.group("rest")
        value = _list_value(line)
        if not value:
            continue
        target = current
        if target == "themes" and _SDG_VALUE.match(value) and 1 <= int(_SDG_VALUE.match(value).group(1)) <= 17:
            target = "sdgs"  # "16 - PEACE, JUSTICE AND STRONG INSTITUTIONS" is an SDG, not a theme
        elif target == "themes":
            embedded = _SDG_IN_THEME.search(value)  # "S16 SDG 16 - peace, ...": a UHRI theme that names SDG 16
            if embedded and embedded.group(1) not in lists["sdgs"]:
                lists["sdgs"].append(embedded.group(1))
        if value not in lists[target]:
            lists[target].append(value)
    return lists["themes"], lists["sdgs"], lists["groups"]


def read(path: Path, source: Path | None = None) -> ReadResult:
    """Read a list; `source`: the file the user named, when `path` is a converted copy (.doc -> .docx)."""
    import docx  # python-docx; imported lazily to keep start-up fast

    shown = source or path
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"{shown.name}: cannot open as a Word .docx file ({exc})",
            hint="save the matrix as .docx (Word 2007+) and try again",
            problems=[Problem("not a readable .docx file", file=str(shown))],
        ) from exc

    table = None
    cols: _Columns | None = None
    for candidate in doc.tables:
        if not candidate.rows:
            continue
        cols = _header_columns([c.text for c in candidate.rows[0].cells])
        if cols is not None:
            table = candidate
            break
    if table is None or cols is None:
        raise FormatNotRecognised(
            f"{shown.name}: no table with a 'Recommendation | Position' header",
            hint="an OHCHR matrix has one table whose first row is "
            "'Recommendation | Position | Full list of themes | Assessment/comments ...'",
            problems=[Problem("no matrix table found", file=str(shown), row=1)],
        )

    header = [c.text for c in table.rows[0].cells]
    labels = {"text": _clean(header[cols.text]), "paragraph": _clean(header[cols.text])}
    if cols.rs is not None:
        labels["rs"] = _clean(header[cols.rs])
    else:
        labels["rs"] = labels["text"]
    labels["document"] = labels["text"]
    for name in ("response", "themes", "comment", "sdgs"):
        idx = getattr(cols, name)
        if idx is not None:
            labels[name] = _clean(header[idx])

    records: list[Record] = []
    group_theme: str | None = None
    problems: list[Problem] = []
    for i, row in enumerate(table.rows):
        if i == 0:
            continue
        cells = [c.text for c in row.cells]
        first = _clean(cells[cols.text]) if cols.text < len(cells) else ""
        if not any(_clean(c) for c in cells):
            continue
        group = _GROUP.match(first)
        if group and all(_clean(c) in ("", first) for c in cells):
            group_theme = _clean(group.group(2)) or None
            continue
        if _header_columns(cells) is not None and first.lower().startswith("recommendation"):
            continue  # header repeated on a new page

        def cell(idx: int | None, cells: list[str] = cells) -> str:
            return cells[idx] if idx is not None and idx < len(cells) else ""

        raw = cell(cols.text)
        parts = _SOURCE.split(raw, maxsplit=1)
        body = parts[0]
        document = (_clean(parts[1]).rstrip(".").strip() or None) if len(parts) > 1 else None
        paragraph, body = split_paragraph(_clean(body))
        text, rs = strip_states(body)
        rs_cell = _clean(cell(cols.rs))
        if rs_cell:
            rs = split_states(cell(cols.rs))
        themes, sdgs, groups = theme_cell(cell(cols.themes))
        if cols.sdgs is not None:
            for value in theme_cell("SDGs:\n" + cell(cols.sdgs))[1]:
                if value not in sdgs:
                    sdgs.append(value)
        if not themes and group_theme:
            themes = [group_theme]
        comment = _clean(cell(cols.comment)) or None
        if not text:
            problems.append(Problem("recommendation cell has no text", file=str(shown), row=i + 1,
                                    column=labels["text"]))
        records.append(
            Record(
                sur=None,
                text=text or None,
                rs=rs,
                response=_clean(cell(cols.response)) or None,
                themes=themes,
                sdgs=sdgs,
                groups=groups,
                paragraph=paragraph,
                document=document,
                comment=comment,
                row=i + 1,
                columns=dict(labels),
            )
        )

    if problems:
        raise InputError(
            f"{shown.name}: {len(problems)} recommendation row(s) without text",
            hint="check the rows named below in Word; a recommendation cell must hold its text",
            problems=problems,
        )
    defaults = _defaults(doc, source or path, [r.document for r in records if r.document])
    return ReadResult(format=NAME, records=iter(records), total=len(records), defaults=defaults)
