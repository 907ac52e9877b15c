"""Every fixed word of the MIA digest in English, French and Spanish; names, numbers and dates through CLDR (Babel).

The fixed words are small hand-written tables (WORDS). Everything CLDR knows is taken
from it through Babel, so a French or Spanish digest has no English left in it:
State names (CLDR territory names, by the ISO 3166 alpha-2 code in data/countries.csv),
numbers (1,234 / 1 234 / 1.234; 0.75 / 0,75), percentages (48% / 48 % / 48 %) and
dates ("4 November 2013" / "4 novembre 2013" / "4 de noviembre de 2013"). UPR Info's
issue names come from data/issues_i18n.csv, written for the project.

English State names stay the project's own (data/countries.csv, UPR Info's spelling).
French typography (`typography`): a narrow no-break space (U+202F) before : ; ! ? and
inside « », applied to the fixed words (never to texts and comments, quoted as written).

The digest's bytes depend on the Babel (CLDR) version, as they depend on WeasyPrint's.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable
from functools import cache

from ..vocab import LANGUAGES  # the one list of languages

CLDR_LOCALES = {"en": "en_GB", "fr": "fr", "es": "es"}  # en_GB: "4 November 2013", as UPR Info writes dates

MIN_GROUPING_DIGITS = {"es": 2}  # CLDR numbers/minimumGroupingDigits (1 elsewhere)

NBSP = "\u00a0"
NNBSP = "\u202f"


@cache
def locale(lang: str):  # -> babel.Locale (imported on first use: `upr --help` stays quick)
    from babel import Locale

    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return Locale.parse(CLDR_LOCALES[lang])


@cache
def format_number(value: float | int, lang: str, decimals: int = 0) -> str:
    """A number as the language writes it (CLDR): 1,234 / 1 234 / 1.234; 0.75 / 0,75."""
    from babel.numbers import format_decimal

    rounded = round(value, decimals) if decimals else round(value)
    # CLDR's minimum grouping digits (Spanish: 2, so 1234 but 12.345), which Babel's patterns do not apply
    grouped = abs(rounded) >= 10 ** (2 + MIN_GROUPING_DIGITS.get(lang, 1))
    pattern = ("#,##0" if grouped else "0") + ("." + "0" * decimals if decimals else "")
    return format_decimal(rounded, format=pattern, locale=locale(lang), decimal_quantization=True)


@cache
def format_percent(share: float, lang: str, decimals: int = 0) -> str:
    """A share 0..1 as a percentage (CLDR): 48% / 48 % / 48 %."""
    from babel.numbers import format_percent as babel_percent

    pattern = None if not decimals else "#,##0." + "0" * decimals + "%"
    return babel_percent(share, format=pattern, locale=locale(lang))


def parse_date(value: str | None) -> dt.date | None:
    """An ISO date (or the date part of an ISO timestamp); None when absent or not a date."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@cache
def format_date(value: str | dt.date | None, lang: str) -> str:
    """'2014-03-21' -> '21 March 2014' / '21 mars 2014' / '21 de marzo de 2014' (CLDR long dates); other text stays."""
    if value is None or value == "":
        return ""
    d = value if isinstance(value, dt.date) else parse_date(value)
    if d is None:
        return str(value)
    from babel.dates import format_date as babel_date

    text = babel_date(d, "long", locale=locale(lang))
    if lang == "fr" and d.day == 1:  # French writes the first of the month as an ordinal: 1er août 2014
        text = re.sub(r"^1(?=\s)", "1er", text)
    return text


_FR_BEFORE = re.compile(r"[ \u00a0\u202f]*([:;!?])(?=\s|$|[»)])")
_FR_QUOTES = (re.compile(r"«[ \u00a0\u202f]*"), re.compile(r"[ \u00a0\u202f]*»"))


def typography(text: str, lang: str) -> str:
    """French: a narrow no-break space before : ; ! ? and inside « » (the other languages: unchanged)."""
    if lang != "fr":
        return text
    text = _FR_BEFORE.sub(NNBSP + r"\1", text)
    return _FR_QUOTES[1].sub(NNBSP + "»", _FR_QUOTES[0].sub("«" + NNBSP, text))


def colon(lang: str) -> str:
    """What follows a label: ':' or, in French, a narrow no-break space and ':'."""
    return NNBSP + ":" if lang == "fr" else ":"


