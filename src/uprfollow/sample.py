"""Fictional sample input files for demos and tests, and large synthetic exports for benchmarks.

Everything written here is INVENTED. State names, ISO3 codes, regional groups,
organisations, issues, action categories and sessions are the real vocabularies
(`vocab.py`), but every recommendation text is generated from action-category verbs and
issue-related phrases, and ends with the marker ``[fictional]``. Each file says so too:
a ``README.txt`` in the folder, "FICTIONAL SAMPLE" in sheet names, titles and page headers.

`write_sample(folder)` writes the four kinds of file `upr import` reads:

* ``upr-info-export-sample.csv``: a UPR Info database export as re-saved by Excel for Mac
  (MacRoman, CR line endings, header ``To,To-Rgrp,...,Session``), one row per
  (recommendation, recommending State);
* ``upr-info-export-sample.xlsx``: the same rows as the UPR Info spreadsheet
  (header ``SuR,Rgrp,Org,Recommendation,RS,...``); importing it after the CSV adds nothing;
* ``ohchr-matrix-sample.docx``: an OHCHR matrix of recommendations (Senegal, 31st session);
* ``liste-recommandations-sample.xlsx``: a hand-made list with French headers (Côte d'Ivoire,
  33rd session).

The export holds one State with enough recommendations for a demo digest: Haiti (HTI),
session 12. Output is deterministic for a given seed.

`synthetic_export_csv(path, n_rows, seed)` writes a large UPR Info-format CSV quickly
(a million rows in a few seconds) for the benchmarks.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import vocab

MARKER = "[fictional]"
TITLE = "[FICTIONAL SAMPLE]"
DEFAULT_SIZE = 400
DEFAULT_SEED = 2011

DEMO_STATE = "HTI"
DEMO_SESSION = 12
MATRIX_STATE = "SEN"
MATRIX_SESSION = 31
LIST_STATE = "CIV"
LIST_SESSION = 33

CSV_NAME = "upr-info-export-sample.csv"
XLSX_NAME = "upr-info-export-sample.xlsx"
MATRIX_NAME = "ohchr-matrix-sample.docx"
LIST_NAME = "liste-recommandations-sample.xlsx"
README_NAME = "README.txt"

UPR_INFO_CSV_HEADER = ["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session"]
UPR_INFO_XLS_HEADER = ["SuR", "Rgrp", "Org", "Recommendation", "RS", "Rgrp", "Org", "Response", "Action", "Issue", "Session"]
LIST_HEADER = ["N°", "État examiné", "Recommandation", "États recommandants", "Réponse", "Catégorie d'action", "Thèmes", "Session",
               "Observations"]

# (verb, object, UPR Info issues): the verb is the specific action (category 5) the templates build on.
PHRASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ratify", "the Second Optional Protocol to the International Covenant on Civil and Political Rights, aiming at the abolition of the death penalty",
     ("Death penalty", "International instruments")),
    ("establish", "an official moratorium on executions with a view to abolishing the death penalty", ("Death penalty",)),
    ("ratify", "the Optional Protocol to the Convention against Torture", ("Torture and other CID treatment", "International instruments")),
    ("investigate", "all allegations of torture and ill-treatment in places of detention and bring those responsible to justice",
     ("Torture and other CID treatment", "Impunity")),
    ("improve", "conditions of detention and reduce prison overcrowding, in particular the use of prolonged pre-trial detention", ("Detention",)),
    ("adopt", "a comprehensive law on violence against women, including domestic and sexual violence", ("Women's rights",)),
    ("amend", "the Civil Code to remove provisions that discriminate against women in marriage and inheritance", ("Women's rights",)),
    ("increase", "women’s participation in political life and in decision-making positions", ("Women's rights", "Elections")),
    ("adopt", "a national strategy to prevent child labour and the placement of children in domestic servitude", ("Rights of the Child", "Labour")),
    ("register", "every child at birth free of charge and issue late birth certificates", ("Rights of the Child",)),
    ("guarantee", "free and compulsory primary education for all children, including in rural areas", ("Right to education", "Rights of the Child")),
    ("increase", "the budget allocated to public health and to maternal health services", ("Right to health",)),
    ("prevent", "the spread of cholera by improving access to safe drinking water and sanitation", ("Right to health", "Right to water")),
    ("establish", "a national human rights institution fully in line with the Paris Principles", ("NHRI",)),
    ("strengthen", "the independence of the Office for the Protection of Citizens and give it adequate resources", ("NHRI",)),
    ("adopt", "a national plan of action for human rights with measurable targets", ("National plan of action",)),
    ("reform", "the judicial system to guarantee the independence of judges and reduce delays in trials", ("Justice",)),
    ("combat", "impunity for serious human rights violations committed under past regimes", ("Impunity", "Justice")),
    ("protect", "journalists and media workers and investigate all attacks against them", ("Freedom of the press", "Freedom of opinion and expression")),
    ("protect", "human rights defenders from threats and harassment and recognise their legitimate work", ("Human rights defenders",)),
    ("guarantee", "freedom of peaceful assembly and of association, in law and in practice", ("Freedom of association and peaceful assembly",)),
    ("adopt", "a law against trafficking in persons and train officials to identify victims", ("Trafficking",)),
    ("provide", "durable housing solutions to internally displaced persons living in camps", ("Internally displaced persons", "Right to housing")),
    ("implement", "a national strategy to reduce extreme poverty, with particular attention to rural areas", ("Poverty", "Development")),
    ("guarantee", "access to food for the most vulnerable households", ("Right to food", "Poverty")),
    ("ratify", "the Convention on the Rights of Persons with Disabilities and its Optional Protocol", ("Disabilities", "International instruments")),
    ("adopt", "measures to include persons with disabilities in education and employment", ("Disabilities",)),
    ("extend", "a standing invitation to all special procedures of the Human Rights Council", ("Special procedures",)),
    ("submit", "its overdue reports to the treaty bodies", ("Treaty bodies",)),
    ("train", "police officers and prison staff in human rights standards", ("Human rights education and training", "Public security")),
    ("prosecute", "members of the police responsible for extrajudicial killings, as provided by the Code pénal",
     ("Extrajudicial executions", "Human rights violations by state agents")),
    ("adopt", "legislation that prohibits discrimination on the basis of sexual orientation and gender identity", ("Sexual Orientation and Gender Identity",)),
    ("protect", "the rights of migrants and of returnees, in cooperation with neighbouring States", ("Migrants",)),
    ("combat", "corruption in public administration through an independent anti-corruption unit", ("Corruption",)),
    ("ensure", "free, fair and transparent elections, and the timely organisation of local elections", ("Elections",)),
    ("consult", "civil society organisations in the follow-up to the UPR recommendations", ("Civil society", "UPR process")),
    ("adopt", "a land law that protects the tenure rights of small farmers", ("Right to land",)),
    ("integrate", "environmental protection and disaster risk reduction into reconstruction plans", ("Environment", "Development")),
)

TEMPLATES: dict[int, tuple[str, ...]] = {
    1: ("Seek technical assistance from the Office of the High Commissioner to {v} {o}",
        "Request the support of the international community to {v} {o}"),
    2: ("Continue its efforts to {v} {o}", "Pursue its efforts to {v} {o}", "Continue to {v} {o}", "Maintain its commitment to {v} {o}"),
    3: ("Consider {ving} {o}", "Study the possibility of {ving} {o}", "Examine the possibility to {v} {o}", "Envisage {ving} {o}"),
    4: ("Take the necessary measures to {v} {o}", "Strengthen its efforts to {v} {o}", "Intensify its efforts to {v} {o}",
        "Take steps to {v} {o}"),
    5: ("{V} {o}", "{V} {o}", "{V}, within a set time frame, {o}", "{V} without delay {o}"),
}
# roughly UPR Info's shares for sessions 1-13 (502 / 3,506 / 2,224 / 9,235 / 8,017)
ACTION_WEIGHTS = (2, 15, 9, 39, 35)
NOTED_SHARE = {1: 0.05, 2: 0.03, 3: 0.3, 4: 0.12, 5: 0.35}

# UPR Info issue -> OHCHR theme (code and label as in the UHRI taxonomy)
THEMES: dict[str, str] = {
    "Death penalty": "D23 Death penalty",
    "International instruments": "A12 Acceptance of international norms",
    "Torture and other CID treatment": "D25 Prohibition of torture and cruel, inhuman or degrading treatment",
    "Impunity": "B52 Impunity",
    "Detention": "D26 Conditions of detention",
    "Women's rights": "F12 Discrimination against women",
    "Rights of the Child": "F31 Children: definition; general principles; protection",
    "Right to education": "E51 Right to education - General",
    "Right to health": "E41 Right to health - General",
    "NHRI": "A45 National Human Rights Institution (NHRI)",
    "National plan of action": "A46 National Plans of Action on Human Rights (or specific areas)",
    "Justice": "D51 Administration of justice & fair trial",
    "Freedom of the press": "D43 Freedom of opinion and expression",
    "Freedom of opinion and expression": "D43 Freedom of opinion and expression",
    "Human rights defenders": "H1 Human rights defenders",
    "Freedom of association and peaceful assembly": "D45 Freedom of association",
    "Trafficking": "D27 Prohibition of slavery, trafficking",
    "Poverty": "E25 Human rights & poverty",
    "Disabilities": "F4 Persons with disabilities",
    "Special procedures": "A24 Cooperation with special procedures",
    "Treaty bodies": "A22 Cooperation with treaty bodies",
    "Human rights education and training": "A51 Human rights education - general",
    "Migrants": "G4 Migrants",
    "Labour": "E31 Right to work",
    "Civil society": "A61 Cooperation with civil society",
    "Right to food": "E22 Right to food",
    "Right to housing": "E23 Right to adequate housing",
    "Internally displaced persons": "E23 Right to adequate housing",
    "Right to water": "E26 Human Rights & drinking water and sanitation",
    "Development": "B41 Right to development",
    "Environment": "B71 Human rights and the environment",
    "Elections": "D7 Right to participation in public affairs and right to vote",
}
OTHER_THEME = "B31 Equality & non-discrimination"

# Verbs that make a general action (category 4) even in the bare "{V} {o}" form.
GENERAL_VERBS = frozenset({"ensure", "guarantee", "strengthen", "protect", "combat", "improve", "increase", "prevent", "promote"})

# How OHCHR matrices name some States (UPR Info's short names elsewhere); all resolve through the alias tables.
OHCHR_NAMES: dict[str, str] = {
    "BOL": "Bolivia (Plurinational State of)", "VEN": "Venezuela (Bolivarian Republic of)", "IRN": "Iran (Islamic Republic of)",
    "GBR": "United Kingdom of Great Britain and Northern Ireland", "USA": "United States of America",
    "PRK": "Democratic People's Republic of Korea", "TZA": "United Republic of Tanzania", "SYR": "Syrian Arab Republic",
    "LAO": "Lao People's Democratic Republic", "MDA": "Republic of Moldova", "CIV": "Côte d'Ivoire",
    "TTO": "Trinidad and Tobago", "CZE": "Czechia", "TUR": "Türkiye", "MKD": "North Macedonia", "SWZ": "Eswatini",
    "COD": "Democratic Republic of the Congo",
}
SDG16 = "S16 SDG 16 - peace, justice and strong institutions"


def gerund(verb: str) -> str:
    """ratify -> ratifying, investigate -> investigating, guarantee -> guaranteeing."""
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


@dataclass
class SampleRec:
    """One invented recommendation: the text and everything the files say about it."""

    sur: str                     # ISO3
    session: int
    text: str
    rs: list[str]                # ISO3 of the recommending States
    action: int
    response: str                # Accepted / Noted
    issues: list[str]
    paragraph: str | None = None
    position: str | None = None  # OHCHR wording (Supported / Noted / Supported/Noted)
    themes: list[str] = field(default_factory=list)


def _recommenders() -> list[str]:
    """UN member States whose UPR Info name resolves back to them (all of them, checked)."""
    out = [c.iso3 for c in vocab.countries().values() if c.un_member and vocab.country_code(c.name) == c.iso3]
    return sorted(out)


def action_of(template_level: int, template: str, verb: str) -> int:
    """The action category UPR Info would give: the first verb decides."""
    if template_level == 5 and template.startswith("{V}") and verb in GENERAL_VERBS:
        return 4
    return template_level


def make_text(rng: random.Random, level: int, phrase: tuple[str, str, tuple[str, ...]]) -> tuple[str, int]:
    """(text ending with the fictional marker, its action category)."""
    verb, obj, _issues = phrase
    template = rng.choice(TEMPLATES[level])
    text = template.format(v=verb, V=verb.capitalize(), ving=gerund(verb), o=obj)
    return f"{text} {MARKER}", action_of(level, template, verb)


def make_recs(rng: random.Random, sur: str, session: int, n_rows: int, states: Sequence[str], *, joint_share: float = 0.08) -> list[SampleRec]:
    """Recommendations to `sur` adding up to `n_rows` (recommendation, recommending State) rows."""
    recs: list[SampleRec] = []
    rows = 0
    others = [s for s in states if s != sur]
    while rows < n_rows:
        level = rng.choices(range(1, 6), weights=ACTION_WEIGHTS)[0]
        phrase = rng.choice(PHRASES)
        text, action = make_text(rng, level, phrase)
        n_rs = 1
        if rng.random() < joint_share:
            n_rs = rng.choice((2, 2, 3))
        n_rs = min(n_rs, n_rows - rows)
        rs = rng.sample(others, n_rs)
        response = "Noted" if rng.random() < NOTED_SHARE[action] else "Accepted"
        issues = list(phrase[2])
        recs.append(SampleRec(sur, session, text, rs, action, response, issues))
        rows += n_rs
    return recs


def export_recs(size: int, seed: int) -> list[SampleRec]:
    """The recommendations of the sample UPR Info export: Haiti at session 12 first, then other States."""
    rng = random.Random(f"export:{seed}")
    states = _recommenders()
    demo_rows = min(size, max(60, size // 5))
    recs = make_recs(rng, DEMO_STATE, DEMO_SESSION, demo_rows, states)
    others = [s for s in states if s != DEMO_STATE]
    rng.shuffle(others)
    remaining = size - demo_rows
    p = 0
    while remaining > 0:
        sur = others[p % len(others)]
        first = 1 + (p * 7 + rng.randrange(12)) % 12            # a cycle-1 session (1-12)
        session = first + (0, 13, 26, 40)[(p // len(others)) % 4]  # later passes: cycles 2-4
        n = min(remaining, rng.randint(15, 60))
        recs.extend(make_recs(rng, sur, session, n, states))
        remaining -= n
        p += 1
    return recs


def _upr_info_rows(recs: Sequence[SampleRec]) -> Iterator[list[object]]:
    cs = vocab.countries()
    for r in recs:
        sur = cs[r.sur]
        for rs_code in r.rs:
            rs = cs[rs_code]
            yield [sur.name, sur.regional_group, ", ".join(sur.organisations), r.text, rs.name, rs.regional_group,
                   ", ".join(rs.organisations), r.response, r.action, ",".join(r.issues), r.session]


def write_upr_info_csv(path: Path, recs: Sequence[SampleRec]) -> Path:
    """The export as Excel for Mac re-saves it: MacRoman, CR line endings, `To,To-Rgrp,...` header."""
    path = _output(path)
    with open(path, "w", encoding="mac_roman", newline="") as f:
        w = csv.writer(f, lineterminator="\r")
        w.writerow(UPR_INFO_CSV_HEADER)
        w.writerows(_upr_info_rows(recs))
    return path


def write_upr_info_xlsx(path: Path, recs: Sequence[SampleRec]) -> Path:
    """The export as UPR Info's spreadsheet: one sheet, 11 columns, names repeated in the header."""
    path = _output(path)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("FICTIONAL SAMPLE")
    ws.append(UPR_INFO_XLS_HEADER)
    for row in _upr_info_rows(recs):
        ws.append(row)
    wb.save(path)
    return path


