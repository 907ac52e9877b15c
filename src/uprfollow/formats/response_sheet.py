"""The response sheet as a file format: its columns, header and label words in three languages, and the
reader of filled sheets.

`upr sheet` writes it (sheets.py lays it out), `upr ingest` reads it back (this reader, then match.py),
and `upr import` refuses it (`refuse_response_sheet`): its recommendations are already in the store.

Filled sheets come back edited by hand, so the reader assumes nothing about their layout:

* Files: .xlsx, .xls, .ods (read with python-calamine, every sheet that has a header) and .csv
  (encoding and delimiter detected). Detection is by content, not by extension.
* The header row is looked for in the first 30 rows of each sheet: it is the first row with a
  column for the level and one for the recommendation (ID, paragraph or text). Headers are
  matched through `data/sheet_headers.csv` (English, French, Spanish, usual variants; case,
  accents, punctuation and anything in parentheses ignored). Extra columns are ignored.
* Above the header, "label: value" cells give the State under review, the session, the
  stakeholder's name, type and short label, and the date of the assessment.
* Merged cells: a vertically merged cell counts for every row it spans. Hidden rows are read
  like any other. A formula is never evaluated: its text (`=HYPERLINK(...)`) is kept as text.

Level and stakeholder-type words, written and read, are those of `vocab` (data/level_words.csv,
data/stakeholder_types.csv).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from .. import vocab
from ..errors import InputError, Problem, UsageError
from .sniff import cell_text, check_lines, column_letter, container, csv_rows, decode, refuse_nul, with_path

HEADER_SCAN = 30        # rows searched for the header
MATCH_FIELDS = ("id", "paragraph", "text")
HEADER_FIELDS = ("id", "paragraph", "text", "rs", "response", "issues", "level", "comment", "sources", "sur", "session")
META_FIELDS = ("sur", "session", "stakeholder", "stakeholder_type", "label", "as_of")

# Column order of the recommendation rows; the last three are the stakeholder's input.
COLUMNS = ("id", "paragraph", "text", "rs", "response", "issues", "level", "comment", "sources")
INPUT_COLUMNS = ("level", "comment", "sources")

HEADER_ROW = 7
FIRST_DATA_ROW = HEADER_ROW + 1

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "sheet": "Recommendations",
        "title": "Universal Periodic Review - follow-up response sheet",
        "instructions": (
            "For each recommendation, choose the level of implementation in column G (fully, partially or not "
            "implemented; 'No data' when the information you have does not let you judge), explain it in column H "
            "and name your sources in column I. Leave the row empty if you do not assess a recommendation. Do not "
            "change the ID or the text: they are how your answers are matched. Fill in your organisation's name, "
            "type and the date of your assessment below, then send the file back as it is."
        ),
        "meta": {"sur": "State under review", "session": "Session", "stakeholder": "Stakeholder",
                 "stakeholder_type": "Stakeholder type", "label": "Short label", "as_of": "Assessment as of"},
        "headers": {"id": "ID", "paragraph": "Paragraph", "text": "Recommendation", "rs": "Recommending State(s)",
                    "response": "Response", "issues": "Issues", "level": "Level of implementation",
                    "comment": "Comment", "sources": "Sources"},
        "levels": vocab.level_labels("en"),
        "types": vocab.type_labels("en"),
        "responses": {"Accepted": "Accepted", "Noted": "Noted", "Pending": "Pending", "Voluntary Pledge": "Voluntary pledge"},
        "cycle": "cycle {cycle}",
        "date_hint": "Date (YYYY-MM-DD)",
        "level_prompt": "Choose a level from the list",
        "level_error": "Use one of the levels in the list.",
    },
    "fr": {
        "sheet": "Recommandations",
        "title": "Examen périodique universel - fiche de suivi",
        "instructions": (
            "Pour chaque recommandation, choisissez le niveau de mise en œuvre dans la colonne G (entièrement, "
            "partiellement ou non mise en œuvre ; « Pas de données » si vos informations ne permettent pas d'en "
            "juger), expliquez-le dans la colonne H et citez vos sources dans la colonne I. Laissez la ligne vide si "
            "vous n'évaluez pas une recommandation. Ne modifiez ni l'identifiant ni le texte : ils servent à "
            "retrouver vos réponses. Indiquez ci-dessous le nom et le type de votre organisation et la date de "
            "votre évaluation, puis renvoyez le fichier tel quel."
        ),
        "meta": {"sur": "État examiné", "session": "Session", "stakeholder": "Partie prenante",
                 "stakeholder_type": "Type de partie prenante", "label": "Sigle", "as_of": "Date de l'évaluation"},
        "headers": {"id": "Identifiant", "paragraph": "Paragraphe", "text": "Recommandation",
                    "rs": "État(s) recommandant(s)", "response": "Réponse", "issues": "Thèmes",
                    "level": "Niveau de mise en œuvre", "comment": "Commentaire", "sources": "Sources"},
        "levels": vocab.level_labels("fr"),
        "types": vocab.type_labels("fr"),
        "responses": {"Accepted": "Acceptée", "Noted": "Notée", "Pending": "En attente", "Voluntary Pledge": "Engagement volontaire"},
        "cycle": "cycle {cycle}",
        "date_hint": "Date (AAAA-MM-JJ)",
        "level_prompt": "Choisissez un niveau dans la liste",
        "level_error": "Utilisez l'un des niveaux de la liste.",
    },
    "es": {
        "sheet": "Recomendaciones",
        "title": "Examen Periódico Universal - hoja de seguimiento",
        "instructions": (
            "Para cada recomendación, elija el nivel de implementación en la columna G (totalmente, parcialmente o "
            "no implementada; «Sin datos» si su información no permite juzgar), explíquelo en la columna H e indique "
            "sus fuentes en la columna I. Deje la fila vacía si no evalúa una recomendación. No modifique el "
            "identificador ni el texto: sirven para reconocer sus respuestas. Indique abajo el nombre y el tipo de "
            "su organización y la fecha de su evaluación, y devuelva el archivo tal cual."
        ),
        "meta": {"sur": "Estado examinado", "session": "Sesión", "stakeholder": "Parte interesada",
                 "stakeholder_type": "Tipo de parte interesada", "label": "Sigla", "as_of": "Fecha de la evaluación"},
        "headers": {"id": "Identificador", "paragraph": "Párrafo", "text": "Recomendación",
                    "rs": "Estado(s) recomendante(s)", "response": "Respuesta", "issues": "Temas",
                    "level": "Nivel de implementación", "comment": "Comentario", "sources": "Fuentes"},
        "levels": vocab.level_labels("es"),
        "types": vocab.type_labels("es"),
        "responses": {"Accepted": "Aceptada", "Noted": "Anotada", "Pending": "Pendiente", "Voluntary Pledge": "Compromiso voluntario"},
        "cycle": "ciclo {cycle}",
        "date_hint": "Fecha (AAAA-MM-DD)",
        "level_prompt": "Elija un nivel de la lista",
        "level_error": "Use uno de los niveles de la lista.",
    },
}


def sheet_language(header_id_cell: object) -> str:
    """The language of a sheet written by `upr sheet`, from its ID header cell (English when unknown)."""
    return next((k for k, t in TEXTS.items() if header_id_cell == t["headers"]["id"]), "en")


@cache
def header_words() -> dict[str, str]:
    """Folded header or label -> field (data/sheet_headers.csv)."""
    return {vocab.fold(r["synonym"]): r["field"] for r in vocab.read_csv("sheet_headers.csv")}


def field_of(header: str) -> str | None:
    """The field a header or label names, trying it whole, then without parentheses and a trailing colon part."""
    words = header_words()
    text = header.strip().rstrip(":*").strip()
    for candidate in (text, re.sub(r"\([^)]*\)", " ", text), text.split(":")[0]):
        f = words.get(vocab.fold(candidate))
        if f:
            return f
    return None


# --------------------------------------------------------------------------- reading


@dataclass
class Table:
    """One sheet (or a CSV file): its rows as text and where the header is."""

    sheet: str | None
    rows: list[list[str]]
    header: int = -1
    columns: dict[str, int] = field(default_factory=dict)
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (value, cell)

    def column_name(self, f: str) -> str:
        i = self.columns[f]
        return f"{column_letter(i)} ({self.rows[self.header][i].strip()})"

    def cell(self, f: str, row_index: int) -> str:
        return f"{column_letter(self.columns[f])}{row_index + 1}"


def read_tables(path: Path) -> tuple[str, list[Table]]:
    """Every sheet of a workbook (or the one table of a CSV file), cells as text."""
    kind = container(path)
    if kind in ("zip-xlsx", "ole2", "zip-ods"):
        fmt = {"zip-xlsx": "xlsx", "ole2": "xls", "zip-ods": "ods"}[kind]
        return fmt, _workbook_tables(path, fmt)
    if kind == "text":
        data = path.read_bytes()
        check_lines(data, path)  # a 50 MB file without a line break is refused at once, as import refuses it
        try:
            text, _enc = decode(data)
        except (UnicodeDecodeError, LookupError) as e:
            raise InputError(f"{path}: cannot decode the text ({e})", hint="save the sheet as UTF-8 CSV or as .xlsx") from None
        except InputError as e:  # mixed encodings
            raise with_path(e, path) from None
        refuse_nul(text, path)
        if not text.strip():
            raise InputError(f"{path}: the file holds no text", hint="export the sheet again")
        try:
            rows = csv_rows(text)
        except InputError as e:
            raise InputError(f"{path}: {e.message}", hint=e.hint or "save the sheet again as CSV or .xlsx") from None
        return "csv", [Table(None, [[c for c in r] for r in rows])]
    if kind == "pdf":
        raise InputError(f"{path}: a PDF document, not a response sheet", hint="send back the .xlsx sheet, or save the table as .csv")
    raise InputError(
        f"{path}: not a spreadsheet or CSV file upr can read ({kind})",
        hint="upr ingest reads .xlsx, .xls, .ods and .csv",
    )


def _workbook_tables(path: Path, fmt: str) -> list[Table]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine's own error types for damaged files
        raise InputError(f"{path}: cannot read the spreadsheet ({e})", hint="open it in Excel or LibreOffice and save it again as .xlsx") from None
    formulas = _formulas(path) if fmt == "xlsx" else {}
    tables: list[Table] = []
    for name in wb.sheet_names:
        try:
            sheet = wb.get_sheet_by_name(name)
            raw = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except Exception as e:
            raise InputError(f"{path}: cannot read sheet {name!r} ({e})", hint="save the file again as .xlsx") from None
        rows = [[cell_text(c) if not isinstance(c, (date, datetime)) else _iso(c) for c in r] for r in raw]
        for (r, c), text in formulas.get(name, {}).items():
            while len(rows) <= r:
                rows.append([])
            while len(rows[r]) <= c:
                rows[r].append("")
            rows[r][c] = text
        for (r1, c1), (r2, _c2) in merged:
            if r1 < len(rows) and c1 < len(rows[r1]):
                for r in range(r1 + 1, min(r2, len(rows) - 1) + 1):
                    while len(rows[r]) <= c1:
                        rows[r].append("")
                    if not rows[r][c1].strip():
                        rows[r][c1] = rows[r1][c1]
        tables.append(Table(name, rows))
    return tables


def _iso(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if not (value.hour or value.minute or value.second) else value.isoformat(sep=" ")
    return value.isoformat()


def _formulas(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Formula cells of an .xlsx as their text ('=HYPERLINK(...)'): formulas are never evaluated.

    Calamine returns a formula's cached result (or nothing when none was saved); the text is
    what the stakeholder typed, so it is what we keep. Only loaded when a sheet has formulas.
    """
    try:
        with zipfile.ZipFile(path) as z:
            has = any(
                n.startswith("xl/worksheets/") and n.endswith(".xml") and re.search(rb"<(?:\w+:)?f[ >]", z.read(n))
                for n in z.namelist()
            )
    except (zipfile.BadZipFile, OSError, KeyError):
        return {}
    if not has:
        return {}
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception:
        return {}
    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        for ws in wb.worksheets:
            found: dict[tuple[int, int], str] = {}
            for row in ws.iter_rows():
                for c in row:
                    if getattr(c, "data_type", None) == "f" and isinstance(c.value, str):
                        found[(c.row - 1, c.column - 1)] = c.value
            if found:
                out[ws.title] = found
    finally:
        wb.close()
    return out


