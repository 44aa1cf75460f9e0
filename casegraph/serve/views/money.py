"""Money: run a trace from any account with a taint model (the library's `casegraph trace`, the same
findings and custody event, by the logged-in user), the traced transfers as a flow diagram per
currency, and the typology findings with the transfers they cite."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ... import review
from ...finance import workflow
from ...finance.trace import MODELS
from ...graph.resolve import trace_links
from ...review import parse_since
from ..web import BadRequest, Ctx, View

view = View("money", "Money", order=60)
TYPOLOGY_EVIDENCE = 50  # transfers listed per typology finding; the count says how many it cites


@view.page("/money")
def money(ctx: Ctx):
    found = [f for f in review.findings(ctx.store, detector="typologies")]
    return ctx.render(
        "money/index.html",
        accounts=workflow.trace_accounts(ctx.store, limit=30),
        models=MODELS,
        typologies=[{**f.brief(), "summary": f.summary, "evidence": review.quoted(ctx.store, _first(f))} for f in found],
        evidence_shown=TYPOLOGY_EVIDENCE,
        start=ctx.arg("account") or "",
    )


def _first(f):
    from dataclasses import replace

    return replace(f, evidence=f.evidence[:TYPOLOGY_EVIDENCE])


@view.api("/api/money/accounts")
def accounts(ctx: Ctx):
    return {"accounts": workflow.trace_accounts(ctx.store, ctx.arg("q"), ctx.int_arg("limit", 30, 1, 200))}


@view.api("/api/money/trace", methods=("POST",))
def run(ctx: Ctx):
    """`casegraph trace ACCOUNT --model M --hops N [--backward] [--since] [--until] [--min-amount]`: findings
    written and logged in custody as the CLI does, by this user."""
    body = ctx.body()
    account = ctx.field("account").strip()
    model = body.get("model") or "haircut"
    if model not in MODELS:
        raise BadRequest(f"model must be one of {', '.join(MODELS)}")
    try:
        hops = int(body.get("hops") or 6)
        minimum = Decimal(str(body.get("min_amount") or "0"))
    except (ValueError, InvalidOperation):
        raise BadRequest("hops must be a whole number and min_amount a decimal amount") from None
    if not 1 <= hops <= 20:
        raise BadRequest("hops must be 1 to 20")
    try:
        r = workflow.run_trace(
            ctx.case,
            account,
            resolved=trace_links(ctx.store),
            actor=ctx.actor,
            hops=hops,
            backward=bool(body.get("backward")),
            since=parse_since(body.get("since") or None),
            until=parse_since(body.get("until") or None),
            min_amount=minimum,
            model=model,
            include_failed=bool(body.get("include_failed")),
        )
    except ValueError as e:  # the library's own message (a bad option)
        raise BadRequest(str(e)) from None
    skipped = {k: {"count": v.count, "totals": {str(c): str(t) for c, t in v.totals.items()}} for k, v in r.result.skipped.items()}
    return {
        "detector": r.detector,
        "findings": len(r.findings),
        "findings_sha256": r.digest,
        "custody_seq": r.event["seq"] if r.event else None,
        "custody_hash": r.event["hash"] if r.event else None,
        "rows": workflow.summary_rows(r),
        "table": workflow.trace_table(r),
        "diagrams": workflow.flow_diagram(r.result),
        "left_out": skipped,
    }
