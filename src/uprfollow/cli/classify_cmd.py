"""`upr classify`: predict the action category and issues of recommendations UPR Info has not coded."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import counted
from ._app import DbOption, OutputFormat, app, err, print_json
from .query_cmd import (
    CycleOpt,
    Pledges,
    PledgesOpt,
    ResponseOpt,
    RsGroupOpt,
    RsOpt,
    RsOrgOpt,
    SessionOpt,
    SurGroupOpt,
    SurOpt,
    SurOrgOpt,
    YearOpt,
)


@app.command("classify")
def classify_cmd(
    text: Annotated[
        str | None,
        typer.Option("--text", metavar="TEXT", help="Only recommendations matching this full-text search (as upr search TEXT).", show_default=False),
    ] = None,
    sur: SurOpt = None,
    rs: RsOpt = None,
    sur_group: SurGroupOpt = None,
    rs_group: RsGroupOpt = None,
    sur_org: SurOrgOpt = None,
    rs_org: RsOrgOpt = None,
    response: ResponseOpt = None,
    session: SessionOpt = None,
    cycle: CycleOpt = None,
    year: YearOpt = None,
    pledges: PledgesOpt = Pledges.exclude,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be predicted; write nothing (not even the model).")] = False,
    explain: Annotated[
        str | None, typer.Option("--explain", metavar="ID", help="Show why a recommendation gets its action category and issues, and the runner-up.",
                                 show_default=False)
    ] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table (for people) or json.", case_sensitive=False)] = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Predict the action category (1-5) and the issues of every matching recommendation that UPR Info has not coded.

    Learned from the store's own UPR Info-coded recommendations (import a UPR Info export
    first); with fewer than 500 of them, rules from UPR Info's method (the first verb
    decides) and keyword and OHCHR-theme tables. Predictions are kept apart from UPR Info's
    coding, with their source (predicted or rules) and confidence, and never replace it; a
    later import of UPR Info's coding replaces them. Below the confidence threshold a value
    stays empty ("(not coded)"). The model is kept in the store as plain numbers and
    retrained only when the coded recommendations change: running classify twice changes
    nothing the second time. upr search and upr stats mark predicted values with *.
    """
    from .. import coding
    from ..query import make_filters
    from ..store import open_store

    if explain is not None:
        with open_store(db, readonly=True) as store:
            e = coding.explain(store, explain)
        if format == OutputFormat.json:
            print_json(e.as_dict())
        else:
            _print_explanation(e)
        return
    f = make_filters(sur=sur or (), rs=rs or (), sur_group=sur_group or (), rs_group=rs_group or (), sur_org=sur_org or (), rs_org=rs_org or (),
                     response=response or (), session=session or (), cycle=cycle or (), year=year or (), pledges=pledges.value, text=text)
    with open_store(db, readonly=dry_run) as store:
        result = coding.classify(store, f, dry_run=dry_run, keep_rows=format == OutputFormat.json)
    m = result.model
    if format == OutputFormat.json:
        print_json({**result.as_dict(), "recommendations": result.rows})
        return
    how = (f"learned from {m.coded_rows:,} UPR Info-coded recommendations" if m.kind == "learned"
           else f"rules (only {m.coded_rows:,} UPR Info-coded recommendations; a model needs {coding.MIN_CODED:,})")
    if result.trained and m.kind == "learned":
        how += f", trained now in {m.train_seconds:.1f} s"
    from .output import print_table

    print_table(
        [("", {}), ("recommendations", {"justify": "right"})],
        ([label, f"{n:,}"] for label, n in (
            ("in scope", result.in_scope),
            ("coded by UPR Info (left as they are)", result.human_complete),
            ("already predicted by this model (unchanged)", result.unchanged),
            ("would be predicted now" if dry_run else "predicted now", result.classified),
            (f"  action category given ({m.source})", result.action_coded),
            (f"  action category left empty (confidence < {coding.ACTION_MIN})", result.action_uncoded),
            (f"  issues given ({m.source})", result.issues_coded),
            ("  issues left empty", result.issues_uncoded),
        )),
        title=f"upr classify{' --dry-run' if dry_run else ''}: {how}; model {m.fingerprint}",
    )
    if result.dropped:
        err(f"{counted(result.dropped, 'prediction')} dropped: UPR Info's coding has arrived for them")
    err("dry run, nothing written" if dry_run else "see them with `upr search --format json` (action_source, action_confidence, issues_source) "
        "and `upr stats --by action`; why: `upr classify --explain ID`")


def _print_explanation(e) -> None:
    from rich.console import Console

    from .. import vocab

    out = Console(highlight=False, soft_wrap=True)
    name = {k: v.name for k, v in vocab.action_categories().items()}
    out.print(f"[bold]{e.id}[/bold]  {e.text}")
    if e.human_action is not None or e.human_issues:
        out.print(f"UPR Info's coding: action {e.human_action or '-'}; issues: {'; '.join(e.human_issues) or '-'} (kept; a prediction never replaces it)")
    kind = "rules" if e.model.startswith("r") else "learned model"
    out.print(f"[bold]action category[/bold] ({kind} {e.model}): "
              + (f"{e.action} {name.get(e.action, '')}, confidence {e.action_confidence:.2f}" if e.action else
                 f"(not coded): confidence {e.action_confidence or 0:.2f} is below the threshold"))
    for line in e.why_action:
        out.print(f"  decided by: {line}")
    if e.runner_up:
        out.print(f"  runner-up: {e.runner_up} {name.get(e.runner_up, '')}" + (f", confidence {e.runner_up_confidence:.2f}" if e.runner_up_confidence else ""))
    r = e.rule
    out.print(f"  UPR Info's method: {r.rule}" + (f" ({r.verb!r} -> {r.level})" if r.verb else ""))
    out.print("[bold]issues[/bold]: " + ("; ".join(f"{k} {v:.2f}" for k, v in e.issues.items()) or "(not coded)"))
    for issue, why in e.why_issues.items():
        if issue in e.issues:
            out.print(f"  {issue}: {why}")
    if e.issue_runner_up:
        out.print(f"  runner-up: {e.issue_runner_up[0]} {e.issue_runner_up[1]:.2f}")
