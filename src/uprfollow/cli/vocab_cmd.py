"""`upr vocab`: list the vocabularies of the eight categories."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ._app import FormatOption, OutputFormat, app, print_json


class Vocabulary(str, Enum):
    countries = "countries"
    issues = "issues"
    actions = "actions"
    responses = "responses"
    sessions = "sessions"
    add_alias = "add-alias"


def vocabulary_rows(name: Vocabulary) -> list[dict]:
    from .. import vocab

    if name == Vocabulary.countries:
        return [
            {
                "iso3": c.iso3,
                "name": c.name,
                "official_name": c.name_official,
                "regional_group": c.regional_group,
                "organisations": ", ".join(c.organisations),
                "un_member": c.un_member,
            }
            for c in vocab.countries().values()
        ]
    if name == Vocabulary.issues:
        return [{"issue": i} for i in vocab.issues()]
    if name == Vocabulary.actions:
        return [
            {"level": a.level, "name": a.name, "definition": a.definition, "example_verbs": a.example_verbs}
            for a in vocab.action_categories().values()
        ]
    if name == Vocabulary.responses:
        return [{"spelling": r["spelling"], "canonical": r["canonical"], "source": r["source"]} for r in vocab.response_spellings()]
    return [{"session": s.session, "year": s.year, "cycle": s.cycle} for s in vocab.sessions().values()]


@app.command("vocab")
def vocab_cmd(
    name: Annotated[Vocabulary, typer.Argument(help="Which vocabulary to list, or add-alias.", case_sensitive=False)] = Vocabulary.countries,
    values: Annotated[
        list[str] | None,
        typer.Argument(help='For add-alias: the spelling and the ISO3 code ("Centeral African Republic" CAF).', show_default=False),
    ] = None,
    format: FormatOption = OutputFormat.table,
) -> None:
    """List a vocabulary: countries (ISO3, group, organisations), issues, actions, responses or sessions.

    `upr vocab add-alias "Centeral African Republic" CAF` adds your own spelling of a State to your
    vocabulary folder ($XDG_CONFIG_HOME/uprfollow/country_aliases.csv), read after the package's data.
    """
    if name == Vocabulary.add_alias:
        _add_alias(values or [])
        return
    if values:
        raise typer.BadParameter(f"unexpected arguments {values!r}", param_hint="NAME")
    rows = vocabulary_rows(name)
    if format == OutputFormat.json:
        print_json(rows)
        return
    from .output import print_table

    print_table([(col.replace("_", " "), {"overflow": "fold"}) for col in rows[0]],
                (["yes" if v is True else "no" if v is False else str(v) for v in r.values()] for r in rows))


def _add_alias(values: list[str]) -> None:
    from .. import vocab
    from ..errors import UsageError
    from ._app import err

    if len(values) != 2:
        raise UsageError('add-alias takes a spelling and an ISO3 code', hint='upr vocab add-alias "Centeral African Republic" CAF')
    alias, code = values
    known = vocab.country_code(alias)
    try:
        path = vocab.add_alias(alias, code)
    except ValueError as e:
        raise UsageError(str(e), hint="see `upr vocab countries` for the ISO3 codes") from None
    iso3 = vocab.country_code(alias)
    note = f" (it was read as {known} before)" if known and known != iso3 else ""
    err(f"{alias!r} now reads as {iso3}{note}; saved in {path}")