def matrix_recs(n: int, seed: int) -> list[SampleRec]:
    """Recommendations for the OHCHR matrix: paragraphs 28.1..28.n, OHCHR positions and themes."""
    rng = random.Random(f"matrix:{seed}")
    recs = make_recs(rng, MATRIX_STATE, MATRIX_SESSION, n, _recommenders(), joint_share=0.15)
    for i, r in enumerate(recs, start=1):
        r.paragraph = f"28.{i}"
        r.position = "Supported" if r.response == "Accepted" else "Noted"
        if r.response == "Noted" and rng.random() < 0.15:
            r.position = "Supported/Noted"
        themes = [THEMES.get(issue, OTHER_THEME) for issue in r.issues]
        r.themes = list(dict.fromkeys([*themes, SDG16]))
    return recs


def _theme_sort_key(theme: str) -> tuple[str, int]:
    code = theme.split(" ", 1)[0]
    return code[0], int("".join(ch for ch in code[1:] if ch.isdigit()) or 0)


def write_ohchr_matrix(path: Path, recs: Sequence[SampleRec]) -> Path:
    """An OHCHR matrix laid out like the real ones: landscape, one table grouped by theme."""
    path = _output(path)
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    cs = vocab.countries()
    sur = cs[MATRIX_STATE].name
    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    section.header.paragraphs[0].text = (
        f"UPR of {sur} (3rd Cycle – {MATRIX_SESSION}st session)\t\t{TITLE} Thematic list of recommendations"
    )
    doc.add_paragraph(f"{TITLE} Matrix of recommendations – invented texts for testing and demonstration, not UN data")
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    header = ["Recommendation", "Position", "Full list of themes", "Assessment/comments on level of implementation"]
    for cell, label in zip(table.rows[0].cells, header):
        cell.text = label
        for run in cell.paragraphs[0].runs:
            run.bold = True
    groups: dict[str, list[SampleRec]] = {}
    for r in recs:
        groups.setdefault(r.themes[0], []).append(r)
    for theme in sorted(groups, key=_theme_sort_key):
        row = table.add_row()
        merged = row.cells[0].merge(row.cells[3])
        merged.text = f"Theme: {theme}"
        merged.paragraphs[0].runs[0].bold = True
        for r in groups[theme]:
            cells = table.add_row().cells
            states = " ".join(f"({OHCHR_NAMES.get(c, cs[c].name)})" for c in r.rs)
            cells[0].text = f"{r.paragraph} {r.text} {states};"
            cells[0].add_paragraph(f"Source of position: A/HRC/40/5/Add.1 - Para. {2 + int(r.paragraph.split('.')[1]) % 7}")
            cells[1].text = r.position or ""
            cells[2].text = r.themes[0]
            for t in r.themes[1:]:
                cells[2].add_paragraph(t)
            cells[2].add_paragraph("Affected persons:")
            cells[2].add_paragraph("- general")
            cells[3].text = ""
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9)
    doc.save(str(path))
    return path


