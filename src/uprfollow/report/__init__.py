"""The Mid-term Implementation Assessment (MIA) digest: data from the store, HTML from templates, PDF through WeasyPrint.

    from uprfollow.report import build_digest, render_html, render_pdf, write_digest

`write_digest` is what `upr mia` calls; `batch.render_all` is `upr mia --all`.
See docs/mia.md.
"""

from __future__ import annotations

from pathlib import Path

from ..paths import replace_atomically
from ..store import Store
from .data import Digest, NoAssessments, build_digest, data_csv, digest_json, digest_name, output_name
from .render import TemplateError, data_file_name, render_html, render_pdf, templates_dir

FORMATS = ("pdf", "html")


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, so a failed render never leaves a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replace_atomically(path) as f:
        f.write(data)


def default_command(d: Digest, lang: str) -> str:
    scope = f" --session {d.session}" if d.scope == "session" and d.session else f" --cycle {d.cycle}"
    return f"upr mia {d.iso3}{scope} --lang {lang}"


def render_digest(d: Digest, *, fmt: str = "pdf", lang: str = "en", template_dir: Path | None = None,
                  command: str | None = None, one_shot: bool = False) -> bytes:
    """The digest as PDF (with its data attached as CSV) or HTML bytes. `command`: what produced it, for the data file.

    `one_shot`: the process ends soon after (see `render_pdf`).
    """
    command = command or default_command(d, lang)
    html = render_html(d, lang, template_dir, command=command)
    if fmt == "html":
        return html.encode("utf-8")
    desc = f"Data of the digest: one row per recommendation and voice; store {d.fingerprint}; command: {command}"
    return render_pdf(html, template_dir=template_dir, attachments=[(data_file_name(d, lang), data_csv(d, command), desc)], date=d.as_of,
                      one_shot=one_shot)


def write_digest(
    store: Store,
    state: str,
    *,
    out: Path | None = None,
    out_dir: Path | None = None,
    fmt: str = "pdf",
    lang: str = "en",
    session: int | None = None,
    cycle: int | None = None,
    template_dir: Path | None = None,
    sample: bool | None = None,
    data: bool = False,
    command: str | None = None,
    one_shot: bool = False,
) -> Path:
    """Build, render and write one State's digest; returns the path written (default name: see `output_name`).

    With `data`, the digest's data (the CSV attached to the PDF) is also written beside it: same name, `.csv`.
    `one_shot`: the process ends soon after (`upr mia STATE`), so the render's garbage is left to the exit (see
    `render_pdf`); a process that goes on rendering (a batch worker) leaves it False.
    """
    from ..paths import safe_name, safe_output_path

    d = build_digest(store, state, session=session, cycle=cycle, sample=sample)
    if out is not None:
        path = safe_output_path(out, force=True)  # never through a symbolic link; an existing digest is replaced
    else:
        folder = out_dir or Path(".")
        folder.mkdir(parents=True, exist_ok=True)
        path = safe_output_path(safe_name(digest_name(d, lang, fmt), what="file name"), base=folder, force=True)
    command = command or default_command(d, lang)
    body = render_digest(d, fmt=fmt, lang=lang, template_dir=template_dir, command=command, one_shot=one_shot)
    if data:
        write_atomic(safe_output_path(path.with_suffix(".csv"), force=True), data_csv(d, command))
    write_atomic(path, body)
    return path


__all__ = [
    "FORMATS", "Digest", "NoAssessments", "TemplateError", "build_digest", "data_csv", "data_file_name", "default_command",
    "digest_json", "digest_name", "output_name",
    "render_digest", "render_html", "render_pdf", "templates_dir", "write_atomic", "write_digest",
]
