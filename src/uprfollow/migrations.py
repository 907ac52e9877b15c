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
def m008_themes_sdgs_groups(conn: sqlite3.Connection) -> None:
    """Themes, Sustainable Development Goals and affected persons / groups of persons: three fields of their own.

    OHCHR lists give the three in one cell ("- Ratification ...", "SDGs:", "Groups of Persons:",
    "- Public officials") or in a column of SDGs ("- 16 - PEACE, JUSTICE AND STRONG INSTITUTIONS").
    `recommendation_sdgs` holds the goal's number (1-17, names in data/sdgs.csv), `recommendation_groups`
    the group as written. Themes stored before are cleaned once: list markers ("- ") are taken off,
    sub-headers ("SDGs:", "Affected persons:") are dropped, and SDG values ("16 - PEACE ...") move to
    `recommendation_sdgs`. Issues that a UPR Info export adds to the store's vocabulary carry a note.
    """
    import re

    run_script(
        conn,
        """
        CREATE TABLE recommendation_sdgs (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            sdg INTEGER NOT NULL CHECK (sdg BETWEEN 1 AND 17),
            PRIMARY KEY (rec_pk, sdg)
        );
        CREATE INDEX recommendation_sdgs_sdg ON recommendation_sdgs(sdg, rec_pk);
        CREATE TABLE recommendation_groups (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            grp TEXT NOT NULL,
            PRIMARY KEY (rec_pk, grp)
        );
        CREATE INDEX recommendation_groups_grp ON recommendation_groups(grp, rec_pk);
        CREATE INDEX recommendation_themes_theme ON recommendation_themes(theme, rec_pk);
        ALTER TABLE issues ADD COLUMN note TEXT;
        """,
    )
    marker = re.compile(r"^\s*[-–•*·]\s*")
    header = re.compile(r"^\s*(sdgs?|relevant sdgs|affected persons?|groups? of persons?|persons? affected)\s*:?\s*$", re.I)
    sdg = re.compile(r"^\s*(?:sdg\s*)?(\d{1,2})\s*[-–:]\s*\S", re.I)
    rows = conn.execute("SELECT rowid, rec_pk, theme FROM recommendation_themes").fetchall()
    for rowid, pk, theme in rows:
        clean = marker.sub("", theme).strip()
        m = sdg.match(clean)
        if header.match(clean) or not clean or (m and 1 <= int(m.group(1)) <= 17):
            conn.execute("DELETE FROM recommendation_themes WHERE rowid = ?", (rowid,))
            if m and 1 <= int(m.group(1)) <= 17:
                conn.execute("INSERT OR IGNORE INTO recommendation_sdgs (rec_pk, sdg) VALUES (?, ?)", (pk, int(m.group(1))))
        elif clean != theme:
            conn.execute("DELETE FROM recommendation_themes WHERE rowid = ?", (rowid,))
            conn.execute("INSERT OR IGNORE INTO recommendation_themes (rec_pk, theme) VALUES (?, ?)", (pk, clean))


@migration
def m009_one_record_per_recommendation(conn: sqlite3.Connection) -> None:
    """Sources, per-field provenance and ID aliases of linked records; a store holding both UPR Info's and OHCHR's
    rows of one review is merged (see `linking.py`, `merge_store`).

    * `record_sources`: every file that described a linked record (the record's own import is
      `recommendations.import_id`; a record with no row here has that one source);
    * `field_values`: the value each source gave for each field of a linked record (both kept
      when they disagree; the record's own columns show the one the rule picks);
    * `record_aliases`: the IDs a record also answers to (the other source's ID, a paragraph's
      ID before it was split into pairs), so sheets and re-imports keep working after a merge.

    Existing data: an OHCHR/UHRI paragraph made by several States is split into one record per
    State (the record keeps its pk and ID for the first State; its assessments are copied to
    the others, since the stakeholder assessed the paragraph), then every review held by both
    a UPR Info export and an OHCHR/UHRI list is linked as an import would link it. No
    assessment is deleted: one that would collide with a current one is kept in the history.
    """
    run_script(
        conn,
        """
        CREATE TABLE record_sources (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            import_id INTEGER NOT NULL REFERENCES imports(id),
            source_id TEXT NOT NULL,              -- the ID this source's row gives the record
            source_row INTEGER,
            PRIMARY KEY (rec_pk, import_id)
        );
        CREATE TABLE field_values (
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            import_id INTEGER NOT NULL REFERENCES imports(id),
            field TEXT NOT NULL,                  -- text, response, response_raw, paragraph, document, action, issues, themes, rs
            value TEXT NOT NULL,                  -- lists joined with '; '
            PRIMARY KEY (rec_pk, import_id, field)
        );
        CREATE TABLE record_aliases (
            id TEXT NOT NULL,
            rec_pk INTEGER NOT NULL REFERENCES recommendations(pk),
            PRIMARY KEY (id, rec_pk)
        );
        CREATE INDEX recommendations_paragraph ON recommendations(sur, session, paragraph);
        """,
    )
    from .linking import merge_store

    merge_store(conn)


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


