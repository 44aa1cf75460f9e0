"""Conversations: every chat, and one chat as the phone showed it, a page at a time (keyset paging),
with jump to a date, search within the chat and a filter by participant."""

from __future__ import annotations

from starlette.responses import Response

from ... import browse, review, sources, thumbnails
from ..web import Ctx, View

view = View("chats", "Conversations", order=20)
PAGE = 50


@view.page("/chats")
def chat_list(ctx: Ctx):
    return ctx.render("chats/list.html", chats=browse.chats(ctx.store))


@view.page("/chat")
def chat(ctx: Ctx):
    chat_id = ctx.arg("chat") or ""
    meta = browse.chat(ctx.store, chat_id)
    sender, q = ctx.arg("sender"), ctx.arg("q")
    page = browse.thread(
        ctx.store,
        chat_id,
        after=ctx.arg("after"),
        before=ctx.arg("before"),
        at=ctx.arg("at"),
        day=ctx.arg("day"),
        sender=sender,
        limit=ctx.int_arg("n", PAGE, 1, 200),
    )
    hits = browse.search_chat(ctx.store, chat_id, q) if q else []
    tags = review.tags_of(ctx.store, [m["id"] for m in page["messages"]])
    for m in page["messages"]:  # what the media is (image, audio, document...): the thread's icon for it
        m["media_kind"] = thumbnails.kind_of(m["media"] or m["extra"].get("file"), m["extra"].get("mime_type"))
    return ctx.render(
        "chats/thread.html",
        chat=meta,
        page=page,
        participants=browse.participants(ctx.store, chat_id),
        sender=sender or "",
        q=q or "",
        hits=hits,
        tags=tags,
    )


@view.api("/media")
def media(ctx: Ctx):
    """A message's media file (an image inside its exhibit, served only when it still hashes as recorded)."""
    data, mime = sources.image(ctx.case, ctx.arg("record") or "")
    if ctx.redacting:
        return ctx.json({"error": "media files are not shown to reviewers (faces and documents are not redacted)"}, 403)
    return Response(data, media_type=mime)


@view.api("/thumb/{sha256}")
def thumb(ctx: Ctx):
    """A media file's thumbnail, by the SHA-256 of the original (a PNG made from the evidence store's bytes
    when they still hash as recorded; no metadata of the original; cached in memory)."""
    if ctx.redacting:
        return ctx.json({"error": "media thumbnails are not shown to reviewers (faces and documents are not redacted)"}, 403)
    try:
        png = ctx.ws.thumbnails.get(ctx.path("sha256"))
    except thumbnails.ThumbnailError as e:
        return ctx.json({"error": str(e)}, 404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400, immutable"})