@cache
def _countries_iso2() -> dict[str, str]:
    from .. import vocab

    return {c.iso3: c.iso2 for c in vocab.countries().values() if getattr(c, "iso2", None)}


def state_name(iso3: str, lang: str, english: str | None = None) -> str:
    """A State's name in `lang`: CLDR's territory name (Babel) for fr/es, the project's own name in English.

    An ISO3 code with no alpha-2 code or no CLDR name keeps its English name (or the code).
    """
    if lang == "en":
        return english or iso3
    iso2 = _countries_iso2().get(iso3)
    name = locale(lang).territories.get(iso2) if iso2 else None
    return (name or english or iso3).replace("\u2019", "'")


@cache
def issue_names() -> dict[str, dict[str, str]]:
    """UPR Info's issues in each language: {English name: {"en": ..., "fr": ..., "es": ...}} (data/issues_i18n.csv)."""
    from .. import vocab

    with open(vocab.data_dir() / "issues_i18n.csv", encoding="utf-8", newline="") as f:
        return {r["name"]: {"en": r["name"], "fr": r["fr"], "es": r["es"]} for r in csv.DictReader(f)}


def issue_name(issue: str | None, lang: str) -> str | None:
    """An issue's name in `lang`; a name not in the table (an OHCHR theme, a newer UPR Info issue) stays as written."""
    if issue is None:
        return None
    return issue_names().get(issue, {}).get(lang) or issue


