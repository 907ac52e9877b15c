"""Word 97-2003 (.doc) and RTF lists: converted to .docx by LibreOffice's headless writer, then read as .docx.

OHCHR published many cycle-1 and cycle-2 matrices as .doc. The conversion runs `soffice --headless
--convert-to docx` on a copy of the file in a temporary folder, with a throwaway LibreOffice profile
(`-env:UserInstallation`, HOME pointed at the temporary folder: the user's own profile is never
read or changed) and a time limit. Without LibreOffice the error says what the file is and what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError, Problem

CONVERT_TIMEOUT_S = 180  # a first start with a fresh profile takes ~10 s; a 100-page matrix converts in seconds
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_WORD_TABLES = ("1Table".encode("utf-16-le"), "0Table".encode("utf-16-le"))
INSTALL_HINT = (
    "open it in Word and save it as .docx (Word Document), or install LibreOffice so upr converts it "
    "(Debian/Ubuntu: apt-get install libreoffice-writer-nogui; macOS/Windows: libreoffice.org)"
)


def is_word_doc(path: Path, head: bytes) -> bool:
    """An OLE2 file holding Word's 'WordDocument' and '1Table'/'0Table' streams (an .xls has neither), or an RTF document."""
    if head.startswith(b"{\\rtf"):
        return True
    if not head.startswith(b"\xd0\xcf\x11\xe0"):
        return False
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return _WORD_STREAM in data and any(t in data for t in _WORD_TABLES)


def converter() -> str | None:
    """The LibreOffice program (`soffice`), or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(path: Path, folder: Path, timeout: float = CONVERT_TIMEOUT_S) -> Path:
    """Convert `path` (.doc or .rtf) to a .docx inside `folder` (a temporary folder the caller removes)."""
    kind = "an RTF document" if path.read_bytes()[:5] == b"{\\rtf" else "a Word 97-2003 document (.doc)"
    program = converter()
    if program is None:
        raise InputError(
            f"{path}: {kind}; upr reads Word lists as .docx and needs LibreOffice to convert this one, which is not installed",
            hint=INSTALL_HINT,
            problems=[Problem(f"{kind}, and no converter (LibreOffice) is installed", file=str(path))],
        )
    source = folder / ("list.rtf" if "RTF" in kind else "list.doc")
    shutil.copyfile(path, source)  # a plain name: LibreOffice's command line and odd file names do not mix
    profile = folder / "profile"
    out = folder / "out"
    command = [
        program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nologo", "--nodefault",
        "--convert-to", "docx", "--outdir", str(out), str(source),
    ]
    env = {**os.environ, "HOME": str(folder)}
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(
            f"{path}: converting {kind} with LibreOffice took more than {timeout:.0f} s; nothing imported",
            hint="open it in Word or LibreOffice and save it as .docx",
        ) from None
    except OSError as e:
        raise InputError(f"{path}: LibreOffice could not be started ({e})", hint=INSTALL_HINT) from None
    result = out / (source.stem + ".docx")
    if done.returncode != 0 or not result.is_file():
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"{path}: LibreOffice could not convert {kind} to .docx" + (f" ({said[-1][:200]})" if said else ""),
            hint="the file may be damaged or password-protected; open it in Word and save it as .docx",
        )
    return result


def read(path: Path):  # -> ReadResult
    """Convert, then read as an OHCHR list (.docx); the temporary folder is removed before returning."""
    from . import ohchr_matrix

    with tempfile.TemporaryDirectory(prefix="upr-doc-") as tmp:
        converted = to_docx(path, Path(tmp))
        if not ohchr_matrix.sniff(converted, b"PK"):
            from ..errors import FormatNotRecognised

            raise FormatNotRecognised(
                f"{path}: a Word document without an OHCHR matrix table",
                hint="upr reads OHCHR matrices of recommendations (a table with Recommendation and Position columns)",
            )
        result = ohchr_matrix.read(converted, source=path)
        result.format = "ohchr-matrix-doc"
        return result
