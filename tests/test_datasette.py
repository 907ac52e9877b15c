"""The store opens in Datasette as-is, and Datasette's full-text search works on recommendations."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

datasette_app = pytest.importorskip("datasette.app")


def get_json(path, url: str) -> dict:
    async def fetch():
        ds = datasette_app.Datasette([str(path)])
        response = await ds.client.get(url)
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(fetch())


def test_datasette_full_text_search(export_store):
    name = export_store.stem
    db = sqlite3.connect(export_store)
    expected = db.execute("SELECT count(*) FROM recommendations_fts WHERE recommendations_fts MATCH 'torture'").fetchone()[0]
    assert expected > 1000
    data = get_json(export_store, f"/{name}/recommendations.json?_search=torture&_size=5")
    assert data["filtered_table_rows_count"] == expected
    assert len(data["rows"]) == 5
    assert all("tortur" in " ".join(map(str, row)).lower() for row in data["rows"])


def test_datasette_sees_tables_and_foreign_keys(export_store):
    name = export_store.stem
    tables = {t["name"]: t for t in get_json(export_store, f"/{name}.json")["tables"]}
    assert {"recommendations", "recommending_states", "recommendation_issues", "countries", "issues"} <= set(tables)
    assert tables["recommendations"]["fts_table"] == "recommendations_fts"
    fks = tables["recommending_states"]["foreign_keys"]["outgoing"]
    assert {"other_table": "recommendations", "column": "rec_pk", "other_column": "pk"} in fks
