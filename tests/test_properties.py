"""Property-based tests (hypothesis) for the parsers and normalisers.

Whatever the input, a normaliser returns a value of its documented kind or raises its
documented error (ValueError for the vocab parsers), and the importer (random CSV rows and
bytes) and the ingester (random response sheets) either store a file or refuse it with a
message (InputError): never another exception (a traceback for the user), never a
partial write.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from uprfollow import vocab
from uprfollow.errors import InputError
from uprfollow.formats.sniff import csv_rows, decode

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)

# --- vocabulary normalisers -----------------------------------------------------------------


@SETTINGS
@given(any_text)
@example("Côte d'Ivoire")
@example("St. Lucia & the Grenadines")
@example("\u0130stanbul")  # dotted capital I: lower() makes two characters
def test_fold_gives_plain_words(value):
    folded = vocab.fold(value)
    assert isinstance(folded, str)
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789§ " for c in folded)  # § kept: a header ("§" = paragraph)
    assert folded == folded.strip() and "  " not in folded


@SETTINGS
@given(st.one_of(any_text, st.sampled_from([c.name for c in vocab.countries().values()])))
@example("../../etc")
@example("(Unknown)")
def test_country_code_is_none_or_a_known_iso3(value):
    code = vocab.country_code(value)
    assert code is None or code in vocab.countries()


@pytest.mark.parametrize("name", ["Côte d'Ivoire", "Cote d'Ivoire", "Bolivia (Plurinational State of)", "Türkiye", "Turkey",
                                  "Viet Nam", "Swaziland", "St Lucia", "DPR Korea", "HTI"])
def test_country_code_known_spellings(name):
    assert vocab.country_code(name) is not None
    assert vocab.country_code(name.upper()) == vocab.country_code(name)
    assert vocab.country_code(f"  {name} ") == vocab.country_code(name)


numbers_as_text = st.one_of(
    any_text,
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.from_regex(r"\s*-?\s*\d{1,400}(\.0+)?\s*(st|nd|rd|th)?\s*(session)?\s*", fullmatch=True),
)
numbers = st.one_of(st.none(), numbers_as_text, st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True))


def _value_error_or(fn, value, ok):
    try:
        result = fn(value)
    except ValueError:
        return
    assert ok(result), (value, result)


@SETTINGS
@given(numbers)
@example("36th Session")
@example("- 36th session")
@example("12.0")
@example(12.0)
def test_session_number_is_a_session_or_value_error(value):
    _value_error_or(vocab.session_number, value, lambda r: r is None or r in vocab.sessions())


@SETTINGS
@given(numbers)
@example("5.0")
@example(5.0)
def test_action_level_is_1_to_5_or_value_error(value):
    _value_error_or(vocab.action_level, value, lambda r: r is None or r in (1, 2, 3, 4, 5))


@pytest.mark.parametrize("value", ["9" * 400, "1e999", "inf", float("inf"), float("-inf"), "-1e400"])
def test_huge_numbers_are_value_errors(value):
    """A 400-digit session or action must be 'not a session', not an OverflowError traceback."""
    for fn in (vocab.session_number, vocab.action_level):
        with pytest.raises(ValueError):
            fn(value)


@SETTINGS
@given(any_text)
def test_canonical_response_and_issue_name(value):
    assert vocab.canonical_response(value) in (None, *vocab.CANONICAL_RESPONSES)
    assert vocab.issue_name(value) in (None, *vocab.issues())


# --- text decoding and CSV --------------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=400))
@example(b"\xef\xbb\xbf")
@example(b"\xff\xfe\x00")
@example(b"caf\xc3\xa9 and caf\xe9")
def test_decode_any_bytes(data):
    try:
        text, enc = decode(data)
    except InputError as e:
        assert "mixes encodings" in e.message
        return
    except UnicodeDecodeError:  # documented: the readers turn it into an InputError naming the file
        assert data.startswith((b"\xff\xfe", b"\xfe\xff"))  # only a truncated UTF-16 text gets here
        return
    assert isinstance(text, str) and enc
    try:
        expected = data.decode("utf-8-sig")  # valid UTF-8 is read as UTF-8, unchanged (a BOM is dropped)
    except UnicodeDecodeError:
        return
    assert text == expected


@SETTINGS
@given(any_text)
def test_decode_round_trips_utf8(text):
    assume("\x00" not in text)
    got, enc = decode(text.encode("utf-8"))
    assert got == (text[1:] if text.startswith("\ufeff") else text) and enc in ("utf-8", "utf-8-sig")


@SETTINGS
@given(st.text(max_size=300))
def test_csv_rows_any_text(text):
    try:
        rows = csv_rows(text)
    except InputError:
        return
    assert all(isinstance(c, str) for r in rows for c in r)


@SETTINGS
@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00\r", codec="utf-8"), max_size=20),
                         min_size=3, max_size=3), min_size=1, max_size=8))
def test_csv_rows_round_trip(rows):
    """What csv.writer writes with commas, csv_rows reads back (any line ending, quotes, new lines in cells)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([["h1", "h2", "h3"], *rows])
    got = csv_rows(buf.getvalue())
    assert got[1:] == rows


