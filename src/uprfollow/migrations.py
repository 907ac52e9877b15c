"""Numbered schema migrations, recorded in the store's `_migrations` table.

Each migration is a function that takes a sqlite3 connection inside an open write
transaction. Migrations are only ever appended: never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = []


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction (executescript would commit it)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        conn.execute(statement)


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_recommendations(conn: sqlite3.Connection) -> None:
    run_script(conn,
        """
        CREATE TABLE countries (
            iso3 TEXT PRIMARY KEY,
            iso2 TEXT,
            name TEXT NOT NULL,
            un_member INTEGER NOT NULL,
            regional_group TEXT NOT NULL,
            organisations TEXT NOT NULL DEFAULT ''   -- ';'-joined, see country_organisations
        );
        CREATE TABLE country_organisations (
            iso3 TEXT NOT NULL REFERENCES countries(iso3),
            organisation TEXT NOT NULL,
            PRIMARY KEY (iso3, organisation)
        );
        CREATE TABLE issues (name TEXT PRIMARY KEY);
        CREATE TABLE action_categories (
            level INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            definition TEXT NOT NULL
        );
        CREATE TABLE sessions (
            session INTEGER PRIMARY KEY,
            year INTEGER NOT NULL,
            cycle INTEGER NOT NULL
        );
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            rows_read INTEGER NOT NULL,
            added INTEGER NOT NULL,
            already_present INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            tool_version TEXT NOT NULL
        );
        CREATE TABLE recommendations (
            pk INTEGER PRIMARY KEY,                 -- internal key, used by joins
            id TEXT NOT NULL UNIQUE,                -- stable ID derived from content
            sur TEXT NOT NULL REFERENCES countries(iso3),
            session INTEGER REFERENCES sessions(session),
            cycle INTEGER,
            year INTEGER,
            paragraph TEXT,
            text TEXT NOT NULL,
            response TEXT,                          -- Accepted / Noted / Pending / Voluntary Pledge
            response_raw TEXT,
            action INTEGER REFERENCES action_categories(level),
            is_pledge INTEGER NOT NULL DEFAULT 0,
            document TEXT,
            comment TEXT,
            import_id INTEGER REFERENCES imports(id),
            source_row INTEGER
        );
        CREATE INDEX recommendations_sur ON recommendations(sur, session);
        CREATE INDEX recommendations_session ON recommendations(session);
        CREATE INDEX recommendations_response ON recommendations(response, action);
        CREATE TABLE recommending_states (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            position INTEGER NOT NULL,
            iso3 TEXT REFERENCES countries(iso3),   -- NULL when the file says '(Unknown)'
            name_raw TEXT NOT NULL,
            PRIMARY KEY (rec_pk, position)
        );
        CREATE INDEX recommending_states_iso3 ON recommending_states(iso3, rec_pk);
        CREATE TABLE recommendation_issues (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            issue TEXT NOT NULL REFERENCES issues(name),
            PRIMARY KEY (rec_pk, issue)
        );
        CREATE INDEX recommendation_issues_issue ON recommendation_issues(issue, rec_pk);
        CREATE TABLE recommendation_themes (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            theme TEXT NOT NULL,
            PRIMARY KEY (rec_pk, theme)
        );
        CREATE VIRTUAL TABLE recommendations_fts USING fts5(
            text, content='recommendations', content_rowid='pk',
            tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER recommendations_ai AFTER INSERT ON recommendations BEGIN
            INSERT INTO recommendations_fts(rowid, text) VALUES (new.pk, new.text);
        END;
        CREATE TRIGGER recommendations_ad AFTER DELETE ON recommendations BEGIN
            INSERT INTO recommendations_fts(recommendations_fts, rowid, text) VALUES ('delete', old.pk, old.text);
        END;
        CREATE TRIGGER recommendations_au AFTER UPDATE ON recommendations BEGIN
            INSERT INTO recommendations_fts(recommendations_fts, rowid, text) VALUES ('delete', old.pk, old.text);
            INSERT INTO recommendations_fts(rowid, text) VALUES (new.pk, new.text);
        END;
        """
    )


@migration
def m002_follow_up(conn: sqlite3.Connection) -> None:
    run_script(conn,
        """
        CREATE TABLE stakeholders (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL CHECK (type IN ('state', 'ngo', 'nhri', 'un', 'academic', 'other')),
            label TEXT
        );
        CREATE TABLE ingests (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            sheet TEXT,
            stakeholder_id INTEGER REFERENCES stakeholders(id),
            sur TEXT REFERENCES countries(iso3),
            as_of TEXT,
            rows_read INTEGER NOT NULL,
            added INTEGER NOT NULL,
            replaced INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            tool_version TEXT NOT NULL
        );
        CREATE TABLE assessments (
            id INTEGER PRIMARY KEY,
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            stakeholder_id INTEGER NOT NULL REFERENCES stakeholders(id),
            level TEXT NOT NULL CHECK (level IN ('fully', 'partially', 'not', 'no_data')),
            level_raw TEXT,
            comment TEXT,
            sources TEXT,
            as_of TEXT,
            ingest_id INTEGER REFERENCES ingests(id),
            sheet TEXT,
            row INTEGER,
            current INTEGER NOT NULL DEFAULT 1,      -- 0 = kept in the history, replaced by a newer sheet
            replaced_by INTEGER REFERENCES ingests(id)
        );
        CREATE UNIQUE INDEX assessments_one_current ON assessments(rec_pk, stakeholder_id) WHERE current = 1;
        CREATE INDEX assessments_stakeholder ON assessments(stakeholder_id, current);
        """
    )


@migration
def m003_recommendation_levels(conn: sqlite3.Connection) -> None:
    """The implementation index per assessed recommendation (UPR Info's IRI), as a view.

    Scores: fully 1, partially 0.5, not 0 ('no_data' left out). The average is rounded
    half-up to two decimals with exact integer arithmetic (100 * sum of doubled scores + n) / (2n),
    then banded: >= 0.66 fully, >= 0.33 partially, else not. A recommendation whose voices all
    say 'no_data' has level 'no_data'. Disputed: two or more different levels among fully /
    partially / not. Recommendations absent from the view are not assessed.
    """
    run_script(
        conn,
        """
        CREATE VIEW recommendation_levels AS
        SELECT rec_pk, voices, scored,
               CASE WHEN scored = 0 THEN NULL ELSE ((100 * doubled + scored) / (2 * scored)) / 100.0 END AS iri,
               CASE WHEN scored = 0 THEN 'no_data'
                    WHEN (100 * doubled + scored) / (2 * scored) >= 66 THEN 'fully'
                    WHEN (100 * doubled + scored) / (2 * scored) >= 33 THEN 'partially'
                    ELSE 'not' END AS level,
               (distinct_levels > 1) AS disputed
        FROM (
            SELECT rec_pk,
                   count(*) AS voices,
                   sum(level != 'no_data') AS scored,
                   sum(CASE level WHEN 'fully' THEN 2 WHEN 'partially' THEN 1 ELSE 0 END) AS doubled,
                   count(DISTINCT CASE WHEN level != 'no_data' THEN level END) AS distinct_levels
            FROM assessments WHERE current = 1 GROUP BY rec_pk
        );
        """,
    )


@migration
def m004_followup_provenance(conn: sqlite3.Connection) -> None:
    """How each assessment's row was matched to its recommendation, and lookups used by `upr ingest`.

    matched_by: id, paragraph, paragraph+text, text, text+rs, fuzzy or fuzzy+rs; match_score: 0-100
    (100 for exact matches, the rapidfuzz ratio for fuzzy ones).
    """
    run_script(
        conn,
        """
        ALTER TABLE assessments ADD COLUMN matched_by TEXT;
        ALTER TABLE assessments ADD COLUMN match_score REAL;
        CREATE INDEX ingests_sha256 ON ingests(sha256, stakeholder_id, sur);
        CREATE INDEX assessments_ingest ON assessments(ingest_id);
        """,
    )


@migration
def m005_query_indexes(conn: sqlite3.Connection) -> None:
    """A covering index for `upr search` and `upr stats` filters over a large store.

    Every single-valued category of a recommendation is in it, pledges first (they are left
    out by default), so a filtered count or tally reads this small index instead of the
    table and its texts.
    """
    run_script(
        conn,
        """
        CREATE INDEX recommendations_facets ON recommendations(is_pledge, response, action, session, cycle, year, sur);
        """,
    )


@migration
def m006_fts_for_datasette(conn: sqlite3.Connection) -> None:
    """Declare the full-text index with content="recommendations" (double quotes), the spelling
    Datasette looks for, so `datasette upr.db` offers full-text search on recommendations as-is.

    Same columns, tokenizer and triggers as m001 (the triggers name the index, so they carry on);
    the index is rebuilt from the table once.
    """
    run_script(
        conn,
        """
        DROP TABLE recommendations_fts;
        CREATE VIRTUAL TABLE recommendations_fts USING fts5(
            text, content="recommendations", content_rowid="pk",
            tokenize='porter unicode61 remove_diacritics 2'
        );
        INSERT INTO recommendations_fts(recommendations_fts) VALUES ('rebuild');
        """,
    )


@migration
def m010_coding(conn: sqlite3.Connection) -> None:
    """`upr classify`: predicted action categories and issues, kept apart from UPR Info's coding.

    Human coding stays where it is (`recommendations.action`, `recommendation_issues`); a
    prediction lives in `coding` / `coding_issues` with its source (`predicted` or `rules`),
    confidence and the fingerprint of the model that made it. `coding_models` holds each
    model as JSON (settings, vocabularies, class names, array shapes) and one BLOB of
    little-endian float32 arrays: plain numbers, nothing that can run when a store is opened.
    """
    run_script(
        conn,
        """
        CREATE TABLE coding_models (
            fingerprint TEXT PRIMARY KEY,
            kind TEXT NOT NULL,                 -- 'learned' or 'rules'
            coded_rows INTEGER NOT NULL,        -- UPR Info-coded recommendations it learned from
            created_at TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            spec TEXT NOT NULL,                 -- JSON
            weights BLOB                        -- float32 arrays in the order spec lists
        );
        CREATE TABLE coding (
            rec_pk INTEGER PRIMARY KEY REFERENCES recommendations(pk),
            action INTEGER REFERENCES action_categories(level),   -- NULL: human-coded or below the threshold
            action_source TEXT,                 -- 'predicted' or 'rules'; NULL when the action is human
            action_confidence REAL,
            issues_source TEXT,                 -- 'predicted' or 'rules'; NULL when the issues are human
            model TEXT NOT NULL                 -- coding_models.fingerprint
        );
        CREATE TABLE coding_issues (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            issue TEXT NOT NULL REFERENCES issues(name),
            confidence REAL NOT NULL,
            PRIMARY KEY (rec_pk, issue)
        );
        CREATE INDEX coding_issues_issue ON coding_issues(issue, rec_pk);
        CREATE INDEX coding_action ON coding(action, rec_pk);
        """,
    )