@migration
def m011_lemma_search(conn: sqlite3.Connection) -> None:
    """Each recommendation's language and lemmas, indexed beside its text (see lemmas.py).

    `language` is 'en', 'fr' or 'es' (from the file's format where it says, else detected);
    `lemmas` holds one lemma per word ("woman"; French and Spanish ones prefixed: "fr_femme"),
    so a search for "woman" finds "women" and a French text is found by its French forms. The
    full-text index gets a second column for them ('_' joins the prefix to the lemma); its triggers
    follow changes of the text or the lemmas only. Existing rows are analysed once here.

    Also the view `recommendations_browse` for `upr serve` (Datasette): one row per
    recommendation with the eight categories and the level as columns, multi-valued ones as
    JSON arrays (Datasette facets them as arrays).
    """
    from .lemmas import FORMAT_LANGUAGE, analyse

    run_script(
        conn,
        """
        DROP TRIGGER recommendations_ai;
        DROP TRIGGER recommendations_ad;
        DROP TRIGGER recommendations_au;
        DROP TABLE recommendations_fts;
        ALTER TABLE recommendations ADD COLUMN language TEXT;
        ALTER TABLE recommendations ADD COLUMN lemmas TEXT;
        """,
    )
    rows = conn.execute("SELECT r.pk, r.text, i.format FROM recommendations r LEFT JOIN imports i ON i.id = r.import_id").fetchall()
    conn.executemany(
        "UPDATE recommendations SET language = ?, lemmas = ? WHERE pk = ?",
        ((*analyse(text or "", FORMAT_LANGUAGE.get(fmt or "")), pk) for pk, text, fmt in rows),
    )
    run_script(
        conn,
        """
        CREATE VIRTUAL TABLE recommendations_fts USING fts5(
            text, lemmas, content="recommendations", content_rowid="pk",
            tokenize='porter unicode61 remove_diacritics 2 tokenchars ''_'''
        );
        INSERT INTO recommendations_fts(recommendations_fts) VALUES ('rebuild');
        CREATE TRIGGER recommendations_ai AFTER INSERT ON recommendations BEGIN
            INSERT INTO recommendations_fts(rowid, text, lemmas) VALUES (new.pk, new.text, new.lemmas);
        END;
        CREATE TRIGGER recommendations_ad AFTER DELETE ON recommendations BEGIN
            INSERT INTO recommendations_fts(recommendations_fts, rowid, text, lemmas) VALUES ('delete', old.pk, old.text, old.lemmas);
        END;
        CREATE TRIGGER recommendations_au AFTER UPDATE OF text, lemmas ON recommendations BEGIN
            INSERT INTO recommendations_fts(recommendations_fts, rowid, text, lemmas) VALUES ('delete', old.pk, old.text, old.lemmas);
            INSERT INTO recommendations_fts(rowid, text, lemmas) VALUES (new.pk, new.text, new.lemmas);
        END;
        CREATE VIEW recommendations_browse AS
        SELECT r.pk, r.id, r.sur, c.name AS sur_name, c.regional_group AS sur_group,
               (SELECT json_group_array(organisation) FROM country_organisations o WHERE o.iso3 = r.sur) AS sur_orgs,
               (SELECT json_group_array(coalesce(s.iso3, '(unknown)')) FROM recommending_states s WHERE s.rec_pk = r.pk) AS rs,
               (SELECT json_group_array(DISTINCT coalesce(rc.regional_group, '(unknown)')) FROM recommending_states s
                    LEFT JOIN countries rc ON rc.iso3 = s.iso3 WHERE s.rec_pk = r.pk) AS rs_groups,
               (SELECT json_group_array(DISTINCT o.organisation) FROM recommending_states s
                    JOIN country_organisations o ON o.iso3 = s.iso3 WHERE s.rec_pk = r.pk) AS rs_orgs,
               r.response, r.action,
               (SELECT json_group_array(issue) FROM recommendation_issues i WHERE i.rec_pk = r.pk) AS issues,
               r.session, r.cycle, r.year,
               coalesce((SELECT level FROM recommendation_levels lv WHERE lv.rec_pk = r.pk), 'not_assessed') AS level,
               r.paragraph, r.text, r.language, r.is_pledge, r.document
        FROM recommendations r LEFT JOIN countries c ON c.iso3 = r.sur;
        """,
    )
