"""Timeline: every dated record and finding in lanes by kind, person and indicator; brushing a span asks
for that window again (counts per bin when it holds many records, the records themselves when few)."""

from __future__ import annotations

from ...reports import timeline as tl
from ..web import Ctx, View

view = View("timeline", "Timeline", order=70)


@view.page("/timeline")
def page(ctx: Ctx):
    return ctx.render("timeline/index.html", kinds=tl.KINDS)


@view.api("/api/timeline")
def data(ctx: Ctx):
    kinds = tuple(k for k in (ctx.arg("kinds") or "").split(",") if k) or tl.KINDS
    since = ctx.int_arg("since", -1, -(1 << 62), 1 << 62)
    until = ctx.int_arg("until", -1, -(1 << 62), 1 << 62)
    return tl.timeline(
        ctx.store,
        since if ctx.arg("since") else None,
        until if ctx.arg("until") else None,
        kinds,
        party=ctx.arg("party"),
        indicator=ctx.arg("indicator"),
    )