def find_header(table: Table) -> bool:
    """Locate the header row and the meta cells above it; False when there is no usable header."""
    for i, row in enumerate(table.rows[:HEADER_SCAN]):
        found: dict[str, int] = {}
        for j, c in enumerate(row):
            f = field_of(c) if c.strip() else None
            if f in HEADER_FIELDS and f not in found:
                found[f] = j
        if "level" in found and any(f in found for f in MATCH_FIELDS):
            table.header = i
            table.columns = found
            table.meta = _meta(table.rows[:i])
            return True
    return False


def header_diagnosis(table: Table) -> str:
    """Why no header was found, for the message."""
    for i, row in enumerate(table.rows[:HEADER_SCAN]):
        found = {f for c in row if c.strip() and (f := field_of(c)) in HEADER_FIELDS}
        if found & set(MATCH_FIELDS) and "level" not in found:
            return f"row {i + 1} looks like a header but has no column for the level of implementation"
        if "level" in found and not found & set(MATCH_FIELDS):
            return f"row {i + 1} looks like a header but has no ID, paragraph or recommendation column"
    n = min(len(table.rows), HEADER_SCAN)
    return f"no header row in the first {n} rows" if n else "the sheet is empty"


def _meta(rows: list[list[str]]) -> dict[str, tuple[str, str]]:
    """'Label | value' (or 'Label: value') cells above the header."""
    meta: dict[str, tuple[str, str]] = {}
    for i, row in enumerate(rows):
        j = 0
        while j < len(row):
            text = row[j].strip()
            f = field_of(text) if text else None
            if f in META_FIELDS and f not in meta:
                value, where = "", f"{column_letter(j)}{i + 1}"
                if ":" in text and field_of(text.split(":")[0]) == f and text.split(":", 1)[1].strip():
                    value = text.split(":", 1)[1].strip()
                else:
                    for k in range(j + 1, len(row)):
                        if row[k].strip():
                            if field_of(row[k]) in META_FIELDS:
                                break
                            value, where = row[k].strip(), f"{column_letter(k)}{i + 1}"
                            j = k
                            break
                meta[f] = (value, where)
            j += 1
    return meta