FRENCH_RESPONSES = {"Accepted": ("Acceptée", "Acceptée", "Soutenue"), "Noted": ("Notée", "Pris note")}


def list_recs(n: int, seed: int) -> list[SampleRec]:
    rng = random.Random(f"list:{seed}")
    recs = make_recs(rng, LIST_STATE, LIST_SESSION, n, _recommenders(), joint_share=0.2)
    for i, r in enumerate(recs, start=1):
        r.paragraph = f"139.{i}"
        r.position = rng.choice(FRENCH_RESPONSES[r.response])
    return recs


def write_hand_made_list(path: Path, recs: Sequence[SampleRec]) -> Path:
    """A list typed by hand: title rows, a blank row, French headers, an extra column, merged title."""
    path = _output(path)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    cs = vocab.countries()
    wb = Workbook()
    ws = wb.active
    ws.title = "Suivi EPU (FICTIF)"
    ws.append([f"{TITLE} Suivi des recommandations de l'EPU – {cs[LIST_STATE].name_official} (3e cycle)"])
    ws.append(["Liste fictive pour démonstration : textes inventés, ce ne sont pas des données des Nations Unies."])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LIST_HEADER))
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append(LIST_HEADER)
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for r in recs:
        ws.append([r.paragraph, "Côte d'Ivoire", r.text, "; ".join(cs[c].name for c in r.rs), r.position, r.action,
                   "; ".join(r.issues), r.session, ""])
    for letter, width in zip("ABCDEFGHI", (8, 16, 80, 30, 12, 10, 40, 9, 30)):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=5, min_col=3, max_col=3):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
    return path


