"""Languages of recommendation texts and their lemmas, for a search that joins irregular forms.

Porter stemming joins "children's" and "children" but not "child" and "children", nor
"woman" and "women", and knows no French or Spanish. Each recommendation therefore also
keeps its language (`en`, `fr` or `es`: from the file where the format says it, else
detected) and a second indexed column, `lemmas`: one token per word of the text, the word's
lemma in the text's language; French and Spanish lemmas are prefixed by their language
("fr_femme", "es_mujer"), English ones are bare ("woman"), so Datasette's plain search box
(which searches every column) finds "women" for "woman" too. A search word matches the text
as written (Porter) or any of its lemmas in the three languages, so "woman" finds "women" in
English texts and "femmes" finds "femme" in French ones, and a French lemma never matches an
English text (an unprefixed token can only come from an English one). One token per word
keeps "quoted phrases" working on lemmas too.

Lemmas come from simplemma (dictionary-based, no model download). Words are lemmatised
once per language and cached, so an import of tens of thousands of texts pays for each
distinct word once.
"""

from __future__ import annotations

import re
from functools import lru_cache

LANGUAGES = ("en", "fr", "es")
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish"}

# formats whose texts are all in one language (UPR Info's database is in English)
FORMAT_LANGUAGE = {"upr-info-csv": "en", "upr-info-xls": "en"}

# a word as FTS5's unicode61 tokenizer sees it: letters and digits (apostrophes, hyphens and '_' split)
WORD = re.compile(r"[^\W_]+")

# Frequent function words, for a fast first guess of the language; simplemma's detector
# settles texts where these are too few or tied.
_FUNCTION_WORDS = {
    "en": frozenset("the and of to in for with on its that all by as be are is this from their an".split()),
    "fr": frozenset("le la les des du et à pour dans sur aux au une un que qui est ses leur en par".split()),
    "es": frozenset("el los las del y para con por que una un sus su al es en se lo".split()),
}


@lru_cache(maxsize=200_000)
def lemma(word: str, language: str) -> str:
    """The lemma of one lower-case word in a language, reduced to letters and digits."""
    import simplemma

    try:
        found = simplemma.lemmatize(word, lang=language).lower()
    except ValueError:  # pragma: no cover - unsupported language code
        return word
    found = "".join(WORD.findall(found))
    return found or word


def detect_language(text: str) -> str:
    """'en', 'fr' or 'es': function words first, simplemma's detector when they do not decide."""
    words = [w.lower() for w in WORD.findall(text)]
    scores = {lang: sum(w in fw for w in words) for lang, fw in _FUNCTION_WORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top >= 2 and top >= 2 * second:
        return best
    import simplemma

    guess = simplemma.langdetect(text, lang=LANGUAGES)[0][0]
    return guess if guess in LANGUAGES else "en"


def normalise_language(value: str | None) -> str | None:
    """'en', 'English', 'fr', 'Français', 'Spanish', 'es-ES' ... -> a code of LANGUAGES, or None."""
    if not value:
        return None
    v = value.strip().lower()
    for code, name in LANGUAGE_NAMES.items():
        if v == code or v.startswith(code + "-") or v.startswith(code + "_") or v == name.lower():
            return code
    return {"français": "fr", "francais": "fr", "anglais": "en", "espagnol": "es", "español": "es", "espanol": "es",
            "inglés": "en", "ingles": "en", "francés": "fr", "frances": "fr"}.get(v)


_TOKENS: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def token(lemma_: str, language: str) -> str:
    """The indexed form of a lemma: bare for English, 'fr_'/'es_' before French and Spanish ones."""
    return lemma_ if language == "en" else f"{language}_{lemma_}"


def lemma_tokens(text: str, language: str) -> str:
    """The `lemmas` column of a text: one lemma per word, in order (see `token`)."""
    cache = _TOKENS.setdefault(language, {})
    if len(cache) > 500_000:  # a bound for enormous vocabularies (typos, numbers)
        cache.clear()
    words = WORD.findall(text.lower())
    out = list(map(cache.get, words))  # most words are known after the first texts: one C-level pass
    if None in out:
        for i, tok in enumerate(out):
            if tok is None:
                w = words[i]
                if w.isascii() and w.isdigit():  # a number is its own lemma, and numbers would fill the cache
                    out[i] = token(w, language)
                else:
                    out[i] = cache[w] = token(lemma(w, language), language)
    return " ".join(out)  # type: ignore[arg-type]


def analyse(text: str, language: str | None = None) -> tuple[str, str]:
    """(language, lemmas) of a recommendation text; the language is detected when not given."""
    lang = language if language in LANGUAGES else normalise_language(language) or detect_language(text)
    return lang, lemma_tokens(text, lang)


def query_lemmas(word: str) -> list[str]:
    """The lemma tokens a search word stands for, one per language (deduplicated, in order)."""
    out: list[str] = []
    for lang in LANGUAGES:
        tok = token(lemma(word.lower(), lang), lang)
        if tok not in out:
            out.append(tok)
    return out
