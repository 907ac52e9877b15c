"""Templates to HTML (Jinja, autoescaped, StrictUndefined) and HTML to PDF (WeasyPrint, PDF/UA-1, locked-down fetcher).

Templates come from the package's `templates/` folder (the repository's `templates/`
in a source checkout); a `--template-dir` is searched first, so any file there
overrides the one of the same name. Text from the store is only ever text: Jinja
escapes it, and the URL fetcher refuses everything but `data:` URLs and files inside
the template folders, so a comment can never make the renderer read a file or a URL.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .. import __version__
from ..errors import UprError
from ..iri import ALL_LEVELS, LEVEL_LABELS, Summary
from . import charts, i18n
from .data import Digest, is_contested, spread, state_gap

MAIN_TEMPLATE = "mia.html"


class TemplateError(UprError):
    """A template is missing or broken (most often one from --template-dir)."""


def templates_dir() -> Path:
    """The package's templates (installed: uprfollow/templates; source checkout: the repository's templates/)."""
    packaged = resources.files("uprfollow") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "templates"


def template_dirs(override: Path | None = None) -> list[Path]:
    dirs = [templates_dir()]
    if override is not None:
        if not Path(override).is_dir():
            raise TemplateError(f"--template-dir {override}: not a folder", hint="pass the folder holding your mia.html or partials")
        dirs.insert(0, Path(override).resolve())
    return dirs


_INDENT = re.compile(r">\n[ \t\n]*<")
_CSS_UNSAFE = re.compile(r'[\\"\'<>&\n\r\x00-\x1f]')


def css_string(value: object) -> Markup:
    """A value as a double-quoted CSS string, with anything that could end it or the <style> element escaped."""
    text = _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", str(value))
    return Markup(f'"{text}"')


@cache
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    return env


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja environment: autoescape on for every template, StrictUndefined, package templates under any override."""
    return _environment(tuple(template_dirs(template_dir)))


def data_file_name(d: Digest, lang: str) -> str:
    """The name of the digest's data file (attached to the PDF, and written beside it with --data)."""
    from .data import digest_name

    return digest_name(d, lang, "csv")


def id_lines(d: Digest, per: int = 3) -> str:
    """Each recommendation's number and identifier in the store, `per` pairs a line, in the digest's order (aligned)."""
    order = [s for g in d.groups for s in g.items] + list(d.not_assessed)
    ref_w = max([len(d.ref(s)) for s in order] + [1])
    id_w = max([len(s.id) for s in order] + [1])
    pairs = [f"{d.ref(s):<{ref_w}} {s.id:<{id_w}}" for s in order]
    return "\n".join("   ".join(pairs[i:i + per]).rstrip() for i in range(0, len(pairs), per))


