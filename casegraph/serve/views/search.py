"""Search: full-text over messages, OCR text, contacts and transaction narrations (textsearch: SQLite
FTS5 trigram, as written and by sound across Sinhala, Tamil and romanised forms), filtered by an
indicator; related wording (ai.related: the question's indicator concepts and character n-gram TF-IDF
across scripts; no model); and, as `casegraph search`, indicator findings with word overlap, or a local
embedding model's vectors when the workspace was started with --model."""

from __future__ import annotations

from ... import textsearch
from ...ai import lexicon, related
from ...ai import search as meaning
from ..web import Ctx, View

view = View("search", "Search", order=15)
PAGE = 50
TABLES = ("messages", "ocr_text", "contacts", "transactions")


@view.page("/search")
def search(ctx: Ctx):
    q, table, indicator, mode = ctx.arg("q") or "", ctx.arg("table"), ctx.arg("indicator"), ctx.arg("mode") or "text"
    offset = ctx.int_arg("from", 0, 0)
    results, hits_meaning, error, built, rel = None, [], "", None, None
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
    elif q and mode == "related":
        rel = related.search(ctx.store, q, 200 if cited is not None or table in TABLES else 30)
        keep = [h for h in rel.hits if (cited is None or h.record in cited) and (table not in TABLES or h.table == table)]
        rel.hits = keep[:30]  # the indicator and table filters apply here as to the full text
    elif q and mode == "meaning":
        embedder = ctx.ws.embedder
        if embedder is not None and meaning.todo(ctx.store, embedder):
            if not ctx.may_write:
                error = (
                    f"the texts have no vectors of {embedder.info.name} yet, and this workspace cannot make them "
                    "(read-only): run casegraph search CASE QUERY --model ... once"
                )
                embedder = None
            else:  # as `casegraph search --model`: the vectors made once and kept, logged in custody
                meaning.index_logged(ctx.case, embedder, actor=ctx.actor)
        hits_meaning = meaning.search(ctx.store, q, lexicon.load(), embedder, 30)
        hits_meaning = [h for h in hits_meaning if cited is None or h.record in cited]
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
        related={**vars(rel), "hits": [vars(h) for h in rel.hits]} if rel is not None else None,  # plain data: redacted for reviewers
        model=ctx.ws.embedder.info.name if ctx.ws.embedder is not None else None,
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
