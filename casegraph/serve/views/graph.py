"""Graph explorer: start from a person or identifier, expand neighbours, filter by tie kind and time
window, find the shortest path, see money directed with amounts, and pin a view for the report
(graph.explore: thin SQL over the store's nodes and edges)."""

from __future__ import annotations

from datetime import datetime

from ...graph import explore
from ...review import parse_since
from ..web import BadRequest, Ctx, View

view = View("graph", "Graph", order=40)


def _kinds(ctx: Ctx) -> tuple[str, ...]:
    given = [k for k in (ctx.arg("kinds") or ",".join(explore.TIES)).split(",") if k]
    if bad := [k for k in given if k not in explore.TIES]:
        raise BadRequest(f"unknown tie kind {bad[0]!r} (one of {', '.join(explore.TIES)})")
    return tuple(given)


def _when(ctx: Ctx, name: str) -> datetime | None:
    return parse_since(ctx.arg(name))


@view.page("/graph")
def page(ctx: Ctx):
    return ctx.render("graph/explore.html", focus=ctx.arg("focus") or "", ties=explore.TIES, pins=explore.pins(ctx.store))


@view.api("/api/graph/find")
def find(ctx: Ctx):
    return explore.find(ctx.store, ctx.arg("q") or "")


@view.api("/api/graph/expand")
def expand(ctx: Ctx):
    return explore.neighbourhood(ctx.store, ctx.arg("node") or "", kinds=_kinds(ctx), since=_when(ctx, "since"), until=_when(ctx, "until"))


@view.api("/api/graph/path")
def path(ctx: Ctx):
    return explore.path(ctx.store, ctx.arg("a") or "", ctx.arg("b") or "", kinds=_kinds(ctx))


@view.api("/api/graph/pin", methods=("POST",))
def pin(ctx: Ctx):
    body = ctx.body()
    nodes, edges = body.get("nodes") or [], body.get("edges") or []
    if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes) or not nodes:
        raise BadRequest("'nodes' must be a non-empty list of node ids")
    if not isinstance(edges, list) or not all(isinstance(e, str) for e in edges):
        raise BadRequest("'edges' must be a list of tie keys")
    given = body.get("filters")
    filters: dict = given if isinstance(given, dict) else {}
    return explore.pin(ctx.case, ctx.field("title"), nodes, edges, filters, actor=ctx.actor)
