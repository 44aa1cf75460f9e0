"""Review queue: possible-same-person pairs to merge or keep apart, victims / witnesses / minors to
mark, indicator findings to confirm or reject, and notes tagged on any record. Every decision goes
through the library step the CLI uses (review.*, graph.steps.*) with the logged-in user as actor."""

from __future__ import annotations

from ... import review
from ..web import Ctx, View

view = View("review", "Review", order=50)


@view.api("/api/tags", methods=("POST",))
def tag(ctx: Ctx):
    """`casegraph tag add`: a note on a record (message, transaction … or finding)."""
    return review.tag_record(ctx.case, ctx.field("record"), ctx.field("note"), actor=ctx.actor)


@view.api("/api/tags")
def tags(ctx: Ctx):
    return review.tags(ctx.store, ctx.arg("record"))
