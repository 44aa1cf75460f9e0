"""Case overview: the case, its exhibits (hashes, seizure, parse status), counts, the latest findings,
and the custody log with a verify button."""

from __future__ import annotations

from ... import browse
from ...ingest.integrity import verify_logged
from ..web import Ctx, View

view = View("overview", "Case", order=10, home="/")


@view.page("/")
def overview(ctx: Ctx):
    events, total = browse.custody_page(ctx.case.custody.events(), ctx.int_arg("custody_from", 0), 20)
    return ctx.render(
        "overview.html",
        exhibits=browse.exhibits(ctx.store),
        counts=ctx.store.counts(),
        findings=browse.latest_findings(ctx.store, 12),
        events=events,
        events_total=total,
        custody_from=ctx.int_arg("custody_from", 0),
    )


@view.api("/api/custody/verify", methods=("POST",), writes=False)
def verify(ctx: Ctx):
    """`casegraph custody verify`: the same check, logged as the CLI logs it (not in a read-only workspace)."""
    logged = not ctx.ws.read_only
    v = verify_logged(ctx.case, ctx.actor, log=logged)
    return {**v.summary(), "ok": v.ok, "logged": logged}