README_TEXT = """\
FICTIONAL SAMPLE DATA - NOT UN OR UPR INFO DATA
================================================

These files were written by `upr sample` (uprfollow {version}, seed {seed}, size {size}).
Every recommendation text is INVENTED from a list of verbs and phrases and ends with
"[fictional]". The State names, ISO3 codes, regional groups, organisations, issues,
action categories and session numbers are real vocabularies, so the files exercise the
importer as real files would; the recommendations, who made them and how the States
responded are not real. Do not cite them.

Files:
  {csv}   UPR Info database export, CSV as re-saved by Excel for Mac
      (MacRoman, CR line endings); {rows} rows, {demo_rows} of them for {demo} (HTI), session {demo_session}
  {xlsx}  the same export as a UPR Info spreadsheet (.xlsx); importing it after
      the CSV adds nothing (the IDs are derived from content)
  {matrix}   OHCHR matrix of recommendations (Word), {matrix_state}, {matrix_session}st session, {matrix_n} recommendations
  {lst}   hand-made list with French headers, {list_state}, {list_session}rd session, {list_n} recommendations

Import them with:  upr import {folder}/*.csv {folder}/*.xlsx {folder}/*.docx
"""


@dataclass
class SampleFiles:
    folder: Path
    files: list[Path]
    export_rows: int
    demo_rows: int
    matrix_recommendations: int
    list_recommendations: int


