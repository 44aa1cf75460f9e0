"""Map: the case's locations on an offline basemap (Natural Earth outlines from npm world-atlas, drawn
with d3-geo and topojson-client; no tile is fetched from anywhere)."""

from __future__ import annotations

from ...reports import places as pl
from ..web import Ctx, View

view = View("map", "Map", order=80)


@view.page("/map")
def page(ctx: Ctx):
    return ctx.render("map/index.html")


@view.api("/api/map/places")
def data(ctx: Ctx):
    r = ctx.redactor()  # a reviewer sees protected persons under pseudonyms, and none of their locations
    return pl.places(
        ctx.store,
        ctx.arg("kind"),
        ctx.int_arg("limit", pl.MAX_PLACES, 1, pl.MAX_PLACES),
        person=ctx.arg("person"),
        withhold=list(r.pseudonyms) if r.active else (),
    )
