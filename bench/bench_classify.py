"""Benchmark: `upr classify` against UPR Info's own coders.

Trains on UPR Info's export of sessions 1-13 (`upr-info-export-2015/*.csv`, pledges left
out) and scores on sessions 14-17 (`upr-info-export-2015-sessions-14-17/14-17.csv`), for the
learned model and for the rules alone:

- action category: exact agreement with UPR Info's coders, overall (a value left empty
  below the confidence threshold counts as a disagreement) and among the values given,
  per category, and the confusion matrix;
- issues: micro- and macro-F1 over UPR Info's 54 issues (empty predictions count);
- the share left uncoded, time to train, peak memory;
- `upr classify` of 100,000 uncoded recommendations as one whole process (start-up, reading,
  features, prediction, the write), the model already in the store.

HURIDOCS' published figures on UPR Info's data are printed as the reference. The rows are
those the reader gives (UPR Info exports have one row per recommending State, so a joint
recommendation counts once per State, as in the database's own counts).

    python bench/bench_classify.py [--quick]
"""

from __future__ import annotations

import csv
import glob
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(os.environ.get("UPR_SHARED", "/work/shared"))
TRAIN_GLOB = "data/upr-info-export-2015/[0-9]*.csv"
TEST_FILE = "data/upr-info-export-2015-sessions-14-17/14-17.csv"
REFERENCE = [
    ("HURIDOCS, fine-tuned sentence embeddings: action category", "87.8-89.2% accuracy"),
    ("HURIDOCS: issues", "micro-F1 75-78%"),
    ("HURIDOCS: rule code written by an LLM, action category", "68-70% accuracy"),
]
TARGETS = {"action": 0.92, "issues_micro_f1": 0.88, "rules_action": 0.80, "uncoded": 0.05, "train_s": 60, "classify_100k_s": 15, "peak_mb": 1024}


def _records(paths: list[str]):
    from uprfollow import importer

    out = []
    for p in paths:
        for r in importer.prepare(Path(p)).records:
            if not r.is_pledge:
                out.append(r)
    return out


def _scores(model, test) -> dict:
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    from uprfollow import coding, vocab

    started = time.perf_counter()
    preds = coding.predict(model, [r.text for r in test], [r.themes for r in test])
    seconds = time.perf_counter() - started
    coded = [(r, p) for r, p in zip(test, preds) if r.action is not None]
    levels = sorted(vocab.action_categories())
    confusion = {t: {p: 0 for p in [*levels, None]} for t in levels}
    for r, p in coded:
        confusion[r.action][p.action] += 1
    agree = sum(r.action == p.action for r, p in coded)
    given = [(r, p) for r, p in coded if p.action is not None]
    per_cat = {t: (confusion[t][t] / max(1, sum(confusion[t].values()))) for t in levels}
    with_issues = [(r, p) for r, p in zip(test, preds) if r.issues]
    mlb = MultiLabelBinarizer(classes=vocab.issues())
    y_true = mlb.fit_transform([r.issues for r, _ in with_issues])
    y_pred = mlb.transform([list(p.issues) for _, p in with_issues])
    present = y_true.sum(axis=0) > 0
    return {
        "rows": len(coded),
        "action": agree / len(coded),
        "action_among_given": sum(r.action == p.action for r, p in given) / max(1, len(given)),
        "action_uncoded": 1 - len(given) / len(coded),
        "per_category": per_cat,
        "confusion": confusion,
        "issues_rows": len(with_issues),
        "issues_micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "issues_macro_f1": float(f1_score(y_true[:, present], y_pred[:, present], average="macro", zero_division=0)),
        "issues_uncoded": float(np.mean([not p.issues for _, p in with_issues])),
        "predict_seconds": seconds,
    }


def _write_uncoded_csv(path: Path, texts: list[str], n: int) -> None:
    """n uncoded recommendations (no action, no issues) for the speed run; texts reused with a numbered suffix."""
    from uprfollow import vocab

    codes = sorted(c.iso3 for c in vocab.countries().values() if c.un_member)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["State under review", "Recommendation", "Recommending State", "Response", "Session"])
        for i in range(n):
            w.writerow([codes[i % len(codes)], f"{texts[i % len(texts)]} ({i})", codes[(i * 7 + 3) % len(codes)], "Accepted", 30 + i % 10])


def _peak_child(cmd: list[str], env: dict) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS (MB), stderr and CPU seconds (user + system) of one whole process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, err, usage.ru_utime + usage.ru_stime