# --- the importer on random files -----------------------------------------------------------

HEADER = ["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue", "Session"]
cell = st.one_of(
    st.sampled_from(["Haiti", "Norway", "Côte d'Ivoire", "(Unknown)", "&#40;Unknown&#41;", "Accepted", "Noted", "Supported",
                     "5", "5.0", "13", "36th Session", "Justice, Detention", "", " ", "=1+1", "../../etc"]),
    st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=30),
    st.from_regex(r"\d{1,40}(\.\d{0,3})?", fullmatch=True),
)
row = st.lists(cell, min_size=0, max_size=13)


def _store_state(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("recommendations", "recommending_states", "recommendation_issues", "recommendation_themes", "imports"))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def prop_store():
    from uprfollow.store import open_store

    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "prop.db"
        open_store(db).close()
        yield db


def _import_or_refuse(db: Path, data: bytes) -> None:
    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "random.csv"
        path.write_bytes(data)
        before = _store_state(db)
        with open_store(db) as store:
            try:
                reports = import_files(store, [path])
            except InputError as e:
                assert e.message
                assert _store_state(db) == before, "a refused file changed the store"
                return
        after = _store_state(db)
        added = sum(r.added for r in reports)
        assert after[0] == before[0] + added
        assert after[4] == before[4] + 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=0, max_size=6), st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "mac_roman", "utf-16"]),
       st.sampled_from(["\n", "\r", "\r\n"]))
def test_importer_on_random_rows(prop_store, rows, encoding, newline):
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows([HEADER, *rows])
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buf.getvalue().encode("utf-8")
    _import_or_refuse(prop_store, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.booleans())
def test_importer_on_random_bytes(prop_store, data, with_header):
    if with_header:
        data = ",".join(HEADER).encode() + b"\n" + data
    _import_or_refuse(prop_store, data)


# --- ingest on random response sheets ------------------------------------------------------

@pytest.fixture(scope="module")
def ingest_store():
    """A store with 30 recommendations to Haiti; each example copies it."""
    from hostile.make_corpus import upr_info_csv

    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "ingest.db"
        with open_store(db) as store:
            import_files(store, [upr_info_csv(Path(d) / "hti.csv", 30, seed=7, tag="p", sur="Haiti")])
            ids = [r[0] for r in store.conn.execute("SELECT id FROM recommendations")]
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield db, ids


def _assessment_state(db: Path) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("assessments", "ingests", "stakeholders"))
    finally:
        conn.close()


sheet_cell = st.one_of(
    st.sampled_from(["Fully implemented", "partially", "Not implemented", "No data", "mise en œuvre partielle", "Completed", "",
                     "=1+1", "maybe", "HTI-00-000000000000"]),
    st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=25),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), sheet_cell, sheet_cell), max_size=12),
       st.sampled_from([["ID", "Level of implementation", "Comment"], ["Recommendation", "Status", "Notes"], ["a", "b", "c"]]))
def test_ingest_on_random_sheets(ingest_store, tmp_path_factory, rows, header):
    from uprfollow.errors import UprError
    from uprfollow.ingest import ingest_files
    from uprfollow.store import open_store

    base, ids = ingest_store
    folder = tmp_path_factory.mktemp("ingest-prop")
    db = folder / "copy.db"
    db.write_bytes(base.read_bytes())
    buf = io.StringIO()
    csv.writer(buf).writerows([header] + [[ids[i % len(ids)] if use_id else a, a, b] for i, (use_id, a, b) in enumerate(rows)])
    sheet = folder / "sheet.csv"
    sheet.write_text(buf.getvalue(), encoding="utf-8")
    before = _assessment_state(db)
    with open_store(db) as store:
        try:
            result = ingest_files(store, [sheet], stakeholder="Random NGO", type="ngo", sur="HTI")
        except UprError as e:  # InputError for bad rows, UsageError for bad options: a message, never a traceback
            assert e.message
            assert _assessment_state(db) == before, "a refused sheet changed the store"
            return
    after = _assessment_state(db)
    added = sum(r.added for r in result.reports)
    assert after[0] == before[0] + added
