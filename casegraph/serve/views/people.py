"""People: every resolved person, and a profile per person (names, identifiers with where they were
found, exhibits, chats, calls, payments per currency, indicators, a personal timeline)."""

from __future__ import annotations

from ... import profile, review
from ...graph import steps
from ..web import Ctx, View

view = View("people", "People", order=30)
SEEN = 5  # places listed per identifier on the profile (the count says how many there are)


@view.page("/people")
def people(ctx: Ctx):
    return ctx.render("people/list.html", people=profile.people(ctx.store))


@view.page("/people/{entity}")
def person(ctx: Ctx):
    pid = ctx.path("entity")
    offset = ctx.int_arg("from", 0, 0)
    p = profile.person(ctx.store, pid)
    return ctx.render(
        "people/profile.html",
        p=p,
        identifiers=profile.identifiers(ctx.store, pid, seen=SEEN),
        exhibits=ctx.store.rows(
            "SELECT exhibit_id, original_name, sha256 FROM exhibits WHERE list_contains(?, sha256) ORDER BY exhibit_id",
            [p["attrs"].get("exhibits", [])],
        ),
        chats=profile.chats(ctx.store, pid),
        calls=profile.calls(ctx.store, pid),
        payments=profile.payments(ctx.store, pid),
        other_accounts=profile.other_accounts(ctx.store, pid),
        findings=[f.brief() for f in review.findings(ctx.store, person=pid)],
        timeline=profile.timeline(ctx.store, pid, offset, 100),
        offset=offset,
        roles=steps.ROLES,
    )


@view.api("/api/people/{entity}/accounts")
def accounts(ctx: Ctx):
    """The person's payments per currency (accounts they hold or use) and the accounts tied to them that they
    do not hold: the profile's figures, which the CLI and the portable viewer take from the same library call."""
    pid = ctx.path("entity")
    profile.person(ctx.store, pid)  # an unknown person is a 404 naming it
    return {"person": pid, "payments": profile.payments(ctx.store, pid), "other_accounts": profile.other_accounts(ctx.store, pid)}


@view.api("/api/people/mark", methods=("POST",))
def mark(ctx: Ctx):
    """`casegraph entities mark`: victim, witness, suspect or minor, with a reason (logged with the user)."""
    body = ctx.body()
    return steps.mark(
        ctx.case, ctx.field("entity"), ctx.field("role"), ctx.field("reason"), remove=bool(body.get("remove")), actor=ctx.actor
    )