# Every fixed word and sentence. Placeholders use str.format names; values are escaped by the templates.
WORDS: dict[str, dict[str, str]] = {
    # titles and running elements
    "mia_title": {"en": "Mid-term Implementation Assessment", "fr": "Évaluation de la mise en œuvre à mi-parcours",
                  "es": "Evaluación de la implementación a medio término"},
    "upr": {"en": "Universal Periodic Review", "fr": "Examen périodique universel", "es": "Examen Periódico Universal"},
    "page_x_of_y": {"en": "Page {x} of {y}", "fr": "Page {x} sur {y}", "es": "Página {x} de {y}"},
    "cover_review": {"en": "Review at session {session} ({year})", "fr": "Examen lors de la {session_ord} session ({year})",
                     "es": "Examen en el {session}.º período de sesiones ({year})"},
    "cover_reviews": {"en": "Reviews at sessions {sessions}", "fr": "Examens lors des sessions {sessions}",
                      "es": "Exámenes en los períodos de sesiones {sessions}"},
    "cover_cycle": {"en": "Cycle {cycle}", "fr": "Cycle {cycle}", "es": "Ciclo {cycle}"},
    "cover_assessed": {"en": "Assessment as of {date}", "fr": "Évaluation au {date}", "es": "Evaluación al {date}"},
    "cover_undated": {"en": "Assessment date not given in the sheets", "fr": "Date de l'évaluation non indiquée dans les fiches",
                      "es": "Fecha de la evaluación no indicada en las fichas"},
    "cover_counts": {"en": "{recs} recommendations · {stakeholders} stakeholders · {assessed} assessed",
                     "fr": "{recs} recommandations · {stakeholders} parties prenantes · {assessed} évaluées",
                     "es": "{recs} recomendaciones · {stakeholders} partes interesadas · {assessed} evaluadas"},
    "sample_notice_title": {"en": "Sample data", "fr": "Données d'exemple", "es": "Datos de ejemplo"},
    "sample_notice": {
        "en": "This digest was produced from fictional sample data for demonstration. It says nothing about the State named.",
        "fr": "Ce rapport a été produit à partir de données d'exemple fictives, pour démonstration. "
              "Il ne dit rien de l'État nommé.",
        "es": "Este informe se produjo con datos de ejemplo ficticios, a modo de demostración. "
              "No dice nada sobre el Estado nombrado.",
    },
    # contents
    "contents": {"en": "Contents", "fr": "Sommaire", "es": "Índice"},
    "introduction": {"en": "Introduction and methodology", "fr": "Introduction et méthodologie", "es": "Introducción y metodología"},
    "sources": {"en": "Sources", "fr": "Sources", "es": "Fuentes"},
    "index": {"en": "Implementation index", "fr": "Indice de mise en œuvre", "es": "Índice de implementación"},
    "by_response": {"en": "By response of the State", "fr": "Selon la réponse de l'État", "es": "Según la respuesta del Estado"},
    "by_action": {"en": "By action category", "fr": "Selon la catégorie d'action", "es": "Según la categoría de acción"},
    "recommendations": {"en": "Recommendations by issue", "fr": "Recommandations par thème", "es": "Recomendaciones por tema"},
    "annex": {"en": "Annex: recommendations not assessed", "fr": "Annexe : recommandations non évaluées",
              "es": "Anexo: recomendaciones no evaluadas"},
    # introduction
    "intro_p1": {
        "en": "This Mid-term Implementation Assessment compiles, for {state}, what stakeholders reported about the "
              "implementation of the {recs} recommendations the State received in the Universal Periodic Review ({scope}). "
              "{stakeholders} stakeholders sent an assessment; {assessed} recommendations were assessed by at least one of them.",
        "fr": "Cette évaluation à mi-parcours rassemble, pour {state}, ce que les parties prenantes ont indiqué sur la mise "
              "en œuvre des {recs} recommandations reçues par l'État lors de l'Examen périodique universel ({scope}). "
              "{stakeholders} parties prenantes ont envoyé une évaluation ; {assessed} recommandations ont été évaluées par "
              "au moins l'une d'elles.",
        "es": "Esta evaluación a medio término reúne, para {state}, lo que las partes interesadas informaron sobre la "
              "implementación de las {recs} recomendaciones que el Estado recibió en el Examen Periódico Universal ({scope}). "
              "{stakeholders} partes interesadas enviaron una evaluación; {assessed} recomendaciones fueron evaluadas por al "
              "menos una de ellas.",
    },
    "intro_levels": {
        "en": "Each stakeholder gave, for each recommendation, one of four levels:",
        "fr": "Chaque partie prenante a indiqué, pour chaque recommandation, l'un des quatre niveaux suivants :",
        "es": "Cada parte interesada indicó, para cada recomendación, uno de los cuatro niveles siguientes:",
    },
    "def_fully": {"en": "the recommendation has been implemented in full.", "fr": "la recommandation a été entièrement mise en œuvre.",
                  "es": "la recomendación se ha implementado por completo."},
    "def_partially": {"en": "some of what was recommended has been done.", "fr": "une partie de ce qui était recommandé a été fait.",
                      "es": "se ha hecho una parte de lo recomendado."},
    "def_not": {"en": "nothing has been done.", "fr": "rien n'a été fait.", "es": "no se ha hecho nada."},
    "def_no_data": {"en": "the information given does not allow a judgement.",
                    "fr": "les informations fournies ne permettent pas de juger.",
                    "es": "la información aportada no permite juzgar."},
    "intro_iri": {
        "en": "Where several stakeholders assessed the same recommendation, their levels are combined into UPR Info's "
              "Implementation of the Recommendation Index (IRI): not implemented counts 0, partially 0.5 and fully 1; "
              "\u201cno data\u201d is left out. The average, rounded to two decimals, gives the recommendation's level: "
              "0.00 to 0.32 not implemented, 0.33 to 0.65 partially implemented, 0.66 to 1.00 fully implemented.",
        "fr": "Lorsque plusieurs parties prenantes ont évalué la même recommandation, leurs niveaux sont combinés dans "
              "l'indice de mise en œuvre de la recommandation (IRI) d'UPR Info : non mise en œuvre vaut 0, partielle 0,5 et "
              "entière 1 ; « pas de données » n'est pas compté. La moyenne, arrondie à deux décimales, donne le niveau : "
              "de 0,00 à 0,32 non mise en œuvre, de 0,33 à 0,65 partiellement mise en œuvre, de 0,66 à 1,00 entièrement "
              "mise en œuvre.",
        "es": "Cuando varias partes interesadas evaluaron la misma recomendación, sus niveles se combinan en el Índice de "
              "Implementación de la Recomendación (IRI) de UPR Info: no implementada vale 0, parcialmente 0,5 y totalmente 1; "
              "«sin datos» no se cuenta. El promedio, redondeado a dos decimales, da el nivel: de 0,00 a 0,32 no "
              "implementada, de 0,33 a 0,65 parcialmente implementada, de 0,66 a 1,00 totalmente implementada.",
    },
    "intro_disputes": {
        "en": "A recommendation is disputed when its stakeholders give different levels. The index hides disagreement, so "
              "every voice is printed with its comment, and disputed recommendations are marked \u201c{disputed}\u201d. "
              "A recommendation nobody commented on is not assessed; those are listed in the annex. Triggered action is "
              "the number of recommendations fully or partially implemented.",
        "fr": "Une recommandation est contestée lorsque ses parties prenantes donnent des niveaux différents. L'indice masque "
              "le désaccord : chaque voix est donc reproduite avec son commentaire, et les recommandations contestées sont "
              "marquées « {disputed} ». Une recommandation que personne n'a commentée n'est pas évaluée ; elles figurent en "
              "annexe. L'action engagée est le nombre de recommandations entièrement ou partiellement mises en œuvre.",
        "es": "Una recomendación está en disputa cuando sus partes interesadas dan niveles distintos. El índice oculta el "
              "desacuerdo, por eso se reproduce cada voz con su comentario y las recomendaciones en disputa se marcan "
              "«{disputed}». Una recomendación que nadie comentó no está evaluada; figuran en el anexo. La acción iniciada "
              "es el número de recomendaciones total o parcialmente implementadas.",
    },
    "intro_contested": {
        "en": "Each recommendation shows every voice and its spread: the distance between the highest and the lowest level "
              "given (0 when all agree, 1 when one says fully and another not). A recommendation is contested when the State's "
              "own voice and the average of the other stakeholders' voices differ by at least 0.5; it is marked "
              "\u201c{contested}\u201d, and contested recommendations are counted by issue in the implementation index. "
              "Noted recommendations are kept with their levels: noted recommendations also trigger action.",
        "fr": "Chaque recommandation présente chaque voix et leur écart : la distance entre le niveau le plus haut et le plus bas "
              "(0 lorsque toutes concordent, 1 lorsque l'une dit entièrement et une autre non). Une recommandation est contestée "
              "lorsque la voix de l'État et la moyenne des voix des autres parties prenantes diffèrent d'au moins 0,5 ; elle est "
              "marquée « {contested} », et les recommandations contestées sont comptées par thème dans l'indice de mise en œuvre. "
              "Les recommandations notées sont conservées avec leurs niveaux : elles aussi suscitent des actions.",
        "es": "Cada recomendación muestra cada voz y su rango: la distancia entre el nivel más alto y el más bajo (0 cuando todas "
              "coinciden, 1 cuando una dice totalmente y otra no). Una recomendación está impugnada cuando la voz del Estado y el "
              "promedio de las voces de las demás partes interesadas difieren en al menos 0,5; se marca «{contested}», y las "
              "recomendaciones impugnadas se cuentan por tema en el índice de implementación. Las recomendaciones tomadas en "
              "cuenta se conservan con sus niveles: también ellas dan lugar a acciones.",
    },
    "numbering_paragraph": {
        "en": "Recommendations are cited by their paragraph number in the report of the Working Group.",
        "fr": "Les recommandations sont citées par leur numéro de paragraphe dans le rapport du Groupe de travail.",
        "es": "Las recomendaciones se citan por su número de párrafo en el informe del Grupo de Trabajo.",
    },
    "numbering_sequential": {
        "en": "No source gave the recommendations' paragraph numbers, so they are numbered R1, R2 ... in the order of this "
              "digest (by issue, then the annex); the data annex gives each number's identifier in the store.",
        "fr": "Aucune source ne donnait le numéro de paragraphe des recommandations : elles sont donc numérotées R1, R2 ... "
              "dans l'ordre de ce rapport (par thème, puis l'annexe) ; l'annexe des données donne l'identifiant de chaque "
              "numéro dans la base.",
        "es": "Ninguna fuente daba el número de párrafo de las recomendaciones, por lo que se numeran R1, R2 ... en el orden "
              "de este informe (por tema, luego el anexo); el anexo de datos da el identificador de cada número en la base.",
    },
    "numbering_mixed": {
        "en": "Recommendations are cited by their paragraph number in the report of the Working Group where a source gave "
              "one; the others are numbered R1, R2 ... in the order of this digest (by issue, then the annex).",
        "fr": "Les recommandations sont citées par leur numéro de paragraphe dans le rapport du Groupe de travail lorsqu'une "
              "source le donnait ; les autres sont numérotées R1, R2 ... dans l'ordre de ce rapport (par thème, puis l'annexe).",
        "es": "Las recomendaciones se citan por su número de párrafo en el informe del Grupo de Trabajo cuando una fuente lo "
              "daba; las demás se numeran R1, R2 ... en el orden de este informe (por tema, luego el anexo).",
    },
    "intro_texts": {
        "en": "Recommendation texts and stakeholders' comments are reproduced as written.",
        "fr": "Les textes des recommandations et les commentaires des parties prenantes sont reproduits tels quels.",
        "es": "Los textos de las recomendaciones y los comentarios de las partes interesadas se reproducen tal como se escribieron.",
    },
    # sources
    "sources_intro": {"en": "The assessments in this digest come from the following stakeholders.",
                      "fr": "Les évaluations de ce rapport proviennent des parties prenantes suivantes.",
                      "es": "Las evaluaciones de este informe proceden de las siguientes partes interesadas."},
    "stakeholder": {"en": "Stakeholder", "fr": "Partie prenante", "es": "Parte interesada"},
    "type": {"en": "Type", "fr": "Type", "es": "Tipo"},
    "label": {"en": "Label", "fr": "Sigle", "es": "Sigla"},
    "sheet_date": {"en": "Date of the sheet", "fr": "Date de la fiche", "es": "Fecha de la ficha"},
    "assessed_n": {"en": "Recommendations assessed", "fr": "Recommandations évaluées", "es": "Recomendaciones evaluadas"},
    # index
    "index_intro": {
        "en": "Level of each of the {recs} recommendations, from the IRI of its assessments.",
        "fr": "Niveau de chacune des {recs} recommandations, selon l'IRI de ses évaluations.",
        "es": "Nivel de cada una de las {recs} recomendaciones, según el IRI de sus evaluaciones.",
    },
    "level": {"en": "Level", "fr": "Niveau", "es": "Nivel"},
    "count": {"en": "Recommendations", "fr": "Recommandations", "es": "Recomendaciones"},
    "share": {"en": "Share", "fr": "Part", "es": "Proporción"},
    "total": {"en": "Total", "fr": "Total", "es": "Total"},
    "triggered": {"en": "Triggered action (fully + partially)", "fr": "Action engagée (entière + partielle)",
                  "es": "Acción iniciada (total + parcial)"},
    "triggered_short": {"en": "Triggered action", "fr": "Action engagée", "es": "Acción iniciada"},
    "triggered_of_assessed": {
        "en": "Triggered action: {n} of {assessed} assessed recommendations ({share}).",
        "fr": "Action engagée : {n} des {assessed} recommandations évaluées ({share}).",
        "es": "Acción iniciada: {n} de las {assessed} recomendaciones evaluadas ({share}).",
    },
    "disputed_n": {"en": "Disputed recommendations: {n}.", "fr": "Recommandations contestées : {n}.",
                   "es": "Recomendaciones en disputa: {n}."},
    "chart_alt": {
        "en": "Bar chart of the {recs} recommendations by level: {parts}. The same figures are in the table.",
        "fr": "Diagramme en barres des {recs} recommandations par niveau : {parts}. Les mêmes chiffres sont dans le tableau.",
        "es": "Gráfico de barras de las {recs} recomendaciones por nivel: {parts}. Las mismas cifras están en la tabla.",
    },
    "chart_split_alt": {
        "en": "Stacked bars of the recommendations by level, {what}: {parts}. The same figures are in the table.",
        "fr": "Barres empilées des recommandations par niveau, {what} : {parts}. Les mêmes chiffres sont dans le tableau.",
        "es": "Barras apiladas de las recomendaciones por nivel, {what}: {parts}. Las mismas cifras están en la tabla.",
    },
    "noted_triggered": {
        "en": "Noted recommendations: {n}, of which {assessed} assessed and {triggered} with triggered action.",
        "fr": "Recommandations notées : {n}, dont {assessed} évaluées et {triggered} ayant suscité une action.",
        "es": "Recomendaciones tomadas en cuenta: {n}, de las que {assessed} evaluadas y {triggered} con acción iniciada.",
    },
    "contested_title": {"en": "Contested recommendations by issue", "fr": "Recommandations contestées par thème",
                        "es": "Recomendaciones impugnadas por tema"},
    "contested_intro": {
        "en": "{n} of the {both} recommendations assessed by the State and at least one other stakeholder are contested: "
              "the State's voice and the others' average differ by at least 0.5.",
        "fr": "{n} des {both} recommandations évaluées par l'État et au moins une autre partie prenante sont contestées : "
              "la voix de l'État et la moyenne des autres diffèrent d'au moins 0,5.",
        "es": "{n} de las {both} recomendaciones evaluadas por el Estado y al menos otra parte interesada están impugnadas: "
              "la voz del Estado y el promedio de las demás difieren en al menos 0,5.",
    },
    "contested_none": {
        "en": "No recommendation is contested: where the State and other stakeholders assessed the same recommendation "
              "({both} recommendations), their voices differ by less than 0.5.",
        "fr": "Aucune recommandation n'est contestée : lorsque l'État et d'autres parties prenantes ont évalué la même "
              "recommandation ({both} recommandations), leurs voix diffèrent de moins de 0,5.",
        "es": "Ninguna recomendación está impugnada: cuando el Estado y otras partes interesadas evaluaron la misma "
              "recomendación ({both} recomendaciones), sus voces difieren en menos de 0,5.",
    },
    "issue": {"en": "Issue", "fr": "Thème", "es": "Tema"},
    "both_voices": {"en": "State and others", "fr": "État et autres", "es": "Estado y otros"},
    "contested_n": {"en": "Contested", "fr": "Contestées", "es": "Impugnadas"},
    "state_higher": {"en": "State rated higher", "fr": "État plus positif", "es": "Estado más positivo"},
    "response": {"en": "Response", "fr": "Réponse", "es": "Respuesta"},
    "action": {"en": "Action category", "fr": "Catégorie d'action", "es": "Categoría de acción"},
    "resp_Accepted": {"en": "Accepted", "fr": "Acceptée", "es": "Aceptada"},
    "resp_Noted": {"en": "Noted", "fr": "Notée", "es": "Tomada en cuenta"},
    "resp_Pending": {"en": "Pending", "fr": "En attente", "es": "Pendiente"},
    "resp_Voluntary Pledge": {"en": "Voluntary pledge", "fr": "Engagement volontaire", "es": "Compromiso voluntario"},
    "resp_none": {"en": "Not given", "fr": "Non indiquée", "es": "No indicada"},
    "action_1": {"en": "1 Minimal action", "fr": "1 Action minimale", "es": "1 Acción mínima"},
    "action_2": {"en": "2 Continuing action", "fr": "2 Action continue", "es": "2 Acción continua"},
    "action_3": {"en": "3 Considering action", "fr": "3 Action à envisager", "es": "3 Acción a considerar"},
    "action_4": {"en": "4 General action", "fr": "4 Action générale", "es": "4 Acción general"},
    "action_5": {"en": "5 Specific action", "fr": "5 Action spécifique", "es": "5 Acción específica"},
    "action_none": {"en": "Not given", "fr": "Non indiquée", "es": "No indicada"},
    # recommendations
    "recs_intro": {
        "en": "Each recommendation appears once, under the issue it shares with most of the State's recommendations; "
              "its other issues are listed with it.",
        "fr": "Chaque recommandation apparaît une fois, sous le thème qu'elle partage avec le plus grand nombre de "
              "recommandations de l'État ; ses autres thèmes sont indiqués avec elle.",
        "es": "Cada recomendación aparece una vez, bajo el tema que comparte con más recomendaciones del Estado; sus otros "
              "temas se indican con ella.",
    },
    "no_issue": {"en": "No issue given", "fr": "Aucun thème indiqué", "es": "Sin tema indicado"},
    "also": {"en": "Also", "fr": "Aussi", "es": "También"},
    "recommended_by": {"en": "Recommended by", "fr": "Recommandée par", "es": "Recomendada por"},
    "iri_level": {"en": "IRI", "fr": "IRI", "es": "IRI"},
    "disputed": {"en": "Disputed", "fr": "Avis divergents", "es": "En disputa"},
    "contested": {"en": "Contested", "fr": "Contestée", "es": "Impugnada"},
    "spread": {"en": "spread", "fr": "écart", "es": "rango"},
    "no_state_voice": {"en": "no voice of the State", "fr": "sans avis de l'État", "es": "sin opinión del Estado"},
    "comment": {"en": "Comment", "fr": "Commentaire", "es": "Comentario"},
    "no_comment": {"en": "(no comment)", "fr": "(pas de commentaire)", "es": "(sin comentario)"},
    "sources_cited": {"en": "Sources", "fr": "Sources", "es": "Fuentes"},
    "paragraph": {"en": "Paragraph", "fr": "Paragraphe", "es": "Párrafo"},
    "id": {"en": "Identifier in the store", "fr": "Identifiant dans la base", "es": "Identificador en la base"},
    "number": {"en": "No.", "fr": "N\u00b0", "es": "N.\u00ba"},
    "data_annex": {"en": "Data annex", "fr": "Annexe des données", "es": "Anexo de datos"},
    "data_annex_intro": {
        "en": "The file {file}, attached to this PDF, holds the data of this digest: one row per recommendation and voice, "
              "with the recommendation's number, its identifier in the store, its IRI and level, and each stakeholder's level "
              "and comment, so every figure can be checked. It was made from the store with the fingerprint {fingerprint} by "
              "the command below.",
        "fr": "Le fichier {file}, joint à ce PDF, contient les données de ce rapport : une ligne par recommandation et par voix, "
              "avec le numéro de la recommandation, son identifiant dans la base, son IRI et son niveau, et le niveau et le "
              "commentaire de chaque partie prenante, pour que chaque chiffre puisse être vérifié. Il a été produit à partir de "
              "la base d'empreinte {fingerprint} par la commande ci-dessous.",
        "es": "El archivo {file}, adjunto a este PDF, contiene los datos de este informe: una fila por recomendación y voz, con "
              "el número de la recomendación, su identificador en la base, su IRI y nivel, y el nivel y el comentario de cada "
              "parte interesada, para que cada cifra pueda comprobarse. Se produjo a partir de la base con la huella "
              "{fingerprint} mediante la orden siguiente.",
    },
    "n_recs": {"en": "{n} recommendations", "fr": "{n} recommandations", "es": "{n} recomendaciones"},
    "n_rec": {"en": "1 recommendation", "fr": "1 recommandation", "es": "1 recomendación"},
    # annex
    "annex_intro": {
        "en": "No stakeholder assessed the following {n} recommendations.",
        "fr": "Aucune partie prenante n'a évalué les {n} recommandations suivantes.",
        "es": "Ninguna parte interesada evaluó las {n} recomendaciones siguientes.",
    },
    "annex_none": {"en": "Every recommendation was assessed by at least one stakeholder.",
                   "fr": "Chaque recommandation a été évaluée par au moins une partie prenante.",
                   "es": "Cada recomendación fue evaluada por al menos una parte interesada."},
    "recommendation": {"en": "Recommendation", "fr": "Recommandation", "es": "Recomendación"},
    "scope_session": {"en": "session {session}, {year}", "fr": "{session_ord} session, {year}", "es": "{session}.º período de sesiones, {year}"},
    "scope_cycle": {"en": "cycle {cycle}", "fr": "cycle {cycle}", "es": "ciclo {cycle}"},
    "and": {"en": "and", "fr": "et", "es": "y"},
}


