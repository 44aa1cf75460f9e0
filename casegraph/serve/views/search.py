"""Search: full-text over messages, OCR text, contacts and transaction narrations (textsearch: SQLite
FTS5 trigram, as written and by sound across Sinhala, Tamil and romanised forms), filtered by an
indicator; and search by meaning (ai.search: indicators and word overlap, as `casegraph search`)."""

from __future__ import annotations

from ... import textsearch
from ...ai import lexicon
from ...ai import search as meaning
from ..web import Ctx, View

view = View("search", "Search", order=15)
PAGE = 50
TABLES = ("messages", "ocr_text", "contacts", "transactions")


@view.page("/search")
def search(ctx: Ctx):
    q, table, indicator, mode = ctx.arg("q") or "", ctx.arg("table"), ctx.arg("indicator"), ctx.arg("mode") or "text"
    offset = ctx.int_arg("from", 0, 0)
    results, hits_meaning, error, built = None, [], "", None
    cited = textsearch.indicator_records(ctx.store, indicator) if indicator else None
    if q and mode == "text":
        try:
            if ctx.may_write:  # a stale index is built again (and logged) before the search
                built = textsearch.ensure(ctx.case, actor=ctx.actor)
            results = textsearch.search(
                ctx.case,
                q,
                tables=(table,) if table in TABLES else (),
                only=set(cited) if cited is not None else None,
                offset=offset,
                limit=PAGE,
            )
        except textsearch.SearchError as e:
            error = str(e)
    elif q and mode == "meaning":
        hits_meaning = meaning.search(ctx.store, q, lexicon.load(), None, 30)
    return ctx.render(
        "search/index.html",
        q=q,
        table=table or "",
        indicator=indicator or "",
        mode=mode,
        tables=TABLES,
        indicators=textsearch.indicators(ctx.store),
        results=results,
        hits_meaning=[vars(h) for h in hits_meaning],
        cited=cited or {},
        error=error,
        built=built,
        offset=offset,
        page=PAGE,
        index=textsearch.status(ctx.case),
    )


@view.api("/api/search/index", methods=("POST",))
def rebuild(ctx: Ctx):
    """Build the full-text index again (logged in custody with the user)."""
    return textsearch.build(ctx.case, actor=ctx.actor)
