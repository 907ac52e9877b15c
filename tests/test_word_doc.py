"""Word 97-2003 (.doc) lists, converted by LibreOffice's headless writer and read as .docx.

The .doc is made by the test from a shared .docx (../shared/data/ohchr-matrix) with the same converter;
the test skips with a reason where LibreOffice (soffice) is not installed. The no-converter case uses a
CONSTRUCTED stand-in: the OLE2 signature and a 'WordDocument' stream name, nothing else.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from uprfollow.cli import app
from uprfollow.formats import word_doc

SHARED = Path(os.environ.get("UPR_SHARED") or Path(__file__).resolve().parents[2] / "shared")
MATRIX = SHARED / "data" / "ohchr-matrix" / "Matrix_recommendations_2013.docx"


def _records(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT r.id, r.sur, r.session, r.paragraph, r.text, r.response, r.document, "
            "(SELECT group_concat(theme, '|') FROM (SELECT theme FROM recommendation_themes WHERE rec_pk = r.pk ORDER BY theme)), "
            "(SELECT group_concat(grp, '|') FROM (SELECT grp FROM recommendation_groups WHERE rec_pk = r.pk ORDER BY grp)), "
            "(SELECT group_concat(iso3, '|') FROM (SELECT iso3 FROM recommending_states WHERE rec_pk = r.pk ORDER BY position)) "
            "FROM recommendations r ORDER BY r.id"
        ).fetchall()
    finally:
        conn.close()


def test_doc_made_from_a_shared_docx_imports_to_the_same_records(tmp_path, runner) -> None:
    if not MATRIX.exists():
        pytest.skip(f"real data not found at {MATRIX} (set UPR_SHARED to the shared folder)")
    soffice = word_doc.converter()
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: `make setup` installs libreoffice-writer-nogui")
    out = tmp_path / "doc"
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--convert-to", "doc",
         "--outdir", str(out), str(MATRIX)],
        check=True, capture_output=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)},
    )
    doc = out / "Matrix_recommendations_2013.doc"
    assert doc.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    from_doc, from_docx = tmp_path / "doc.db", tmp_path / "docx.db"
    result = runner.invoke(app, ["import", "--db", str(from_doc), str(doc)])
    assert result.exit_code == 0, result.output
    assert "252 new" in result.output and "ohchr-matrix-doc" in result.output
    assert runner.invoke(app, ["import", "--db", str(from_docx), str(MATRIX)]).exit_code == 0
    assert _records(from_doc) == _records(from_docx)
    # the conversion leaves nothing behind in the temporary folder
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("upr-doc-*/list.doc"))


def _fake_doc(path: Path) -> Path:
    """CONSTRUCTED stand-in for a .doc: the OLE2 signature and the names of Word's streams, nothing else."""
    names = "WordDocument".encode("utf-16-le") + b"\x00" * 52 + "1Table".encode("utf-16-le")
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + names + b"\x00" * 512)
    return path


def test_without_a_converter_the_error_says_what_the_file_is_and_what_to_do(tmp_path, runner, db_path, monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = _fake_doc(tmp_path / "matrix.doc")
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 1
    assert "Word 97-2003 document (.doc)" in result.output
    assert "save it as .docx" in result.output and "LibreOffice" in result.output
    assert "spreadsheet" not in result.output
    assert not db_path.exists()


def test_a_damaged_doc_is_an_error_not_a_crash(tmp_path, runner, db_path) -> None:
    if word_doc.converter() is None:
        pytest.skip("LibreOffice (soffice) is not installed: `make setup` installs libreoffice-writer-nogui")
    path = _fake_doc(tmp_path / "damaged.doc")
    result = runner.invoke(app, ["import", "--db", str(db_path), str(path)])
    assert result.exit_code == 1, result.output
    assert "damaged.doc" in result.output
    assert not db_path.exists()