def run(quick: bool = False) -> list[dict]:
    from uprfollow import coding, importer
    from uprfollow.store import open_store

    train_paths = sorted(glob.glob(str(SHARED / TRAIN_GLOB)))
    test_path = SHARED / TEST_FILE
    if not train_paths or not test_path.exists():
        raise SystemExit(f"the UPR Info exports are not under {SHARED}/data (set UPR_SHARED)")
    train_recs = _records(train_paths)
    test = _records([str(test_path)])
    started, cpu = time.perf_counter(), time.process_time()
    model = coding.train([r.text for r in train_recs], [r.action for r in train_recs], [r.issues for r in train_recs], fingerprint="bench")
    train_seconds, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    learned = _scores(model, test)
    rules = _scores(coding.rules_model("rules", 0), test)
    train_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="upr-bench-classify-") as tmp:
        db = Path(tmp) / "upr.db"
        uncoded = Path(tmp) / "uncoded.csv"
        _write_uncoded_csv(uncoded, [r.text for r in test], n)
        with open_store(db) as store:
            importer.import_files(store, [Path(p) for p in train_paths] + [uncoded])
        env = {**os.environ, "UPR_DB": str(db)}
        upr = [sys.executable, "-m", "uprfollow", "classify", "--db", str(db)]
        train_cli_s, train_cli_mb, _, train_cli_cpu = _peak_child([*upr, "--session", "1"], env)  # trains and stores the model; session 1 is all coded
        classify_s, classify_mb, _, classify_cpu = _peak_child([*upr, *sum([["--session", str(s)] for s in range(30, 40)], [])], env)
        again_s, _, again_err, again_cpu = _peak_child(upr, env)

    results = [
        {"name": "classify: action exact agreement (learned)", "value": round(learned["action"], 4), "target": f">= {TARGETS['action']}",
         "rows": learned["rows"], "detail": learned},
        {"name": "classify: action exact agreement (rules alone)", "value": round(rules["action"], 4), "target": f">= {TARGETS['rules_action']}",
         "rows": rules["rows"], "detail": rules},
        {"name": "classify: issues micro-F1 (learned)", "value": round(learned["issues_micro_f1"], 4), "target": f">= {TARGETS['issues_micro_f1']}",
         "macro_f1": round(learned["issues_macro_f1"], 4)},
        {"name": "classify: issues micro-F1 (rules alone)", "value": round(rules["issues_micro_f1"], 4), "macro_f1": round(rules["issues_macro_f1"], 4)},
        {"name": "classify: action left uncoded (learned)", "value": round(learned["action_uncoded"], 4), "target": f"<= {TARGETS['uncoded']}"},
        {"name": "classify: train on sessions 1-13 (in process)", "seconds": round(train_seconds, 2),
         "cpu_seconds": round(train_cpu, 2), "rows": len(train_recs),
         "target": f"<= {TARGETS['train_s']} s", "peak_rss_mb": round(train_rss)},
        {"name": "classify: train, whole `upr classify` process", "seconds": round(train_cli_s, 2),
         "cpu_seconds": round(train_cli_cpu, 2), "peak_rss_mb": round(train_cli_mb)},
        {"name": f"classify: {n:,} uncoded recommendations, whole `upr classify` process", "seconds": round(classify_s, 2),
         "cpu_seconds": round(classify_cpu, 2), "rows": n,
         "target": f"<= {TARGETS['classify_100k_s']} s (100,000)", "peak_rss_mb": round(classify_mb)},
        {"name": "classify: second run over the whole store (nothing to do)", "seconds": round(again_s, 2),
         "cpu_seconds": round(again_cpu, 2), "note": again_err.strip()[-200:]},
    ]
    for r in results:
        if "value" in r:
            r["data"] = f"{r['value']:.4g}" + (f" (target {r['target']})" if r.get("target") else "")
    results.append({"name": "upr classify: agreement with UPR Info's coders (sessions 14-17)", "markdown": report(results)})
    return results


def report(results: list[dict]) -> str:
    """The RESULTS.md section: figures, per category, confusion matrix, reference."""
    by = {r["name"]: r for r in results}
    learned = by["classify: action exact agreement (learned)"]["detail"]
    rules = by["classify: action exact agreement (rules alone)"]["detail"]
    lines = ["| figure | learned | rules alone | target |", "| --- | --- | --- | --- |"]
    lines.append(f"| action category, exact agreement (uncoded counts as wrong) | {learned['action']:.1%} | {rules['action']:.1%} | >= 92% (rules >= 80%) |")
    lines.append(f"| action category, agreement among the values given | {learned['action_among_given']:.1%} | {rules['action_among_given']:.1%} | |")
    lines.append(f"| action category left uncoded | {learned['action_uncoded']:.1%} | {rules['action_uncoded']:.1%} | <= 5% |")
    lines.append(f"| issues micro-F1 | {learned['issues_micro_f1']:.3f} | {rules['issues_micro_f1']:.3f} | >= 0.88 |")
    lines.append(f"| issues macro-F1 | {learned['issues_macro_f1']:.3f} | {rules['issues_macro_f1']:.3f} | |")
    lines.append(f"| issues left empty | {learned['issues_uncoded']:.1%} | {rules['issues_uncoded']:.1%} | |")
    for level in sorted(learned["per_category"], key=int):
        lines.append(f"| action {level}: agreement | {learned['per_category'][level]:.1%} | {rules['per_category'][level]:.1%} | |")
    lines += ["", "Confusion matrix of the action category, learned model (rows: UPR Info's coders; columns: predicted; '-' = left uncoded):", ""]
    for name, d in (("learned", learned), ("rules alone", rules)):
        if name != "learned":
            lines += ["", f"Confusion matrix, {name}:", ""]
        cols = [k for k in next(iter(d["confusion"].values()))]
        lines.append("| coder \\ predicted | " + " | ".join("-" if c in (None, "null", "None") else str(c) for c in cols) + " | total |")
        lines.append("| --- " * (len(cols) + 2) + "|")
        for t, row in d["confusion"].items():
            lines.append(f"| {t} | " + " | ".join(str(row[c]) for c in cols) + f" | {sum(row.values())} |")
    lines += ["", "Speed and memory (wall seconds on a machine shared with other jobs; CPU seconds = user + system of the process):", "",
              "| step | wall seconds | CPU seconds | peak RSS (MB) | target |", "| --- | --- | --- | --- | --- |"]
    for r in results:
        if "seconds" in r:
            lines.append(f"| {r['name'].removeprefix('classify: ')} | {r['seconds']} | {r.get('cpu_seconds', '')} | {r.get('peak_rss_mb', '')} | "
                         f"{r.get('target', '')} |")
    lines += ["", "Reference (published, not measured here):", ""]
    lines += [f"- {a}: {b}" for a, b in REFERENCE]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv)[-1]["markdown"])