# --------------------------------------------------------------------------- matching



def parse_date(value: str) -> str | None:
    """YYYY-MM-DD, YYYY-MM or YYYY (also with / or . and a time part); None when not a date."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[ T].*)?", v)
    if not m:
        return None
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        if d:
            return date(int(y), int(mo), int(d)).isoformat()
        if mo:
            date(int(y), int(mo), 1)
            return f"{y}-{int(mo):02d}"
    except ValueError:
        return None
    return y


def parse_sur(value: str) -> str | None:
    code = vocab.country_code(value)
    if code:
        return code
    m = re.search(r"\(([A-Z]{3})\)", value)
    if m and m.group(1) in vocab.countries():
        return m.group(1)
    return vocab.country_code(re.sub(r"\([^)]*\)", " ", value))



def get(table: Table, row: list[str], f: str) -> str:
    """The stripped text of field `f` in `row` ('' when the sheet has no such column)."""
    i = table.columns.get(f)
    if i is None or i >= len(row):
        return ""
    return row[i].strip()


@dataclass
class Options:
    stakeholder: str | None = None
    type: str | None = None
    label: str | None = None
    as_of: str | None = None
    sur: str | None = None

    @classmethod
    def given(cls, stakeholder: str | None, type: str | None, label: str | None, as_of: str | None, sur: str | None) -> Options:
        """The command line's overrides, checked: an unknown type, date or State is a usage error (exit 2)."""
        if as_of is not None:
            d = parse_date(as_of)
            if d is None:
                raise UsageError(f"--as-of {as_of!r}: not a date", hint="write it as YYYY-MM-DD")
            as_of = d
        return cls(stakeholder=" ".join(stakeholder.split()) if stakeholder else None,
                   type=vocab.resolve_type(type) if type is not None else None, label=label, as_of=as_of,
                   sur=vocab.resolve_state(sur, "--sur") if sur is not None else None)


