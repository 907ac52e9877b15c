"""`upr classify`: sources, thresholds, explanations, no overwrite of human coding, idempotence.

The stores are built by the tests from constructed CSV files (texts written for these tests,
not taken from any export), and, where useful, from the real UPR Info exports and OHCHR's
Slovenia list in ../shared (skipped when absent).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from uprfollow import coding
from uprfollow.cli import app
from uprfollow.importer import import_files
from uprfollow.query import make_filters, search
from uprfollow.store import open_store

# constructed: verbs with the category UPR Info's method gives them, topics with their issue
VERBS = [("Ratify", 5), ("Adopt", 5), ("Establish", 5), ("Ensure", 4), ("Strengthen", 4), ("Promote", 4),
         ("Continue", 2), ("Maintain", 2), ("Consider", 3), ("Study", 3), ("Seek technical assistance for", 1)]
TOPICS = [("the protection of women against domestic violence", "Women's rights"),
          ("the rights of the child and birth registration", "Rights of the Child"),
          ("the abolition of the death penalty", "Death penalty"),
          ("the prevention of torture in police stations", "Torture and other CID treatment"),
          ("access to primary education for all", "Right to education"),
          ("the independence of the judiciary", "Justice"),
          ("the freedom of the press and of journalists", "Freedom of the press")]


def _coded_csv(path: Path, *, session: int = 20) -> Path:
    """Constructed UPR Info-style export: every verb with every topic, coded."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Response", "Action", "Issue", "Session"])
        n = 0
        for verb, level in VERBS:
            for topic, issue in TOPICS:
                for sur in ("FRA", "BRA", "KEN"):
                    n += 1
                    w.writerow([sur, f"{verb} {topic} (measure {n})", "CAN", "Accepted", level, issue, session])
    return path