def _output(path: Path) -> Path:
    """A file the sample writes: replaced if it exists, but never written through a symbolic link."""
    from .paths import safe_output_path

    return safe_output_path(path, force=True)


def write_sample(folder: str | Path, *, size: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> SampleFiles:
    """Write the fictional sample set into `folder` (created if needed); return what was written.

    `size` is the number of rows of the UPR Info export (at least 10); the matrix and the
    hand-made list grow with it (size/8 and size/16, within 20-400 and 12-200).
    """
    from . import __version__

    if size < 10:
        raise ValueError("size must be at least 10")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (CSV_NAME, XLSX_NAME, MATRIX_NAME, LIST_NAME, README_NAME):  # refuse a planted link before writing anything
        _output(folder / name)
    recs = export_recs(size, seed)
    demo_rows = sum(len(r.rs) for r in recs if r.sur == DEMO_STATE)
    matrix = matrix_recs(max(20, min(size // 8, 400)), seed)
    lst = list_recs(max(12, min(size // 16, 200)), seed)
    files = [
        write_upr_info_csv(folder / CSV_NAME, recs),
        write_upr_info_xlsx(folder / XLSX_NAME, recs),
        write_ohchr_matrix(folder / MATRIX_NAME, matrix),
        write_hand_made_list(folder / LIST_NAME, lst),
    ]
    cs = vocab.countries()
    readme = _output(folder / README_NAME)
    readme.write_text(
        README_TEXT.format(
            version=__version__, seed=seed, size=size, csv=CSV_NAME, xlsx=XLSX_NAME, matrix=MATRIX_NAME, lst=LIST_NAME,
            rows=size, demo_rows=demo_rows, demo=cs[DEMO_STATE].name, demo_session=DEMO_SESSION,
            matrix_state=cs[MATRIX_STATE].name, matrix_session=MATRIX_SESSION, matrix_n=len(matrix),
            list_state=cs[LIST_STATE].name, list_session=LIST_SESSION, list_n=len(lst), folder=folder,
        ),
        encoding="utf-8",
    )
    return SampleFiles(folder, [readme, *files], size, demo_rows, len(matrix), len(lst))


def synthetic_export_csv(path: str | Path, n_rows: int, seed: int = DEFAULT_SEED) -> Path:
    """A large UPR Info-format CSV (MacRoman, CR line endings) of `n_rows` fictional rows, fast.

    Texts are numbered ("[fictional #123]") so rows stay distinct; States, sessions,
    responses, actions and issues are drawn from the real vocabularies. About 8 s for a
    million rows (220 MB).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path = _output(path)
    rng = random.Random(f"synthetic:{seed}")
    cs = vocab.countries()
    states = _recommenders()
    who = {s: (cs[s].name, cs[s].regional_group, ", ".join(cs[s].organisations)) for s in states}
    sessions = {s: [1 + rng.randrange(12) + k for k in (0, 13, 26, 40)] for s in states}
    texts: list[tuple[str, int, str, float]] = []  # (text without marker, action, issues, noted share)
    weights: list[float] = []
    for level in range(1, 6):
        for template in TEMPLATES[level]:
            for verb, obj, issues in PHRASES:
                text = template.format(v=verb, V=verb.capitalize(), ving=gerund(verb), o=obj)
                action = action_of(level, template, verb)
                texts.append((text, action, ",".join(issues), NOTED_SHARE[action]))
                weights.append(ACTION_WEIGHTS[level - 1] / len(TEMPLATES[level]))
    batch = 10_000
    with open(path, "w", encoding="mac_roman", newline="") as f:
        w = csv.writer(f, lineterminator="\r")
        w.writerow(UPR_INFO_CSV_HEADER)
        done = 0
        while done < n_rows:
            k = min(batch, n_rows - done)
            surs = rng.choices(states, k=k)
            rss = rng.choices(states, k=k)
            picks = rng.choices(texts, weights=weights, k=k)
            rows = []
            for i in range(k):
                sur, rs, (text, action, issues, noted) = surs[i], rss[i], picks[i]
                to, fr = who[sur], who[rs]
                rows.append((to[0], to[1], to[2], f"{text} [fictional #{done + i + 1}]", fr[0], fr[1], fr[2],
                             "Noted" if rng.random() < noted else "Accepted", action, issues, sessions[sur][(done + i) % 4]))
            w.writerows(rows)
            done += k
    return path


# --------------------------------------------------------------------------- filled response sheets

@dataclass(frozen=True)
class SampleStakeholder:
    name: str
    type: str
    label: str
    as_of: str
    coverage: float                      # share of recommendations it assesses
    weights: tuple[float, float, float, float]  # fully, partially, not, no data


SAMPLE_STAKEHOLDERS = (
    SampleStakeholder("Government delegation (fictional)", "state", "State", "2013-09-30", 0.9, (0.35, 0.45, 0.15, 0.05)),
    SampleStakeholder("Coalition of civil-society organisations (fictional)", "ngo", "JS1", "2013-10-15", 0.7, (0.10, 0.40, 0.45, 0.05)),
    SampleStakeholder("National human rights office (fictional)", "nhri", "NHRI", "2013-10-20", 0.5, (0.15, 0.45, 0.35, 0.05)),
    SampleStakeholder("UN country team (fictional)", "un", "UNCT", "2013-11-04", 0.35, (0.20, 0.45, 0.30, 0.05)),
)
_COMMENTS = {
    "fully": ("A law adopted in 2013 covers this [fictional].", "The measure is in force and funded [fictional]."),
    "partially": ("A draft bill is before parliament [fictional].", "Steps taken in the capital only [fictional]."),
    "not": ("No measure has been taken since the review [fictional].", "The plan announced was not funded [fictional]."),
    "no_data": ("We could not obtain information on this [fictional].",),
}


def fill_sheets(sheet: str | Path, folder: str | Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    """Fill copies of a response sheet written by `upr sheet` as four FICTIONAL stakeholders would.

    Each stakeholder assesses a share of the recommendations with its own leaning, so some
    recommendations get several voices that disagree; its name, type, label and date go in
    the sheet's own cells. Comments are invented and marked "[fictional]".
    """
    from openpyxl import load_workbook

    from .formats.response_sheet import COLUMNS, HEADER_ROW, TEXTS, sheet_language

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for s in SAMPLE_STAKEHOLDERS:
        wb = load_workbook(sheet)
        ws = wb.worksheets[0]
        lang = sheet_language(ws.cell(HEADER_ROW, 1).value)
        words = TEXTS[lang]["levels"]
        ws.cell(4, 3).value = s.name
        ws.cell(4, 5).value = TEXTS[lang]["types"][s.type]
        ws.cell(5, 3).value = s.label
        ws.cell(5, 5).value = s.as_of
        rng = random.Random(f"{seed}-{s.label}")
        level_col = COLUMNS.index("level") + 1
        for r in range(HEADER_ROW + 1, ws.max_row + 1):
            if not ws.cell(r, 1).value or rng.random() > s.coverage:
                continue
            level = rng.choices(vocab.LEVELS, weights=s.weights)[0]
            ws.cell(r, level_col).value = words[level]
            ws.cell(r, level_col + 1).value = rng.choice(_COMMENTS[level])
            ws.cell(r, level_col + 2).value = f"{s.label} follow-up report, 2013 [fictional]"
        path = _output(folder / f"{Path(sheet).stem}-{s.label}.xlsx")
        wb.save(path)
        written.append(path)
    return written
