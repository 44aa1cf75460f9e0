"""Source view: from any record, the exact bytes at its locator in the exhibit, with the exhibit's SHA-256."""

from __future__ import annotations

from starlette.responses import Response

from ... import sources
from ..web import Ctx, View

view = View("source", "Source", order=95, nav=False)


@view.page("/source")
def source(ctx: Ctx):
    record = ctx.arg("record") or ""
    shown = sources.show(ctx.case, record, context=ctx.int_arg("context", sources.CONTEXT, 0, 50))
    return ctx.render("source/show.html", s=shown, context_lines=ctx.int_arg("context", sources.CONTEXT, 0, 50))


@view.api("/source/image")
def image(ctx: Ctx):
    """The image an OCR record was read from (drawn under its boxes)."""
    if ctx.redacting:
        return ctx.json({"error": "images are not shown to reviewers (faces and documents are not redacted)"}, 403)
    data, mime = sources.image(ctx.case, ctx.arg("record") or "")
    return Response(data, media_type=mime)