Meta = dict[str, tuple[str, str, str | None]]  # field -> (value, cell, sheet)


@dataclass
class Who:
    """Who assessed and when, from the cells above the header or the options that override them; problems found."""

    file: str
    stakeholder: str | None = None
    stakeholder_type: str | None = None
    type_from_option: bool = False
    label: str | None = None
    as_of: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def problem(self, message: str, **where: Any) -> None:
        self.problems.append(Problem(message, file=self.file, **where))


def read_who(file: str, meta: Meta, opts: Options) -> Who:
    """The stakeholder's name, type, label and the date of the assessment (today when neither sheet nor option says)."""
    rep = Who(file)

    def at(f: str) -> dict:
        v = meta.get(f)
        return {"cell": v[1], "sheet": v[2]} if v else {}

    name = opts.stakeholder or (meta.get("stakeholder") or ("", "", None))[0]
    rep.stakeholder = " ".join(name.split()) or None
    if not rep.stakeholder:
        cell = meta.get("stakeholder")
        rep.problem("no stakeholder name", **at("stakeholder"),
                    hint=(f"fill the cell to the right of the label in {cell[1]} " if cell else "add a 'Stakeholder' cell above the header ")
                    + "or pass --stakeholder NAME")
    if opts.type:
        rep.stakeholder_type = opts.type
        rep.type_from_option = True
    elif meta.get("stakeholder_type") and meta["stakeholder_type"][0]:
        raw = meta["stakeholder_type"][0]
        rep.stakeholder_type = vocab.type_of(raw)
        if rep.stakeholder_type is None:
            rep.problem(f"unknown stakeholder type {raw!r}", value=raw, **at("stakeholder_type"),
                        hint="use State, NGO, NHRI, UN agency, Academic or Other (or pass --type)")
    label = opts.label or (meta.get("label") or ("", "", None))[0]
    rep.label = label.strip() or None
    if opts.as_of:
        rep.as_of = opts.as_of
    elif meta.get("as_of") and meta["as_of"][0]:
        raw = meta["as_of"][0]
        rep.as_of = parse_date(raw)
        if rep.as_of is None:
            rep.problem(f"the date {raw!r} is not understood", value=raw, **at("as_of"), hint="write it as YYYY-MM-DD, or pass --as-of")
    if rep.as_of is None and not rep.problems:
        rep.as_of = datetime.now(UTC).date().isoformat()
    return rep