def _vocab_words() -> dict[str, dict[str, str]]:
    """The level and stakeholder-type words are those of the response sheet: one table in vocab (data/*.csv)."""
    from .. import vocab

    words = {f"level_{lv}": {lang: vocab.level_label(lv, lang) for lang in LANGUAGES} for lv in vocab.ALL_LEVELS}
    words |= {f"type_{t}": {lang: vocab.type_label(t, lang) for lang in LANGUAGES} for t in vocab.STAKEHOLDER_TYPES}
    return words


WORDS.update(_vocab_words())


def ordinal(n: int, lang: str) -> str:
    """French session ordinals: 1re, 2e, 12e (the other languages' patterns write the number alone)."""
    if lang == "fr":
        return "1re" if n == 1 else f"{n}e"
    return str(n)


def check_complete() -> list[str]:
    """Keys missing a language (empty when every word exists in every language)."""
    return [f"{k}:{lang}" for k, v in WORDS.items() for lang in LANGUAGES if not v.get(lang)]


@cache
def _typeset(key: str, lang: str) -> str:
    return typography(WORDS[key][lang], lang)


def translator(lang: str) -> Callable[..., str]:
    """t(key, **values): the fixed text in `lang`, with numbers already formatted by the caller."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")

    def t(key: str, **values: object) -> str:
        try:
            text = _typeset(key, lang)
        except KeyError:
            raise KeyError(f"no text {key!r} in the digest's vocabulary") from None
        return text.format(**values) if values else text

    return t


def join_list(items: list[str], lang: str) -> str:
    """'a, b and c' / 'a, b et c' / 'a, b y c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {WORDS['and'][lang]} " + items[-1]