def context(d: Digest, lang: str, command: str | None = None) -> dict[str, Any]:
    """What the templates see: the digest, the translator and the formatters for `lang`."""
    t = i18n.translator(lang)

    def num(v: float | int, decimals: int = 0) -> str:
        return i18n.format_number(v, lang, decimals)

    def pct(share: float) -> str:
        return i18n.format_percent(share, lang)

    def level(lv: str) -> str:
        assert lv in LEVEL_LABELS, lv
        return t(f"level_{lv}")

    def response(r: str | None) -> str:
        return t(f"resp_{r}") if r and f"resp_{r}" in i18n.WORDS else (r or t("resp_none"))

    def action(a: int | None) -> str:
        return t(f"action_{a}") if a is not None and f"action_{a}" in i18n.WORDS else t("action_none")

    def iri_value(v: float | None) -> str:
        return "–" if v is None else num(v, 2)

    def state_name(iso3: str) -> str:
        english = d.country_names.get(iso3) or (d.state if iso3 == d.iso3 else None)
        return i18n.state_name(iso3, lang, english)

    def stype(kind: str) -> str:
        key = f"type_{kind}"
        return t(key) if key in i18n.WORDS else kind

    def count_share(n: int, share: float) -> str:
        return f"{num(n)} ({pct(share)})"

    def parts(s: Summary) -> str:
        return "; ".join(f"{level(lv)} {count_share(s.counts[lv], s.share(lv))}" for lv in ALL_LEVELS)

    def scope_text() -> str:
        if d.scope == "session" and d.session is not None:
            year = dict(d.sessions).get(d.session, "")
            return t("scope_session", session=d.session, session_ord=i18n.ordinal(d.session, lang), year=year)
        return t("scope_cycle", cycle=d.cycle)

    index_chart = charts.level_bars(d.summary, level, count_share,
                                    t("chart_alt", recs=num(d.summary.total), parts=parts(d.summary)))
    resp_rows = [(response(k), s) for k, s in d.by_response]
    action_rows = [(action(k), s) for k, s in d.by_action]
    response_chart = charts.stacked_bars(
        resp_rows, level, num,
        t("chart_split_alt", what=t("by_response").lower(), parts=" | ".join(f"{n}: {parts(s)}" for n, s in resp_rows)))
    action_chart = charts.stacked_bars(
        action_rows, level, num,
        t("chart_split_alt", what=t("by_action").lower(), parts=" | ".join(f"{n}: {parts(s)}" for n, s in action_rows)))
    before, _, rest = t("page_x_of_y").partition("{x}")
    middle, _, after = rest.partition("{y}")
    page_label = Markup(f"{css_string(before)} counter(page) {css_string(middle)} counter(pages) {css_string(after)}")
    return {
        "d": d,
        "page_label": page_label,
        "lang": lang,
        "t": t,
        "num": num,
        "pct": pct,
        "date": lambda v: i18n.format_date(v, lang),
        "level_name": level,
        "response_name": response,
        "action_name": action,
        "iri_value": iri_value,
        "stakeholder_type": stype,
        "join_list": lambda items: i18n.join_list(list(items), lang),
        "ordinal": lambda n: i18n.ordinal(n, lang),
        "scope_text": scope_text(),
        "levels": ALL_LEVELS,
        "index_chart": index_chart,
        "response_chart": response_chart,
        "action_chart": action_chart,
        "generator": f"uprfollow {__version__}",
        "issue_anchor": lambda i, issue: f"issue-{i + 1}",
        "colon": i18n.colon(lang),
        "state": state_name(d.iso3),
        "state_name": state_name,
        "rs_names": lambda item: [state_name(c) for c in item.rs],
        "issue_name": lambda issue: i18n.issue_name(issue, lang),
        "issue_list": lambda issues: ", ".join(i18n.issue_name(i, lang) or "" for i in issues),
        "ref": d.ref,
        "spread": spread,
        "state_gap": state_gap,
        "contested": is_contested,
        "data_file": data_file_name(d, lang),
        "id_lines": lambda per: id_lines(d, per),
        "command": command or f"upr mia {d.iso3} --lang {lang}",
    }


def preload(lang: str, template_dir: Path | None = None) -> None:
    """What every render needs once per process, done before `upr mia --all` forks its workers so they share it.

    WeasyPrint and its libraries; the templates compiled by Jinja (~0.05 s of CPU); Babel's data for `lang` and the
    translated State and issue names. A template that does not compile is left for the render to report.
    """
    import_weasyprint()
    env = environment(template_dir)
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".css"))):
        try:
            env.get_template(name)
        except jinja2.TemplateError:
            pass
    i18n.format_number(1234.5, lang, 2)
    i18n.format_percent(0.5, lang)
    i18n.format_date("2013-11-04", lang)
    i18n.issue_names()
    i18n.locale(lang).territories  # noqa: B018  (loads the CLDR names of States)


