"""Shared fixtures: a temporary store for every test, the real data in ../shared, a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UPR_SHARED", ROOT.parent / "shared"))
EXPORTS = SHARED / "data" / "upr-info-export-2015"
MATRICES = SHARED / "data" / "ohchr-matrix"
SKIP_REASON = f"real data not found at {SHARED}/data (set UPR_SHARED to the shared folder): real-data tests skipped"


@pytest.fixture(autouse=True)
def env_setup(tmp_path, monkeypatch):
    """Every test gets its own store path and never touches the user's default store."""
    monkeypatch.setenv("UPR_DB", str(tmp_path / "upr.db"))
    monkeypatch.delenv("UPR_DEBUG", raising=False)
    monkeypatch.delenv("UPR_QUIET", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the user's vocabulary folder: empty


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "upr.db"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def exports() -> Path:
    if not EXPORTS.is_dir():
        pytest.skip(SKIP_REASON)
    return EXPORTS


@pytest.fixture(scope="session")
def matrices() -> Path:
    if not MATRICES.is_dir():
        pytest.skip(SKIP_REASON)
    return MATRICES


@pytest.fixture(scope="session")
def export_store(tmp_path_factory, exports) -> Path:
    """A store built once per session from every real UPR Info export file (.xls then .csv). Read-only use."""
    from uprfollow.importer import import_files
    from uprfollow.store import open_store

    path = tmp_path_factory.mktemp("exports") / "exports.db"
    with open_store(path) as store:
        import_files(store, sorted(exports.glob("*.xls")) + sorted(exports.glob("*.csv")))
    return path


@pytest.fixture
def export_store_copy(export_store, tmp_path) -> Path:
    """A private, writable copy of the export store."""
    import sqlite3

    dest = tmp_path / "copy.db"
    src = sqlite3.connect(export_store)
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return dest
