"""One vocabulary, one resolver per concept (issue 10): States, levels, stakeholder types, languages.

The same mistake gets the same message and exit code wherever it is made; the response sheet and
the digest write the same level and type words; grep shows one resolver and one level vocabulary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from followup_fixtures import invoke

from uprfollow import vocab
from uprfollow.formats import response_sheet
from uprfollow.formats.response_sheet import TEXTS

SRC = Path(__file__).resolve().parents[1] / "src" / "uprfollow"


def _sources() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")}


@pytest.fixture
def csv_file(tmp_path) -> Path:
    f = tmp_path / "recs.csv"
    f.write_text("Recommendation,State under review\nEnsure justice,Haiti\n", encoding="utf-8")
    return f


@pytest.mark.parametrize("command", ["import", "ingest", "search", "stats"])
def test_unknown_state_option_is_one_usage_error(command, csv_file, tmp_path):
    """`upr import --sur Narnia` exited 1 and `upr ingest --sur Narnia` 2, with three wordings: now exit 2, one message."""
    args = {"import": [str(csv_file)], "ingest": [str(csv_file)], "search": [], "stats": ["--by", "issue"]}[command]
    r = invoke(command, *args, "--sur", "Narnia", "--db", str(tmp_path / "s.db"))
    assert r.exit_code == 2, r.output
    assert "Error: unknown State 'Narnia' for --sur" in r.output
    assert not (tmp_path / "s.db").exists() or command != "import"


@pytest.mark.parametrize("command", [["status"], ["sheet", "-o", "x.xlsx"], ["mia"]])
def test_unknown_state_argument_is_one_usage_error(command, tmp_path):
    r = invoke(command[0], "Narnia", *command[1:], "--db", str(tmp_path / "s.db"))
    assert r.exit_code == 2, r.output
    assert "Error: unknown State 'Narnia'" in r.output and "for --" not in r.output


def test_one_state_resolver_in_the_code():
    """grep: the only function turning a typed State into a code-or-error is vocab.resolve_state; nothing else
    raises 'unknown State' for what a user typed (file contents say 'unknown State under review' / 'recommending State')."""
    defs = [name for name, text in _sources().items() if re.search(r"^def resolve_state\(", text, re.M)]
    assert defs == ["vocab.py"]
    raisers = {name for name, text in _sources().items() if re.search(r"""f?["']unknown (State|country) \{""", text)}
    assert raisers == {"vocab.py"}, raisers


def test_one_level_vocabulary_in_the_code():
    """grep: level words and labels live in data/level_words.csv, read by vocab.py only; no other module spells them."""
    spelled = {name for name, text in _sources().items()
               if re.search(r'"(Fully implemented|fully implemented|Partially implemented|Plenamente implementada|Totalmente implementada)"', text)
               or re.search(r'\("fully", "partially", "not"', text)}
    assert spelled <= {"vocab.py"}, spelled
    readers = {name for name, text in _sources().items() if re.search(r"[\"']level_words\.csv[\"']", text)}
    assert readers == {"vocab.py"}, readers
    assert len([1 for text in _sources().values() if re.search(r"^def level_of\(", text, re.M)]) == 1


def test_search_and_status_read_the_same_level_words(export_store):
    """`upr status --level "pas de données"` worked and `upr search --level "pas de données"` was refused."""
    for words in (["pas de données", "no_data", "No data", "Sin datos"], ["Totalement", "fully"], ["not assessed", "not_assessed"]):
        counts = set()
        for w in words:
            r = invoke("search", "--level", w, "--count", "--db", str(export_store))
            assert r.exit_code == 0, r.output
            counts.add(r.stdout.strip())
            r = invoke("status", "HTI", "--level", w, "--format", "json", "--db", str(export_store))
            assert r.exit_code == 0, r.output
        assert len(counts) == 1, (words, counts)
    r = invoke("search", "--level", "mostly", "--count", "--db", str(export_store))
    assert r.exit_code == 2 and "--level 'mostly': not a level" in r.output


@pytest.mark.parametrize("lang", vocab.LANGUAGES)
def test_sheet_and_digest_write_the_same_words(lang):
    """The Spanish sheet said "Plenamente implementada" and the digest "Totalmente implementada"; French
    "Universitaire" / "Milieu universitaire"."""
    from uprfollow.report.i18n import WORDS

    for lv, word in TEXTS[lang]["levels"].items():
        assert WORDS[f"level_{lv}"][lang] == word
        assert vocab.level_of(word) == lv
    for t, word in TEXTS[lang]["types"].items():
        assert WORDS[f"type_{t}"][lang] == word
        assert vocab.type_of(word) == t
        assert response_sheet.field_of(word) is None, f"the type {word!r} would be read as a label above the header"
    assert TEXTS["es"]["levels"]["fully"] == WORDS["level_fully"]["es"] == "Totalmente implementada"
    assert WORDS["type_academic"]["fr"] == TEXTS["fr"]["types"]["academic"]


def test_languages_and_types_have_one_resolver():
    from uprfollow.errors import UsageError

    assert vocab.resolve_language("FR") == "fr"
    with pytest.raises(UsageError, match="--lang 'de': not a language"):
        vocab.resolve_language("de")
    assert vocab.resolve_type("Milieu universitaire") == "academic" == vocab.resolve_type("Universitaire")
    with pytest.raises(UsageError, match="--type 'company': not a stakeholder type"):
        vocab.resolve_type("company")


def test_one_fold():
    """One fold for names, headers, levels and texts: 'œ' is 'oe', '§' is kept, '&' is 'and'."""
    assert vocab.fold("Mise en Œuvre") == vocab.fold("mise en oeuvre") == "mise en oeuvre"
    assert vocab.fold("§") == "§"
    assert vocab.fold("Trinidad & Tobago") == "trinidad and tobago"
    assert vocab.fold("St Lucia") == "saint lucia"
    defs = [name for name, text in _sources().items() if re.search(r"^def fold\(", text, re.M)]
    assert defs == ["vocab.py"]


def test_response_sheet_format_and_matching_have_their_own_modules():
    """The importer and the sample generator no longer reach into sheets/ingest for the sheet's words; matching
    does no I/O; ingest.py is a short orchestration (it was 1,073 lines)."""
    sources = _sources()
    for name in ("importer.py", "sample.py", "sheets.py"):
        assert not re.search(r"from \.(sheets|ingest) import", sources[name]), name
    assert "refuse_response_sheet" in sources["formats/response_sheet.py"]
    match = sources["match.py"]
    assert not re.search(r"\b(sqlite3|Store|open\(|\.execute\(|Path)\b", match)
    assert len(sources["ingest.py"].splitlines()) < 500
