"""`upr serve`: the store in Datasette, read-only, with metadata that makes it useful at once.

Datasette opens the store immutable (`-i`: SQLite's `immutable=1`, nothing is ever written,
not even a journal), binds 127.0.0.1 only, and gets metadata (`metadata()`): readable
table titles and column descriptions, facets on the eight categories and the level (on the
view `recommendations_browse`, migration m011; multi-valued categories as JSON arrays),
full-text search through `recommendations_fts` (words and lemmas, as `upr search`), and
three canned queries: implementation by issue, contested recommendations, and one State's
recommendations with every voice.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"

COLUMNS = {
    "pk": "Internal key",
    "id": "Stable ID of the recommendation (derived from its content)",
    "sur": "State under review (ISO3)",
    "sur_name": "State under review",
    "sur_group": "Regional group of the State under review",
    "sur_orgs": "Organisations of the State under review",
    "rs": "Recommending States (ISO3; several for a joint recommendation)",
    "rs_groups": "Regional groups of the recommending States",
    "rs_orgs": "Organisations of the recommending States",
    "response": "Response of the State under review (Accepted, Noted, Pending, Voluntary Pledge)",
    "response_raw": "Response as written in the file",
    "action": "Action category: 1 minimal, 2 continuing, 3 considering, 4 general, 5 specific",
    "issues": "Issues (UPR Info's list)",
    "session": "UPR session",
    "cycle": "UPR cycle",
    "year": "Year of the review",
    "level": "Implementation level (fully, partially, not, no_data, not_assessed)",
    "paragraph": "Paragraph number in the outcome report",
    "text": "Recommendation text",
    "language": "Language of the text (en, fr, es)",
    "lemmas": "Lemmas of the text, for search (internal)",
    "is_pledge": "1 for a voluntary pledge",
    "document": "Document symbol / source of the position",
}

FACETS = ["sur", "sur_group", {"array": "sur_orgs"}, {"array": "rs"}, {"array": "rs_groups"}, {"array": "rs_orgs"}, "response", "action",
          {"array": "issues"}, "session", "cycle", "level"]

QUERIES: dict[str, dict[str, Any]] = {
    "implementation_by_issue": {
        "title": "Implementation by issue",
        "description": "For each issue: recommendations, how many are assessed, and how many at each implementation level.",
        "sql": """SELECT i.issue,
       count(*) AS recommendations,
       count(lv.rec_pk) AS assessed,
       sum(lv.level = 'fully') AS fully,
       sum(lv.level = 'partially') AS partially,
       sum(lv.level = 'not') AS "not",
       sum(lv.level = 'no_data') AS no_data,
       round(100.0 * sum(lv.level IN ('fully', 'partially')) / nullif(sum(lv.level != 'no_data'), 0), 1) AS triggered_percent
FROM recommendation_issues i
JOIN recommendations r ON r.pk = i.rec_pk AND r.is_pledge = 0
LEFT JOIN recommendation_levels lv ON lv.rec_pk = i.rec_pk
GROUP BY i.issue
ORDER BY assessed DESC, recommendations DESC""",
    },
    "contested_recommendations": {
        "title": "Contested recommendations",
        "description": "Recommendations whose stakeholders disagree on the level (two or more of fully, partially, not), with every voice.",
        "sql": """SELECT r.id, r.sur, r.session, r.text, lv.level AS overall_level, lv.iri,
       group_concat(s.name || ' (' || s.type || '): ' || a.level, '; ') AS voices
FROM recommendation_levels lv
JOIN recommendations r ON r.pk = lv.rec_pk
JOIN assessments a ON a.rec_pk = lv.rec_pk AND a.current = 1
JOIN stakeholders s ON s.id = a.stakeholder_id
WHERE lv.disputed
GROUP BY r.pk
ORDER BY r.sur, r.session, r.pk""",
    },
    "state_recommendations": {
        "title": "One State's recommendations, with every voice",
        "description": "Every recommendation to one State under review (ISO3 code, e.g. HTI), with each stakeholder's assessment.",
        "sql": """SELECT r.id, r.session, r.paragraph, r.text, r.response, r.action,
       coalesce(lv.level, 'not_assessed') AS overall_level,
       s.name AS stakeholder, s.type AS stakeholder_type, a.level, a.comment, a.as_of
FROM recommendations r
LEFT JOIN recommendation_levels lv ON lv.rec_pk = r.pk
LEFT JOIN assessments a ON a.rec_pk = r.pk AND a.current = 1
LEFT JOIN stakeholders s ON s.id = a.stakeholder_id
WHERE r.sur = upper(:sur)
ORDER BY r.session, r.pk, s.name""",
    },
}

TABLES: dict[str, dict[str, Any]] = {
    "recommendations_browse": {
        "title": "Recommendations (browse by the eight categories and the level)",
        "description": "One row per recommendation; facets on the State under review, recommending States, groups, "
        "organisations, response, action, issues, session, cycle and implementation level. Search finds words and their other forms.",
        "facets": FACETS,
        "fts_table": "recommendations_fts",
        "fts_pk": "pk",
        "label_column": "text",
    },
    "recommendations": {"title": "Recommendations (as stored)", "label_column": "text"},
    "recommending_states": {"title": "Recommending States of each recommendation"},
    "recommendation_issues": {"title": "Issues of each recommendation", "facets": ["issue"]},
    "recommendation_themes": {"title": "OHCHR themes of each recommendation", "facets": ["theme"]},
    "countries": {"title": "States, regional groups and organisations", "label_column": "name", "facets": ["regional_group", "un_member"]},
    "assessments": {"title": "Assessments by stakeholders (follow-up)", "facets": ["level", "stakeholder_id", "current"]},
    "stakeholders": {"title": "Stakeholders", "label_column": "name", "facets": ["type"]},
    "recommendation_levels": {"title": "Implementation level of each assessed recommendation", "facets": ["level", "disputed"]},
    "imports": {"title": "Files imported"},
    "ingests": {"title": "Response sheets ingested"},
    "issues": {"title": "UPR Info issues"},
    "action_categories": {"title": "Action categories (1-5)", "label_column": "name"},
    "sessions": {"title": "UPR sessions"},
}


def metadata(db_name: str) -> dict[str, Any]:
    """Datasette metadata for the store opened under the name `db_name` (the file's stem)."""
    tables = {}
    for name, conf in TABLES.items():
        tables[name] = {**conf, "columns": {c: COLUMNS[c] for c in COLUMNS if c not in ("pk",)}}
    return {
        "title": "UPR recommendations and their follow-up",
        "description": "A read-only view of an uprfollow store (upr serve).",
        "databases": {db_name: {"tables": tables, "queries": QUERIES}},
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def command(db: Path, metadata_file: Path, port: int) -> list[str]:
    """The Datasette command line: the store immutable, 127.0.0.1 only, generous time for facets over a large store."""
    return [
        sys.executable, "-m", "datasette", "serve", "-i", str(db), "--host", HOST, "--port", str(port),
        "--metadata", str(metadata_file),
        "--setting", "sql_time_limit_ms", "10000",
        "--setting", "facet_time_limit_ms", "3000",
        "--setting", "default_facet_size", "12",
    ]


def datasette_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("datasette") is not None
