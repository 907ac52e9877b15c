"""`upr mia`: the MIA digest of HTI from the real UPR Info export with four stakeholders' assessments.

The HTI PDF is rendered once per language (module-scoped fixtures); the rest runs on HTML
or on a small synthetic store so the module stays quick.
"""

from __future__ import annotations

import re
import sqlite3
from io import BytesIO
from pathlib import Path

import pytest
from mia_fixtures import HOSTILE_COMMENT, HTI_STAKEHOLDERS, assess_state, synthetic_store
from pypdf import PdfReader

from uprfollow.cli import app
from uprfollow.iri import statuses, summarise
from uprfollow.report.data import is_contested
from uprfollow.store import open_store


@pytest.fixture(scope="module")
def hti_store(export_store, tmp_path_factory) -> Path:
    """The real export store plus four stakeholders' assessments of HTI; one comment is hostile."""
    dest = tmp_path_factory.mktemp("mia") / "hti.db"
    src, dst = sqlite3.connect(export_store), sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    assess_state(dst, "HTI")
    with dst:
        dst.execute(
            "UPDATE assessments SET comment = ? WHERE id = (SELECT min(a.id) FROM assessments a JOIN stakeholders s "
            "ON s.id = a.stakeholder_id WHERE s.label = 'JS1')",
            (HOSTILE_COMMENT,),
        )
    dst.close()
    return dest


@pytest.fixture(scope="module")
def hti_items(hti_store):
    with open_store(hti_store, readonly=True) as store:
        return statuses(store, "HTI", cycle=1)


@pytest.fixture(scope="module")
def hti_en(hti_store):
    """HTI rendered in English through the library, with every URL the renderer asked for."""
    from uprfollow.report import build_digest, render_html, render_pdf

    asked: list[str] = []
    with open_store(hti_store, readonly=True) as store:
        d = build_digest(store, "HTI")
    html = render_html(d, "en")
    pdf = render_pdf(html, fetch_log=asked.append)
    return {"html": html, "pdf": pdf, "asked": asked, "digest": d}