def declared_state(who: Who, meta: Meta, tables: list[Table], opts: Options) -> tuple[str | None, str]:
    """The State the sheet says it is about (option, cell or column) and where it says so; problems go to `who`."""
    rep = who
    if opts.sur:
        return opts.sur, "--sur"
    if meta.get("sur") and meta["sur"][0]:
        raw, cell, sheet = meta["sur"]
        code = parse_sur(raw)
        if code is None:
            rep.problem(f"unknown State under review {raw!r}", value=raw, cell=cell, sheet=sheet, hint=vocab.country_hint(raw))
            return None, ""
        return code, f"cell {cell}"
    values: dict[str, str] = {}
    for t in tables:
        if "sur" in t.columns:
            for i in range(t.header + 1, len(t.rows)):
                v = get(t, t.rows[i], "sur")
                if v:
                    values.setdefault(v, t.cell("sur", i))
    codes = {parse_sur(v) for v in values}
    if len(codes) == 1 and None not in codes:
        return codes.pop(), f"column {next(iter(values.values()))[0]}"
    if len(codes) > 1:
        rep.problem("the State-under-review column names several States: " + ", ".join(sorted(values)),
                    hint="a response sheet is about one State; split the file")
    return None, ""


def _country(code: str) -> str:
    c = vocab.countries().get(code)
    return f"{c.name} ({code})" if c else code


@cache
def _level_headers() -> dict[str, str]:
    return {vocab.fold(t["headers"]["level"]): t["headers"]["level"] for t in TEXTS.values()}


def refuse_response_sheet(path: Path, rows: list[list[object]], scan: int = HEADER_SCAN) -> None:
    """A response sheet (`upr sheet`, filled or not) lists recommendations already in the store: importing it
    would add them again, without their session. Refused, pointing to `upr ingest`."""
    headers = _level_headers()
    for n, row in enumerate(rows[:scan], start=1):
        for c in row:
            text = cell_text(c).strip()
            if text and vocab.fold(text) in headers:
                raise InputError(
                    f"{path}: a response sheet (row {n} has the column {text!r}), not a list of recommendations; "
                    "nothing imported",
                    hint=f"to store a stakeholder's assessments from it: upr ingest {path} --stakeholder NAME --type TYPE "
                         "(its recommendations are already in the store)",
                    problems=[Problem("a response sheet, not a list of recommendations", file=str(path), row=n, column=text)],
                )