def _uncoded_csv(path: Path, rows: list[str], *, sur: str = "NOR", session: int = 30, themes: list[str] | None = None) -> Path:
    """Constructed hand-made list without action or issues."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Response", "Session"])
        for text in rows:
            w.writerow([sur, text, "CHL", "Accepted", session])
    return path


UNCODED = ["Ratify the optional protocol on the abolition of the death penalty",
           "Continue and strengthen the protection of women against domestic violence",
           "Improve the rights of the child by adopting a birth registration law",
           "Consider establishing a programme on primary education"]


def _dump(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                for t in ("recommendations", "recommendation_issues", "coding", "coding_issues", "coding_models")}
    finally:
        conn.close()


@pytest.fixture
def small_model(monkeypatch):
    """Let the constructed set (231 coded rows) be enough to learn from."""
    monkeypatch.setattr(coding, "MIN_CODED", 100)


def _store(db: Path, tmp_path: Path, *, coded: bool = True) -> Path:
    files = ([_coded_csv(tmp_path / "coded.csv")] if coded else []) + [_uncoded_csv(tmp_path / "uncoded.csv", UNCODED)]
    with open_store(db) as store:
        import_files(store, files)
    return db


# --- the rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level", "rule"),
    [
        ("Ratify the Convention against Torture", 5, "the first verb decides"),
        ("Consider ratifying the Convention against Torture", 3, "the first verb decides"),
        ("Continue to strengthen the national human rights institution", 2, "the first verb decides"),
        ("Continue and strengthen the national human rights institution", 4, "two opening verbs: the second one decides"),
        ("Improve women's rights by amending the family code", 5, "a general action followed by a specific example"),
        ("Seek technical assistance from OHCHR to train judges", 1, "asks for assistance"),
        ("Call on the international community to support the reconstruction", 1, None),
        ("That the Government ensure access to clean water", 4, "the first verb decides"),
    ],
)
def test_rules_follow_upr_infos_method(text, level, rule):
    r = coding.rule_action(text)
    assert r.level == level
    if rule:
        assert r.rule == rule
    assert r.runner_up is not None and r.runner_up != level


def test_rules_leave_an_unknown_opening_uncoded():
    r = coding.rule_action("Blorp the frobnicator")
    assert r.level is None
    assert coding._predict_rules("Blorp the frobnicator", []).action is None


def test_rule_issues_from_keywords_and_themes():
    found = coding.rule_issues("Stop the torture of detainees", ["D23 Death penalty", "SDG 5 - gender equality"])
    assert found["Torture and other CID treatment"][1] == "keyword 'torture'"
    assert found["Death penalty"] == (coding.THEME_CONF, "theme 'D23 Death penalty'")
    assert "Women's rights" in found  # SDG 5
    assert "Right to water" not in found


# --- sources, no overwrite, thresholds -----------------------------------------------------------


def test_rules_when_too_few_coded_rows(tmp_path, db_path):
    _store(db_path, tmp_path, coded=False)
    with open_store(db_path) as store:
        result = coding.classify(store, make_filters())
        assert result.model.kind == "rules"
        assert result.classified == 4
        rows = {r["text"]: r for r in search(store.conn, make_filters())}
    death = rows[UNCODED[0]]
    assert (death["action"], death["action_source"]) == (5, "rules")
    assert "Death penalty" in death["issues"] and death["issues_source"] == "rules"
    assert rows[UNCODED[1]]["action"] == 4  # continue and strengthen
    assert rows[UNCODED[2]]["action"] == 5  # a specific example


def test_learned_model_never_replaces_human_coding(tmp_path, db_path, small_model):
    _store(db_path, tmp_path)
    before = _dump(db_path)
    with open_store(db_path) as store:
        result = coding.classify(store, make_filters())
        assert result.model.kind == "learned" and result.trained
        assert result.human_complete == 231 and result.classified == 4
        human = store.conn.execute("SELECT count(*) FROM coding c JOIN recommendations r ON r.pk = c.rec_pk WHERE r.action IS NOT NULL").fetchone()[0]
        assert human == 0
        rows = {r["text"]: r for r in search(store.conn, make_filters())}
    after = _dump(db_path)
    assert after["recommendations"] == before["recommendations"]
    assert after["recommendation_issues"] == before["recommendation_issues"]
    for text in UNCODED:
        assert rows[text]["action_source"] == "predicted"
        assert 0 < rows[text]["action_confidence"] <= 1
        assert rows[text]["issues_source"] == "predicted"
    assert rows[UNCODED[0]]["action"] == 5 and "Death penalty" in rows[UNCODED[0]]["issues"]
    coded = [r for r in rows.values() if r["text"] not in UNCODED]
    assert {r["action_source"] for r in coded} == {"upr-info"} and {r["issues_source"] for r in coded} == {"upr-info"}
    assert all(r["action_confidence"] is None for r in coded)


def test_model_is_stored_as_plain_numbers_and_reloads_to_the_same_predictions(tmp_path, db_path, small_model):
    _store(db_path, tmp_path)
    with open_store(db_path) as store:
        model, trained = coding.current_model(store)
        assert trained
        row = store.conn.execute("SELECT kind, spec, weights FROM coding_models").fetchone()
        again, trained_again = coding.current_model(store)
    assert not trained_again
    kind, spec, blob = row
    spec = json.loads(spec)  # JSON, and the BLOB is exactly the float32 arrays it lists: nothing to unpickle
    assert kind == "learned"
    assert len(blob) == 4 * sum(int(__import__("math").prod(a["shape"])) for a in spec["arrays"])
    assert not blob.startswith(b"\x80")  # not a pickle stream
    a = coding.predict(model, UNCODED)
    b = coding.predict(again, UNCODED)
    assert [p.action for p in a] == [p.action for p in b]
    assert [round(p.action_confidence, 4) for p in a] == [round(p.action_confidence, 4) for p in b]
    assert [p.issues.keys() for p in a] == [p.issues.keys() for p in b]


def test_classify_twice_changes_nothing_the_second_time(tmp_path, db_path, small_model, runner):
    _store(db_path, tmp_path)
    first = runner.invoke(app, ["classify", "--db", str(db_path), "--format", "json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["classified"] == 4
    snapshot = _dump(db_path)
    second = runner.invoke(app, ["classify", "--db", str(db_path), "--format", "json"])
    assert second.exit_code == 0, second.output
    out = json.loads(second.stdout)
    assert (out["classified"], out["unchanged"], out["trained"]) == (0, 4, False)
    assert _dump(db_path) == snapshot


def test_new_coding_retrains_and_repredicts(tmp_path, db_path, small_model):
    _store(db_path, tmp_path)
    with open_store(db_path) as store:
        first = coding.classify(store, make_filters())
        import_files(store, [_coded_csv(tmp_path / "more.csv", session=21)])
        second = coding.classify(store, make_filters())
        models = [r[0] for r in store.conn.execute("SELECT fingerprint FROM coding_models")]
    assert second.trained and second.model.fingerprint != first.model.fingerprint
    assert second.classified == 4
    assert models == [second.model.fingerprint]  # the old model went with its predictions


def test_below_the_threshold_the_value_stays_empty(tmp_path, db_path, small_model, monkeypatch, runner):
    monkeypatch.setattr(coding, "ACTION_MIN", 1.01)
    _store(db_path, tmp_path)
    with open_store(db_path) as store:
        result = coding.classify(store, make_filters())
        rows = {r["text"]: r for r in search(store.conn, make_filters())}
    assert (result.action_coded, result.action_uncoded) == (0, 4)
    assert all(rows[t]["action"] is None and rows[t]["action_source"] is None for t in UNCODED)
    res = runner.invoke(app, ["stats", "--by", "action", "--db", str(db_path), "--format", "json"])
    counts = {r["action"]: r["count"] for r in json.loads(res.stdout)}
    assert counts["(none)"] == 4


def test_dry_run_writes_nothing(tmp_path, db_path, small_model, runner):
    _store(db_path, tmp_path)
    before = _dump(db_path)
    res = runner.invoke(app, ["classify", "--dry-run", "--db", str(db_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["dry_run"] and out["classified"] == 4 and len(out["recommendations"]) == 4
    assert _dump(db_path) == before


def test_import_of_upr_info_coding_replaces_predictions(tmp_path, db_path):
    """A recommendation first imported without coding, predicted, then imported again with UPR Info's coding."""
    text = "Abolish the death penalty in law"
    plain = _uncoded_csv(tmp_path / "plain.csv", [text])
    with open_store(db_path) as store:
        import_files(store, [plain])
        coding.classify(store, make_filters())
        assert store.conn.execute("SELECT count(*) FROM coding").fetchone()[0] == 1
    coded = tmp_path / "coded.csv"
    with open(coded, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Response", "Action", "Issue", "Session"])
        w.writerow(["NOR", text, "CHL", "Accepted", 4, "Justice", 30])
    with open_store(db_path) as store:
        import_files(store, [coded])
        (rec,) = list(search(store.conn, make_filters()))
        left = store.conn.execute("SELECT count(*) FROM coding").fetchone()[0]
        again = coding.classify(store, make_filters())
    assert (rec["action"], rec["action_source"], rec["issues"], rec["issues_source"]) == (4, "upr-info", "Justice", "upr-info")
    assert left == 0
    assert again.human_complete == 1 and again.classified == 0


def test_reimporting_an_export_keeps_human_values(tmp_path, db_path, small_model):
    _store(db_path, tmp_path)
    with open_store(db_path) as store:
        coding.classify(store, make_filters())
        human_before = _dump(db_path)["recommendations"]
        import_files(store, [tmp_path / "coded.csv"])
    assert _dump(db_path)["recommendations"] == human_before


# --- what users see ----------------------------------------------------------------------------


def test_search_and_stats_mark_predictions_and_coding_human_hides_them(tmp_path, db_path, small_model, runner):
    _store(db_path, tmp_path)
    runner.invoke(app, ["classify", "--db", str(db_path)])
    res = runner.invoke(app, ["stats", "--by", "action", "--sur", "NOR", "--db", str(db_path)])
    assert res.exit_code == 0, res.output
    assert "predicted" in res.stdout
    assert "4 of 4 action categories are predicted" in res.stderr
    human = runner.invoke(app, ["stats", "--by", "action", "--sur", "NOR", "--coding", "human", "--db", str(db_path), "--format", "json"])
    assert [(r["action"], r["count"]) for r in json.loads(human.stdout)] == [("(none)", 4)]
    issues = runner.invoke(app, ["stats", "--by", "issue", "--sur", "NOR", "--db", str(db_path), "--format", "json"])
    rows = json.loads(issues.stdout)
    assert rows and all(r["predicted"] == r["count"] for r in rows)
    table = runner.invoke(app, ["search", "--sur", "NOR", "--db", str(db_path)])
    assert "5*" in table.stdout and "predicted by `upr classify`" in table.stderr
    by_issue = runner.invoke(app, ["search", "--sur", "NOR", "--issue", "Death penalty", "--count", "--db", str(db_path)])
    assert by_issue.stdout.strip() == "1"
    by_issue_human = runner.invoke(app, ["search", "--sur", "NOR", "--issue", "Death penalty", "--coding", "human", "--count", "--db", str(db_path)])
    assert by_issue_human.stdout.strip() == "0"


def test_explain_shows_the_deciding_words_and_the_runner_up(tmp_path, db_path, small_model, runner):
    _store(db_path, tmp_path)
    runner.invoke(app, ["classify", "--db", str(db_path)])
    with open_store(db_path, readonly=True) as store:
        rid = store.conn.execute("SELECT id FROM recommendations WHERE text = ?", (UNCODED[1],)).fetchone()[0]
    res = runner.invoke(app, ["classify", "--explain", rid, "--db", str(db_path)])
    assert res.exit_code == 0, res.output
    assert "decided by:" in res.stdout and "runner-up" in res.stdout
    assert "two opening verbs: the second one decides ('strengthen' -> 4)" in res.stdout
    data = json.loads(runner.invoke(app, ["classify", "--explain", rid, "--db", str(db_path), "--format", "json"]).stdout)
    assert data["action"] == 4 and data["runner_up"] not in (None, 4)
    assert any("strengthen" in w for w in data["why_action"])
    bad = runner.invoke(app, ["classify", "--explain", "NOPE-00", "--db", str(db_path)])
    assert bad.exit_code == 2 and "no recommendation with ID" in bad.output


# --- the real files ------------------------------------------------------------------------------


def test_slovenia_list_is_coded_whole_from_a_real_export(tmp_path, db_path, exports, matrices, runner):
    with open_store(db_path) as store:
        import_files(store, [exports / "1-5.csv", matrices / "Slovenia_UPR48_thematic_list_2025.docx"])
    res = runner.invoke(app, ["classify", "--db", str(db_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    rows = list(search(sqlite3.connect(db_path), make_filters(sur=["SVN"], session=[48])))
    # 254 paragraphs; a paragraph made by several States is one record per State (pairs, as UPR Info counts)
    assert len({r["paragraph"] for r in rows}) == 254 and len(rows) >= 254
    assert out["source"] == "predicted" and out["classified"] == len(rows)
    assert sum(r["action"] is not None for r in rows) >= 0.95 * len(rows)
    assert all(r["action_source"] == "predicted" for r in rows if r["action"] is not None)
    assert all(r["issues"] and r["issues_source"] == "predicted" for r in rows)
    stats = runner.invoke(app, ["stats", "--by", "issue", "--sur", "SVN", "--db", str(db_path)])
    assert "predicted by `upr classify`" in stats.stderr


def test_a_failed_classify_leaves_the_store_as_it_was(tmp_path, db_path, small_model, monkeypatch, runner):
    _store(db_path, tmp_path)
    before = _dump(db_path)

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(coding, "drop_superseded", broken)  # fails inside the write, after training
    with open_store(db_path) as store, pytest.raises(sqlite3.OperationalError):
        coding.classify(store, make_filters())
    assert _dump(db_path) == before  # not even the model was kept


def test_explain_and_bad_filters_write_nothing(tmp_path, db_path, small_model, runner):
    _store(db_path, tmp_path)
    runner.invoke(app, ["classify", "--db", str(db_path)])
    before = _dump(db_path)
    with open_store(db_path, readonly=True) as store:
        rid = store.conn.execute("SELECT id FROM recommendations ORDER BY pk LIMIT 1").fetchone()[0]
    assert runner.invoke(app, ["classify", "--explain", rid, "--db", str(db_path)]).exit_code == 0
    bad = runner.invoke(app, ["classify", "--sur", "Atlantis", "--db", str(db_path)])
    assert bad.exit_code == 2 and "unknown State 'Atlantis'" in bad.output
    assert _dump(db_path) == before