def pdf_pages(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(BytesIO(data)).pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def hti_text(hti_en) -> list[str]:
    return pdf_pages(hti_en["pdf"])


@pytest.fixture(scope="module", params=["fr", "es"])
def hti_other(request, hti_store, tmp_path_factory):
    """HTI rendered in French and Spanish through the CLI."""
    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp(request.param) / f"hti-{request.param}.pdf"
    result = CliRunner().invoke(app, ["mia", "HTI", "--lang", request.param, "-o", str(out), "--db", str(hti_store)])
    assert result.exit_code == 0, result.output
    return request.param, result, pdf_pages(out.read_bytes()), out.read_bytes()


def test_hti_every_stakeholder_and_assessed_recommendation(hti_text, hti_items):
    text = "\n".join(hti_text)
    flat = squash(text)
    for sh in HTI_STAKEHOLDERS:
        assert sh.label in text
        assert squash(sh.name) in flat
    assessed = [s for s in hti_items if s.voices]
    assert len(assessed) > 100
    for s in hti_items:  # assessed ones in the body, the others in the annex: every one of the 136 appears
        assert squash(s.paragraph or s.id) in flat, s.id
    assert len(hti_items) == 136


def test_hti_index_counts_equal_iri_summary(hti_text, hti_items):
    summary = summarise(hti_items)
    page = next(p for p in hti_text if re.search(r"^Implementation index$", p, re.M))  # the heading, not the contents line
    for label, level in (("Fully implemented", "fully"), ("Partially implemented", "partially"), ("Not implemented", "not"),
                         ("No data", "no_data"), ("Not assessed", "not_assessed")):
        m = re.search(rf"^{label} (\d+) (\d+)%$", page, re.M)
        assert m, label
        assert int(m.group(1)) == summary.counts[level]
        assert int(m.group(2)) == round(100 * summary.share(level))
    assert re.search(rf"^Triggered action \(fully \+ partially\) {summary.triggered} ", page, re.M)
    assert f"Triggered action: {summary.triggered} of {summary.assessed} assessed" in page


def test_hti_disputes_marked(hti_text, hti_items):
    disputed = sum(1 for s in hti_items if s.disputed)
    assert disputed > 10
    body = "\n".join(hti_text)
    contested = sum(1 for s in hti_items if is_contested(s))
    assert 0 < contested < disputed  # contested (State vs the others' average >= 0.5) is a kind of dispute
    assert body.count("⚠ CONTESTED") == contested
    assert body.count("⚠ DISPUTED") == disputed - contested
    assert f"Disputed\nrecommendations: {disputed}." in body or f"Disputed recommendations: {disputed}." in body


def test_hti_page_x_of_y_and_structure(hti_text):
    n = len(hti_text)
    assert n > 10
    for i, page in enumerate(hti_text[1:], start=2):  # the cover has no footer
        assert f"Page {i} of {n}" in page
    assert "Page 1 of" not in hti_text[0]
    assert "Haiti" in hti_text[0] and "Review at session 12 (2011)" in hti_text[0]
    assert "Assessment as of 4 November 2013" in hti_text[0]
    assert "Sample data" not in hti_text[0]  # real data: no sample notice
    assert hti_text[1].startswith("Contents")
    assert any(p.startswith("Annex: recommendations not assessed") for p in hti_text)


def test_hti_pdf_ua_with_language_and_title(hti_en):
    reader = PdfReader(BytesIO(hti_en["pdf"]))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert "/StructTreeRoot" in root
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    xmp = root["/Metadata"].get_object().get_data()
    assert b'pdfuaid:part="1"' in xmp
    assert reader.metadata.title == "Mid-term Implementation Assessment: Haiti (cycle 1)"
    assert reader.metadata["/CreationDate"] == "D:20131104"  # the latest as-of date, not the time of the run


def test_hti_chart_has_text_alternative_and_table(hti_en):
    html = hti_en["html"]
    assert html.count("<svg") == 3
    assert '<title>Bar chart of the 136 recommendations by level: Fully implemented' in html
    assert 'class="data levels-table"' in html and 'class="data split"' in html


def test_hostile_comment_is_text_and_nothing_fetched(hti_en, hti_text):
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in hti_en["html"]
    assert "<script>" not in hti_en["html"]
    flat = squash("\n".join(hti_text))
    assert squash(HOSTILE_COMMENT) in flat  # the PDF shows the characters
    for url in hti_en["asked"]:
        assert url.startswith("data:") or url.startswith("file:") and "/templates/" in url, url
    assert not any("passwd" in u or u.startswith("http") for u in hti_en["asked"])


def test_fetcher_refuses_files_and_urls(tmp_path):
    from uprfollow.report.render import make_fetcher, templates_dir

    asked: list[str] = []
    fetcher = make_fetcher([templates_dir()], asked.append)
    for url in ("file:///etc/passwd", "http://example.org/x.png", "https://example.org/", "ftp://example.org/a",
                (templates_dir() / ".." / ".." / "etc" / "passwd").as_uri(), templates_dir().as_uri() + "/../pyproject.toml"):
        with pytest.raises(ValueError, match="fetches only"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    assert b"@page" in fetcher.fetch((templates_dir() / "mia.css").as_uri()).read()
    assert asked[0] == "file:///etc/passwd"


def test_hti_french_and_spanish_fixed_words(hti_other, hti_items):
    lang, result, pages, _ = hti_other
    n = len(pages)
    disputed = sum(1 for s in hti_items if s.disputed and not is_contested(s))
    words = {
        "fr": ("Évaluation de la mise en œuvre à mi-parcours", "Sommaire", "Indice de mise en œuvre", "Page 3 sur", "AVIS DIVERGENTS",
               "Entièrement mise en œuvre", "Évaluation au 4 novembre 2013", "Annexe\u202f: recommandations non évaluées", "\u00a0%",
               "Haïti", "Recommandée par\u202f: ", "Recommandations contestées par thème", "Droits de l'enfant", "CONTESTÉE"),
        "es": ("Evaluación de la implementación a medio término", "Índice", "Índice de implementación", "Página 3 de", "EN DISPUTA",
               "Totalmente implementada", "Evaluación al 4 de noviembre de 2013", "Anexo: recomendaciones no evaluadas", "\u00a0%",
               "Haití", "Recomendada por: ", "Recomendaciones impugnadas por tema", "Derechos del niño", "IMPUGNADA"),
    }[lang]
    text = "\n".join(pages)
    for w in words:
        assert w in text, (lang, w)
    assert (f"Page {n} sur {n}" if lang == "fr" else f"Página {n} de {n}") in pages[-1]
    assert text.count("⚠ " + words[4]) == disputed
    assert "Mid-term Implementation Assessment" not in text and "Page 2 of" not in text
    if lang == "fr":  # French typography: a narrow no-break space before the colon of every label
        assert "Recommandée par:" not in text and "Recommandée par :" not in text
    assert result.stdout.strip().endswith(f"hti-{lang}.pdf")


def test_html_is_reproducible_and_languages_differ(hti_store):
    from uprfollow.report import build_digest, render_html

    with open_store(hti_store, readonly=True) as store:
        a = render_html(build_digest(store, "HTI"), "en")
        b = render_html(build_digest(store, "HTI"), "en")
        fr = render_html(build_digest(store, "HTI"), "fr")
    assert a == b
    assert '<html lang="fr">' in fr and fr != a


def test_cli_html_output_name(hti_store, runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["mia", "haiti", "--format", "html", "--db", str(hti_store)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "MIA-HTI-cycle1-en.html\n"
    assert (tmp_path / "MIA-HTI-cycle1-en.html").read_text().startswith("<!DOCTYPE html>")
    result = runner.invoke(app, ["mia", "HTI", "--session", "12", "--format", "html", "--lang", "es", "--db", str(hti_store)])
    assert result.stdout == "MIA-HTI-session12-es.html\n"
    # choices take any case, as State names do (a newcomer typed --lang FR)
    result = runner.invoke(app, ["mia", "HTI", "--format", "HTML", "--lang", "FR", "--db", str(hti_store)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "MIA-HTI-cycle1-fr.html\n"
    assert '<html lang="fr">' in (tmp_path / "MIA-HTI-cycle1-fr.html").read_text()


def test_template_dir_overrides_a_partial(hti_store, runner, tmp_path):
    mine = tmp_path / "mine" / "partials"
    mine.mkdir(parents=True)
    (mine / "annex.html").write_text('<section id="annex"><h2>My annex</h2><p>{{ d.not_assessed|length }} left {{ "<b>" }}</p></section>\n')
    out = tmp_path / "x.html"
    result = runner.invoke(app, ["mia", "HTI", "-f", "html", "-o", str(out), "--template-dir", str(tmp_path / "mine"), "--db", str(hti_store)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<h2>My annex</h2><p>8 left &lt;b&gt;</p>" in html  # autoescape applies to user templates too
    assert "Implementation index" in html  # the other partials are the built-in ones

    (mine / "annex.html").write_text("{{ no_such_name }}")
    result = runner.invoke(app, ["mia", "HTI", "-f", "html", "-o", str(out), "--template-dir", str(tmp_path / "mine"), "--db", str(hti_store)])
    assert result.exit_code == 1
    assert "Error: a template uses an unknown name: 'no_such_name' is undefined" in result.stderr


def test_state_without_assessments(hti_store, runner, tmp_path):
    out = tmp_path / "fra.pdf"
    result = runner.invoke(app, ["mia", "FRA", "-o", str(out), "--db", str(hti_store)])
    assert result.exit_code == 1
    assert "Error: France (FRA) has no assessments in the store (36 recommendations, none assessed)" in result.stderr
    assert "upr ingest" in result.stderr
    assert not out.exists() and result.stdout == ""


def test_unknown_state_suggests_closest(hti_store, runner):
    result = runner.invoke(app, ["mia", "Hati", "--db", str(hti_store)])
    assert result.exit_code == 2  # like sheet, status and search: an unknown State is a usage error
    assert "Error: unknown State 'Hati'" in result.stderr
    assert "did you mean Haiti (HTI)" in result.stderr


def test_usage_errors(runner, tmp_path):
    assert runner.invoke(app, ["mia"]).exit_code == 2
    assert runner.invoke(app, ["mia", "--all"]).exit_code == 2
    assert runner.invoke(app, ["mia", "HTI", "--session", "12", "--cycle", "1"]).exit_code == 2


def test_session_out_of_range_is_a_usage_error(hti_store, runner):
    """Like `upr search --session 99`: exit 2, and the hint gives the range (a newcomer got exit 1 and no hint)."""
    result = runner.invoke(app, ["mia", "HTI", "--session", "99", "--db", str(hti_store)])
    assert result.exit_code == 2, result.output
    assert "not a UPR session" in result.stderr
    assert "sessions run from 1 to" in result.stderr and "upr vocab sessions" in result.stderr


# --- small synthetic stores: batch, sample notice, PDF reproducibility -----------------------------------------------


@pytest.fixture
def small_store(tmp_path) -> Path:
    path = synthetic_store(tmp_path / "small.db", ["HTI", "MLI", "NPL"], per_state=6)
    synthetic_store(path, ["FRA"], per_state=4, assess=False)
    return path


def test_pdf_reproducible_byte_for_byte(small_store):
    from uprfollow.report import build_digest, render_html, render_pdf

    with open_store(small_store, readonly=True) as store:
        a = render_pdf(render_html(build_digest(store, "MLI"), "en"))
        b = render_pdf(render_html(build_digest(store, "MLI"), "en"))
    assert a == b


def test_render_leaves_zlib_and_the_collector_as_found(small_store):
    """Streams are deflated at DEFLATE_LEVEL only during a render; a one-shot render leaves its garbage frozen for the
    process's exit, a default one leaves nothing frozen (a batch worker's memory does not grow)."""
    import gc
    import zlib

    import pikepdf
    import pydyf

    from uprfollow.report import build_digest, render, render_html, render_pdf

    with open_store(small_store, readonly=True) as store:
        html = render_html(build_digest(store, "MLI"), "en")
    before = gc.get_freeze_count()
    data = render_pdf(html)
    assert pydyf.zlib is zlib and gc.isenabled() and gc.get_freeze_count() == before
    with pikepdf.open(BytesIO(data)) as pdf:  # every stream still deflated, and readable
        streams = [o for o in pdf.objects if isinstance(o, pikepdf.Stream)]
        assert streams and all(o.get("/Filter") == "/FlateDecode" for o in streams if "/Filter" in o)
        assert all(o.read_bytes() is not None for o in streams)
    try:
        assert render_pdf(html, one_shot=True) == data
        assert gc.get_freeze_count() > before and gc.isenabled() and pydyf.zlib is zlib
    finally:
        gc.unfreeze()
    assert render.DEFLATE_LEVEL == 6


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_expat_and_tinyhtml5_give_the_same_pdf(small_store, lang):
    """The package's templates are parsed by expat (fast); the same PDF as WeasyPrint's own HTML parser gives."""
    from uprfollow.report import build_digest, render, render_html, render_pdf

    with open_store(small_store, readonly=True) as store:
        html = render_html(build_digest(store, "HTI"), lang)
    assert render._document(html, "file:///", None, own_templates=True).etree_element.tag == "html"
    fast = render_pdf(html)
    slow = render_pdf(html, template_dir=render.templates_dir())  # a --template-dir: tinyhtml5, as WeasyPrint parses
    assert fast == slow


def _scopes(data: bytes) -> list[tuple[str, str]]:
    """(section, scope) of every table header cell: section is the /S of the row's parent (/THead, /TBody, /TFoot)."""
    import io

    import pikepdf
    from pdf_checks import struct_elements

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [(str(el.P.P.S), str(el.A.get("/Scope")) if el.get("/A") is not None else "none")
                for el in struct_elements(pdf) if str(el.S) == "/TH"]


def test_table_header_scopes_without_the_wrapper(small_store, monkeypatch):
    """Should WeasyPrint's private tag builder change, the public finisher alone gives every header cell its scope."""
    from weasyprint.pdf import tags

    from uprfollow.report import build_digest, render, render_html, render_pdf

    with open_store(small_store, readonly=True) as store:
        html = render_html(build_digest(store, "MLI"), "en")
    wrapped = render_pdf(html)
    current = tags._build_box_tree
    monkeypatch.setattr(tags, "_build_box_tree", getattr(current, "uprfollow_original", current))
    monkeypatch.setattr(render, "_scope_from_html", lambda: False)
    bare = render_pdf(html)
    assert not getattr(tags._build_box_tree, "uprfollow_scopes", False)
    expected = _scopes(wrapped)
    assert len(expected) > 20 and {s for _, s in expected} == {"/Column", "/Row"}
    assert all(scope == ("/Column" if section == "/THead" else "/Row") for section, scope in expected)
    assert _scopes(bare) == expected


def test_batch_all_with_one_failure(small_store, runner, tmp_path, monkeypatch):
    import uprfollow.report as report

    real = report.build_digest

    def failing(store, state, **kw):
        if state == "MLI":
            raise RuntimeError("boom for MLI")
        return real(store, state, **kw)

    monkeypatch.setattr(report, "build_digest", failing)  # forked workers inherit the patch
    out = tmp_path / "out"
    result = runner.invoke(app, ["mia", "--all", "--out-dir", str(out), "--workers", "2", "--db", str(small_store)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [str(out / "MIA-HTI-cycle1-en.pdf"), str(out / "MIA-NPL-cycle1-en.pdf")]
    assert "failed: MLI: RuntimeError: boom for MLI" in result.stderr
    assert "2 of 3 digests written" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["MIA-HTI-cycle1-en.pdf", "MIA-NPL-cycle1-en.pdf"]  # no partial file

    monkeypatch.setattr(report, "build_digest", real)
    result = runner.invoke(app, ["mia", "--all", "--out-dir", str(out), "--format", "json", "--workers", "1", "--db", str(small_store),
                                 "--lang", "fr"])
    assert result.exit_code == 0, result.output
    import json

    listing = json.loads(result.stdout)
    assert [r["state"] for r in listing] == ["HTI", "MLI", "NPL"]
    assert all(r["ok"] and r["file"].endswith("-cycle1-fr.pdf") for r in listing)


def test_sample_notice_detected_from_fictional_marker(small_store):
    from uprfollow.report import build_digest, render_html

    with open_store(small_store) as store:
        assert not build_digest(store, "HTI").sample
        with store.write() as conn:
            conn.execute("UPDATE recommendations SET text = text || ' [fictional]' WHERE sur = 'HTI'")
        d = build_digest(store, "HTI")
        assert d.sample
        assert "This digest was produced from fictional sample data" in render_html(d, "en")
        assert not build_digest(store, "HTI", sample=False).sample


# --- through `upr sheet` / `upr ingest` (the follow-up commands), compared with `upr status` ---------------------------


def test_digest_after_real_ingest_matches_upr_status(export_store, tmp_path, runner):
    import json

    from followup_fixtures import build_scenario

    (tmp_path / "scene").mkdir()
    scene = build_scenario(export_store, tmp_path / "scene")
    status = runner.invoke(app, ["status", "HTI", "--format", "json", "--db", str(scene.db)])
    assert status.exit_code == 0, status.output
    rows = json.loads(status.stdout)
    out = tmp_path / "hti.html"
    result = runner.invoke(app, ["mia", "HTI", "-f", "html", "-o", str(out), "--db", str(scene.db)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    from uprfollow.report import build_digest

    with open_store(scene.db, readonly=True) as store:
        d = build_digest(store, "HTI")
    levels = {lv: sum(1 for r in rows if r["level"] == lv) for lv in ("fully", "partially", "not", "no_data", "not_assessed")}
    assert {lv: d.summary.counts[lv] for lv in levels} == levels
    assert d.summary.disputed == sum(1 for r in rows if r["disputed"])
    contested = sum(1 for s in d.items if is_contested(s))
    assert html.count("⚠ DISPUTED") + html.count("⚠ CONTESTED") == d.summary.disputed
    assert html.count("⚠ CONTESTED") == contested
    assert len(d.sources) == 4
    for src in d.sources:
        assert f"<td>{src.name}</td>" in html.replace("&#39;", "'")
    for lv, n in levels.items():
        assert re.search(rf"level-{lv}\" aria-hidden=\"true\"></span>[^<]+</th>\s*<td class=\"num\">{n}</td>", html), lv


# --- issue 14: numbers a reader can trace, whole translations, every voice, checked accessibility and data ----------


def test_hti_numbers_not_internal_ids_in_reading_text(hti_en, hti_text):
    """No source gave HTI's paragraph numbers: R1, R2 ... in the digest's order, said so; IDs only in the data annex."""
    d = hti_en["digest"]
    assert d.numbering == "sequential"
    order = [s for g in d.groups for s in g.items] + d.not_assessed
    assert [d.refs[s.pk] for s in order] == [f"R{i}" for i in range(1, len(order) + 1)]
    body = "\n".join(hti_text)
    assert "numbered R1, R2 ... in the order of this" in re.sub(r"\s+", " ", body)
    whole = "\n".join(hti_text)
    annex = [m.start() for m in re.finditer(r"^Data annex$", whole, re.M)][-1]  # its heading (it follows the annex)
    reading = squash(whole[:annex])
    data_annex = squash(whole[annex:])
    for s in order:
        assert s.id not in reading, s.id
        assert s.id in data_annex, s.id
    for s in order[:len(order) - len(d.not_assessed)]:  # each assessed recommendation is headed by its number
        assert re.search(rf"^{d.refs[s.pk]} · ", body, re.M), d.refs[s.pk]


def test_paragraph_numbers_when_a_source_gives_them(hti_store, tmp_path):
    """A record with a paragraph number (OHCHR; UPR Info rows linked to it) is cited by it; the others get R-numbers."""
    from uprfollow.report import build_digest, render_html

    db = tmp_path / "para.db"
    src, dst = sqlite3.connect(hti_store), sqlite3.connect(db)
    src.backup(dst)
    src.close()
    with dst:  # constructed: paragraph numbers given to three of HTI's recommendations, one of them blank
        pks = [r[0] for r in dst.execute("SELECT pk FROM recommendations WHERE sur = 'HTI' AND NOT is_pledge ORDER BY pk LIMIT 3")]
        dst.execute("UPDATE recommendations SET paragraph = '88.21' WHERE pk = ?", (pks[0],))
        dst.execute("UPDATE recommendations SET paragraph = '88.4' WHERE pk = ?", (pks[1],))
        dst.execute("UPDATE recommendations SET paragraph = '  ' WHERE pk = ?", (pks[2],))
    dst.close()
    with open_store(db, readonly=True) as store:
        d = build_digest(store, "HTI")
    assert d.numbering == "mixed"
    assert d.refs[pks[0]] == "88.21" and d.refs[pks[1]] == "88.4" and d.refs[pks[2]].startswith("R")
    sequential = sorted(int(r[1:]) for r in d.refs.values() if r.startswith("R"))
    assert sequential == list(range(1, len(d.items) - 1))
    html = render_html(d, "en")
    assert "88.21 · " in html and "cited by their paragraph number" in html


def _layout(html: str):
    """WeasyPrint's laid-out pages (the same layout write_pdf uses)."""
    from weasyprint import HTML

    from uprfollow.report.render import make_fetcher, templates_dir

    return HTML(string=html, base_url=templates_dir().as_uri() + "/", url_fetcher=make_fetcher([templates_dir()])).render().pages


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _boxes(child)


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_hti_print_faults(hti_en, lang):
    """Headers stay inside their tables, annex rows and recommendations are never split, headings never end a page,
    and no page is left mostly empty except where a chapter must start a new page."""
    from uprfollow.report import render_html

    pages = _layout(render_html(hti_en["digest"], lang))
    seen: dict[str, set[int]] = {}
    headings = {id(b.element.find("h2")) for p in pages for b in _boxes(p._page_box)
                if b.element is not None and b.element_tag == "section" and b.element.get("class") == "chapter"}
    starts_chapter = [any(id(b.element) in headings for b in _boxes(p._page_box) if b.element_tag == "h2") for p in pages]
    for number, page in enumerate(pages):
        # how far down its content area the page is filled (margin boxes, header and footer, left out)
        area = page._page_box
        bottom = max((b.position_y + b.margin_height() for child in area.children if type(child).__name__ != "MarginBox"
                      for b in _boxes(child) if b.element_tag in ("p", "article", "tr", "h2", "h3", "figure", "dd")),
                     default=area.content_box_y())
        filled = (bottom - area.content_box_y()) / area.height
        if 1 < number < len(pages) - 1 and not starts_chapter[number + 1]:
            assert filled > 0.5, (lang, f"page {number + 1} of {len(pages)} is {filled:.0%} filled")
        flow = []
        for box in _boxes(page._page_box):
            el = box.element
            if el is None:
                continue
            tag, cls = box.element_tag, el.get("class") or ""
            if tag == "article" or (tag == "tr" and el.find("td") is not None):
                seen.setdefault(id(el), set()).add(number)
            if tag == "table" and "sources" in cls and getattr(box, "is_table_wrapper", False) is False:
                right = box.content_box_x() + box.width
                for cell in _boxes(box):
                    if cell.element_tag == "th":
                        for line in _boxes(cell):
                            if type(line).__name__ == "TextBox":
                                assert line.position_x + line.width <= right + 0.5, (lang, line.text)
            if tag in ("h2", "h3", "article", "p", "table") and type(box).__name__ in ("BlockBox", "TableWrapperBox"):
                flow.append((box.position_y, tag, el))
        # the last block started on the page is not a heading (a heading is kept with what follows it)
        flow.sort(key=lambda f: f[0])
        if flow and number > 1:
            assert flow[-1][1] not in ("h2", "h3"), (lang, number + 1, flow[-1][2].text)
    split = [pages_ for pages_ in seen.values() if len(pages_) > 1]
    assert not split, (lang, split[:3])


def _names_outside_quotes(text: str, names: dict[str, str], verbatim: str) -> list[str]:
    """English names that appear in `text` more often than in the texts quoted as written (recommendations, comments)."""
    flat, quoted = re.sub(r"\s+", " ", text), re.sub(r"\s+", " ", verbatim)
    leaks = []
    for english, translated in names.items():
        if english == translated or english in translated:
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(english)}(?!\w)")
        if len(pattern.findall(flat)) > len(pattern.findall(quoted)):
            leaks.append(english)
    return leaks


def test_hti_french_and_spanish_have_no_english_state_or_issue_name(hti_other, hti_en):
    from uprfollow import vocab
    from uprfollow.report import i18n

    lang, _, pages, _ = hti_other
    d = hti_en["digest"]
    text = "\n".join(pages)
    codes = {d.iso3} | {c for s in d.items for c in s.rs}
    countries = vocab.countries()
    states = {countries[c].name: i18n.state_name(c, lang, countries[c].name) for c in codes if c in countries}
    issues = {name: names[lang] for name, names in i18n.issue_names().items()}
    assert states["Haiti"] == {"fr": "Haïti", "es": "Haití"}[lang]
    verbatim = "\n".join([s.text for s in d.items] + [v.comment or "" for s in d.items for v in s.voices]
                         + [v.stakeholder for s in d.items for v in s.voices])
    assert _names_outside_quotes(text, states, verbatim) == []
    assert _names_outside_quotes(text, issues, verbatim) == []
    # the check can fail: the English digest has the English names
    english = "\n".join(hti_text_of(hti_en))
    assert _names_outside_quotes(english, states, verbatim)


def hti_text_of(rendered) -> list[str]:
    return pdf_pages(rendered["pdf"])


def test_hti_contested_summary_by_issue(hti_en, hti_text, hti_items):
    from uprfollow.report.data import state_gap

    d = hti_en["digest"]
    both = [s for s in hti_items if state_gap(s) is not None]
    contested = [s for s in both if is_contested(s)]
    total = d.contested_total
    assert (total.both, total.contested) == (len(both), len(contested)) and contested
    start = next(i for i, p in enumerate(hti_text) if "Contested recommendations by issue" in p and "State rated higher" in p)
    page = "\n".join(hti_text[start:start + 2])  # the table may run over to the next page, its total once at its end
    assert re.search(rf"^Total {total.both} {total.contested} {total.state_higher}$", page, re.M)
    assert f"{total.contested} of the {total.both} recommendations assessed by the State" in re.sub(r"\s+", " ", page)
    noted = [s for s in hti_items if s.response == "Noted"]
    assert noted  # noted recommendations stay in the digest, with their levels
    body = "\n".join(hti_text)
    assert f"Noted recommendations: {len(noted)}," in re.sub(r"\s+", " ", body)


def test_hti_pdf_ua_checks_pass(hti_en, hti_other):
    """The machine-checkable part of PDF/UA-1 (tests/pdf_checks.py, and the pdfua package) on the real-data digest."""
    import pdfua
    from pdf_checks import pdf_ua_failures

    lang, _, _, data = hti_other
    assert pdf_ua_failures(hti_en["pdf"], "en") == []
    assert pdf_ua_failures(data, lang) == []
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(hti_en["pdf"])
        f.flush()
        report = pdfua.validate(f.name)
    assert [(x.rule_id, x.message) for x in report.findings] == []
    assert len(report.outcomes) >= 10  # its rules ran (one, UA-14-001, stops on WeasyPrint's /K arrays: see pdf_checks)


def test_pdf_ua_check_can_fail():
    """The checker finds what a plain, untagged WeasyPrint PDF lacks."""
    from pdf_checks import pdf_ua_failures

    from uprfollow.report.render import import_weasyprint

    import_weasyprint()
    from weasyprint import HTML

    plain = HTML(string="<html><body><h2>T</h2><table><tr><td>1</td></tr></table></body></html>").write_pdf()
    fails = pdf_ua_failures(plain, "en")
    assert "catalog: no structure tree" in fails


def test_hti_embedded_data_and_data_file(hti_store, runner, tmp_path):
    """The PDF carries its data as a CSV file; --data writes the same file beside it; the store is not touched."""
    import csv
    import hashlib

    import pikepdf

    from uprfollow.report import build_digest
    from uprfollow.report.data import spread, store_fingerprint

    before = hashlib.sha256(Path(hti_store).read_bytes()).hexdigest()
    out = tmp_path / "hti.pdf"
    result = runner.invoke(app, ["mia", "HTI", "--db", str(hti_store), "-o", str(out), "--data"])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(Path(hti_store).read_bytes()).hexdigest() == before
    beside = out.with_suffix(".csv")
    with pikepdf.open(out) as pdf:
        assert list(pdf.attachments) == ["MIA-HTI-cycle1-en.csv"]
        data = pdf.attachments["MIA-HTI-cycle1-en.csv"].get_file().read_bytes()
    assert data == beside.read_bytes()
    rows = list(csv.DictReader(data.decode("utf-8-sig").splitlines()))
    with open_store(hti_store, readonly=True) as store:
        d = build_digest(store, "HTI")
        fingerprint = store_fingerprint(store)
    assert len(rows) == sum(max(1, len(s.voices)) for s in d.items)
    by_id = {s.id: s for s in d.items}
    for row in rows:
        s = by_id[row["id"]]
        assert row["number"] == d.refs[s.pk]
        assert row["iri"] == ("" if s.iri is None else f"{s.iri:.2f}") and row["level"] == s.level
        assert row["spread"] == ("" if spread(s) is None else f"{spread(s):.2f}")
        assert row["contested"] == ("yes" if is_contested(s) else "no")
        assert row["store_fingerprint"] == fingerprint and fingerprint.startswith("sha256:")
        assert row["command"].startswith("upr mia HTI")
    voices = {(r["id"], r["stakeholder"]): r["voice_level"] for r in rows if r["stakeholder"]}
    assert voices == {(s.id, v.stakeholder): v.level for s in d.items for v in s.voices}