def render_html(d: Digest, lang: str = "en", template_dir: Path | None = None, command: str | None = None) -> str:
    """The digest as one self-contained HTML page (CSS inline, charts inline SVG). Deterministic for a given store."""
    env = environment(template_dir)
    try:
        template = env.get_template(MAIN_TEMPLATE)
        # Indentation between tags is only whitespace to the renderer (collapsed to one space): drop it, less to parse.
        return _INDENT.sub(">\n<", template.render(context(d, lang, command)))
    except jinja2.TemplateNotFound as e:
        raise TemplateError(f"template {e.name!r} not found in {', '.join(map(str, template_dirs(template_dir)))}") from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{e.filename or e.name}, line {e.lineno}: {e.message}", hint="fix the template, or remove it from --template-dir") from None
    except jinja2.UndefinedError as e:
        raise TemplateError(f"a template uses an unknown name: {e.message}",
                            hint="see docs/mia.md for the names templates can use") from None


# --- PDF -----------------------------------------------------------------------------------------------------------


def _path_of(url: str) -> Path | None:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parts.path))


def _ldconfig_find_library() -> Callable[[str], str | None]:
    """`ctypes.util.find_library` from one `ldconfig -p` listing: a miss is a miss, not a gcc and an ld run.

    The stdlib's find_library runs ldconfig, then gcc, then ld for every name; WeasyPrint asks for 22 names
    on import (16 misses: Windows and macOS spellings, the optional harfbuzz-vector), ~0.3 s of CPU in
    subprocesses. A hit is found the same way the stdlib finds it (same listing, same pattern).
    """
    import ctypes
    import os
    import subprocess

    machine = os.uname().machine + ("-64" if ctypes.sizeof(ctypes.c_void_p) == 8 else "-32")
    abi = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
           "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}.get(machine, "libc6")
    try:
        listing = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, env={"LC_ALL": "C", "LANG": "C"},
                                 check=False).stdout.decode(errors="replace")
    except OSError:
        listing = ""

    def find_library(name: str) -> str | None:
        m = re.search(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({re.escape(abi)}", listing)
        return m.group(1) if m else None

    return find_library


def import_weasyprint() -> Any:
    """Import WeasyPrint, on Linux resolving its libraries through one `ldconfig -p` instead of ~50 subprocesses.

    Should a library only be found the slow way (gcc/ld), the import is retried with the stdlib's find_library.
    """
    import sys

    if "weasyprint.text.ffi" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    import contextlib
    import ctypes.util
    import io

    original = ctypes.util.find_library
    ctypes.util.find_library = _ldconfig_find_library()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # WeasyPrint prints its install help before failing
            import weasyprint.text.ffi  # noqa: F401
    except OSError:
        pass
    finally:
        ctypes.util.find_library = original
    import weasyprint

    return weasyprint


def make_fetcher(allowed_dirs: list[Path], log: Callable[[str], None] | None = None):
    """A WeasyPrint URL fetcher that serves data: URLs and regular files inside `allowed_dirs`, and refuses the rest."""
    import_weasyprint()
    from weasyprint.urls import URLFetcher

    roots = [d.resolve() for d in allowed_dirs]

    class SafeFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if log is not None:
                log(url)
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            path = _path_of(url)
            if path is not None:
                real = path.resolve()
                if real.is_file() and any(real.is_relative_to(root) for root in roots):
                    return super().fetch(real.as_uri(), headers)
            raise ValueError(f"the digest renderer fetches only data: URLs and its template files, not {url[:200]!r}")

    return SafeFetcher(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)


def _scope_from_html() -> bool:
    """Give every table header cell of the tagged PDF its /Scope from the HTML (`<th scope="row">`: Row, else Column).

    WeasyPrint links each data cell to its headers (/Headers and /ID) but writes no /Scope on the header
    cells themselves; PDF/UA checkers then cannot tell what a header heads. Done by wrapping WeasyPrint's
    private tag builder (`weasyprint.pdf.tags._build_box_tree`) once: after a table's tags are built, its
    header cells get their scope from the HTML. Only when that builder is what this code was written for
    (a generator taking `box, parent, ...`, WeasyPrint 65 to 7x); otherwise nothing is wrapped, False is
    returned and `_scope_finisher` alone gives the scopes (from the table's structure). A scope WeasyPrint
    writes itself is kept.
    """
    import inspect

    import weasyprint
    from weasyprint.pdf import tags

    original = getattr(tags, "_build_box_tree", None)
    if getattr(original, "uprfollow_scopes", False):
        return True
    try:
        major = int(weasyprint.__version__.split(".")[0])
        params = list(inspect.signature(original).parameters) if original is not None else []
    except (ValueError, TypeError):
        return False
    if not (65 <= major < 80 and inspect.isgeneratorfunction(original) and params[:2] == ["box", "parent"]):
        return False

    def header_cells(box: Any):
        for child in getattr(box, "children", ()) or ():
            if getattr(child, "element_tag", None) == "th":
                yield child
            else:
                yield from header_cells(child)

    def build(box: Any, *args: Any):
        yield from original(box, *args)
        if getattr(box, "element_tag", None) == "table" and getattr(box, "is_table_wrapper", False):
            for cell in header_cells(box):
                mark = getattr(cell, "mark", None)
                attrs = mark.get("A") if isinstance(mark, dict) else None
                if isinstance(attrs, dict) and "Scope" not in attrs:
                    attrs["Scope"] = "/Row" if cell.element.attrib.get("scope") == "row" else "/Column"

    build.uprfollow_scopes = True  # type: ignore[attr-defined]
    build.uprfollow_original = original  # type: ignore[attr-defined]
    tags._build_box_tree = build
    return True


def _scope_finisher(document: Any, pdf: Any) -> None:
    """WeasyPrint's public `finisher` hook: every /TH structure element still without a /Scope gets one.

    From the table's structure, with the same result as the HTML for these templates: a header cell of a
    row in /THead heads its column, one in /TBody or /TFoot heads its row. Needs only pydyf's objects (a
    dictionary per structure element, its parent /P as "N 0 R"), so it holds if the wrapper above cannot.
    """
    objects = getattr(pdf, "objects", None) or []

    def parent(element: Any) -> Any:
        ref = element.get("P") if isinstance(element, dict) else None
        try:
            number = int((ref.decode() if isinstance(ref, bytes) else str(ref)).split()[0])
            return objects[number]
        except (ValueError, IndexError, AttributeError):
            return None

    for element in objects:
        if not (isinstance(element, dict) and element.get("Type") == "/StructElem" and element.get("S") == "/TH"):
            continue
        attrs = element.get("A")
        if isinstance(attrs, dict) and "Scope" in attrs:
            continue
        row = parent(element)
        section = parent(row) if isinstance(row, dict) and row.get("S") == "/TR" else None
        scope = "/Column" if isinstance(section, dict) and section.get("S") == "/THead" else "/Row"
        if isinstance(attrs, dict):
            attrs["Scope"] = scope
        else:
            import pydyf

            element["A"] = pydyf.Dictionary({"O": "/Table", "Scope": scope})


class _Deflate:
    """`zlib` as pydyf sees it while a digest is written: every stream deflated at `level` instead of 9.

    pydyf compresses each stream (pages, fonts, the attached CSV) with `zlib.compressobj(level=9)`. On a
    digest's ~1.4 MB of streams level 9 took 0.090 s of CPU and level 6 0.022 s, for a PDF 3.5% larger
    (HTI: 194 KB of streams instead of 200 KB); the output stays byte for byte reproducible.
    """

    def __init__(self, zlib: Any, level: int) -> None:
        self._zlib, self._level = zlib, level

    def __getattr__(self, name: str) -> Any:
        return getattr(self._zlib, name)

    def compressobj(self, level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return self._zlib.compressobj(self._level, *args, **kwargs)


DEFLATE_LEVEL = 6


_VOID = re.compile(r"<(meta|link|br|hr|img|input|col|source|wbr)\b([^<>]*?)\s*/?>")


def _document(html: str, base_url: str, fetcher: Any, *, own_templates: bool) -> Any:
    """WeasyPrint's HTML document for `html`, parsed by expat when it can be.

    WeasyPrint parses HTML with tinyhtml5, in pure Python: 0.07-0.09 s of CPU for a digest's ~140 KB, 4% of a
    render. The package's templates write well-formed markup (void elements aside, closed here), so the
    standard library's XML parser reads it in ~2 ms and gives the same tree: the PDFs of HTI and of a synthetic
    State are identical byte for byte either way. Templates from --template-dir, or markup expat refuses (a named
    entity, an unclosed tag), go through tinyhtml5 as WeasyPrint would.
    """
    from weasyprint import HTML

    if own_templates:
        import xml.etree.ElementTree as ElementTree

        try:
            root = ElementTree.fromstring(_VOID.sub(r"<\1\2 />", html))
        except ElementTree.ParseError:
            root = None
        if root is not None and root.tag == "html":
            import cssselect2

            doc = HTML(string="<html></html>", base_url=base_url, url_fetcher=fetcher)
            doc.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            doc.etree_element = doc.wrapper_element.etree_element
            return doc
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher)


@cache
def _font_config(dirs: tuple[Path, ...]) -> Any:
    """One WeasyPrint FontConfiguration per process and template folders, shared by every digest it renders.

    It holds the fonts Pango has loaded (and those of a template folder's @font-face): a batch worker loads them
    once instead of once per State (1-2% of a render). The PDFs are the same, byte for byte, as with a fresh one.
    """
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(html: str, *, template_dir: Path | None = None, fetch_log: Callable[[str], None] | None = None,
               attachments: list[tuple[str, bytes, str]] | None = None, date: str | None = None,
               one_shot: bool = False) -> bytes:
    """HTML to a tagged PDF/UA-1 document. Relative URLs resolve against the (first) template folder.

    `attachments`: (file name, bytes, description) of files embedded in the PDF (the digest's data as CSV), dated
    `date` (ISO; the digest's assessment date) or 2000-01-01, never the time of the run, so the PDF stays reproducible.
    `one_shot`: the process ends after this render (`upr mia STATE`): what the render leaves behind is not walked by
    the garbage collector, neither now nor at exit; the operating system takes the memory back when the process ends.
    """
    import logging

    # WeasyPrint allocates ~10^6 small objects per digest (and its import ~10^5); the cyclic garbage collector
    # walking them again and again costs a fifth of a render: paused for the import and the render (12 renders
    # alternated: median 0.81 of the time with it running; 48 States with --all: 54 s instead of 68 s). The
    # cycles left are collected when it resumes, so a batch worker's memory does not grow from State to State.
    paused = gc.isenabled()
    gc.disable()
    try:
        import_weasyprint()
        import pydyf
        from weasyprint import Attachment

        _scope_from_html()
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        dirs = template_dirs(template_dir)
        fetcher = make_fetcher(dirs, fetch_log)
        fonts = _font_config(tuple(dirs))
        doc = _document(html, dirs[0].as_uri() + "/", fetcher, own_templates=template_dir is None)
        import datetime as dt

        when = dt.datetime.combine(i18n.parse_date(date) or dt.date(2000, 1, 1), dt.time())
        files = [Attachment(string=data, name=name, description=desc, relationship="Data", created=when, modified=when)
                 for name, data, desc in (attachments or [])]
        zlib = getattr(pydyf, "zlib", None)
        if zlib is not None:  # pydyf deflates with `zlib.compressobj(level=9)`: see _Deflate
            pydyf.zlib = _Deflate(zlib, DEFLATE_LEVEL)
        try:
            return doc.write_pdf(pdf_variant="pdf/ua-1", font_config=fonts, uncompressed_pdf=False, attachments=files or None,
                                 finisher=_scope_finisher)
        finally:
            if zlib is not None:
                pydyf.zlib = zlib
    finally:
        if paused:
            if one_shot:
                # ~10^6 objects, nearly all garbage by now: collecting them costs ~0.15 s of CPU (7% of `upr mia HTI`),
                # and the interpreter's last collection at exit would walk them again. Frozen, they are never walked.
                gc.freeze()
            gc.enable()
