"""Review queue: possible-same-person pairs to merge or keep apart, victims / witnesses / minors to
mark, indicator findings to confirm or reject, and notes tagged on any record. Every decision goes
through the library step the CLI uses (review.*, graph.steps.*) with the logged-in user as actor."""

from __future__ import annotations

from ... import profile, review
from ...graph import steps
from ..web import Ctx, View

view = View("review", "Review", order=50)


def _side(ctx: Ctx, entity: str) -> dict:
    try:
        p = profile.person(ctx.store, entity)
    except KeyError:
        return {"id": entity, "gone": True}
    return {
        **p,
        "gone": False,
        "identifiers": profile.identifiers(ctx.store, entity, seen=3),
        "chats": profile.chats(ctx.store, entity),
        "sample": profile.timeline(ctx.store, entity, 0, 4),
    }


@view.page("/review")
def queue(ctx: Ctx):
    pairs = [{**p, "a": _side(ctx, p["a"]), "b": _side(ctx, p["b"])} for p in review.same_person_pairs(ctx.store)]
    decided = {d["finding_id"]: d for d in review.finding_decisions(ctx.store)}
    indicators = [
        {**f.brief(), "summary": f.summary, "quoted": review.quoted(ctx.store, f)[:3], "decision": decided.get(f.id)}
        for f in review.findings(ctx.store, kind="trafficking-indicator")
    ]
    return ctx.render(
        "review/queue.html",
        pairs=pairs,
        people=profile.people(ctx.store),
        roles=steps.ROLES,
        indicators=indicators,
        tags=review.tags(ctx.store),
        decisions=review.finding_decisions(ctx.store),
    )


@view.api("/api/review/merge", methods=("POST",))
def merge(ctx: Ctx):
    """`casegraph entities merge`: the two are one person."""
    return steps.merge(ctx.case, ctx.field("a"), ctx.field("b"), ctx.field("reason"), actor=ctx.actor)


@view.api("/api/review/keep-apart", methods=("POST",))
def keep_apart(ctx: Ctx):
    """The two are different people: recorded so that no resolution joins them."""
    return steps.keep_apart(ctx.case, ctx.field("a"), ctx.field("b"), ctx.field("reason"), actor=ctx.actor)


@view.api("/api/findings/decide", methods=("POST",))
def decide(ctx: Ctx):
    """`casegraph findings confirm|reject`."""
    return review.decide_finding(ctx.case, ctx.field("finding"), ctx.field("verdict"), ctx.field("reason"), actor=ctx.actor)


@view.api("/api/tags", methods=("POST",))
def tag(ctx: Ctx):
    """`casegraph tag add`: a note on a record (message, transaction … or finding)."""
    return review.tag_record(ctx.case, ctx.field("record"), ctx.field("note"), actor=ctx.actor)


@view.api("/api/tags")
def tags(ctx: Ctx):
    return review.tags(ctx.store, ctx.arg("record"))
