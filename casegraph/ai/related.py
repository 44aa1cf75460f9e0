"""Search by related wording: messages and OCR text that share the question's concepts or its letter sequences,
across Sinhala, Tamil, English and romanised spellings. No model: it does not understand meaning, and says so.

Two signals, each shown with a hit so the examiner sees why it was found:
- concepts: the question is read in the `key` view (ai.normalise: Sinhala and Tamil script romanised, loose
  spellings folded together) against the indicator concepts (ai/concepts.toml); a text that holds one of the same
  concepts matches whatever language or script it is written in ("passport" finds "பாஸ்போர்ட்", "පාස්පෝට්",
  "paspot"). Function words (pronouns, negation, "say") are not concepts a search expands;
- letter sequences: character 3- to 5-grams of the key view, weighted by TF-IDF over the texts read, and the
  cosine similarity of each text to the question (scikit-learn); this catches spellings no concept lists.

The texts are read once per search, at most MAX_SCAN of them (the count read and the total are returned).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from ..store import CaseStore
from ..texts import fold
from . import concepts as cx
from . import normalise as nz
from . import texts
from .search import Hit

MAX_SCAN = 200_000  # texts read for one search; a larger case says how many were left unread
MIN_SIMILARITY = 0.12  # below this a shared letter sequence alone is not shown as related
NOT_EXPANDED = frozenset({"FIRST", "SECOND", "NEG", "SAY"})  # words in every sentence: no search by them
LABEL = "related wording (shared concepts and letter sequences across scripts; no AI model)"


@dataclass
class Related:
    query: str
    concepts: dict[str, list[str]]  # the question's concepts, each with the words (as concepts.toml writes them) it covers
    hits: list[Hit]
    read: int  # texts read
    total: int  # texts in the case
    label: str = LABEL


@cache
def _words_of() -> dict[str, tuple[str, ...]]:
    """Each concept's stems as concepts.toml writes them (Latin and script), for showing what a concept covers."""
    data = tomllib.loads(files("casegraph.ai").joinpath("concepts.toml").read_text(encoding="utf-8"))
    return {k: tuple(s.rstrip("$*") for s in v) for k, v in data["concepts"].items()}


def expand(query: str) -> dict[str, list[str]]:
    """The concepts in the question (function words left out), each with the words it covers."""
    found = cx.find(cx.load(), nz.key(fold(query)))
    words = _words_of()
    return {c: list(words.get(c, ())) for c in sorted(found) if c not in NOT_EXPANDED}


def search(store: CaseStore, query: str, k: int = 30, max_scan: int = MAX_SCAN) -> Related:
    from sklearn.feature_extraction.text import TfidfVectorizer

    wanted = expand(query)
    total = texts.count(store)
    rows: list[dict[str, Any]] = []
    for batch in texts.batches(store, 2048):
        rows += batch[: max_scan - len(rows)]
        if len(rows) >= max_scan:
            break
    qkey = nz.key(fold(query))
    if not rows or not qkey.strip():
        return Related(query, wanted, [], len(rows), total)
    concepts = cx.load()
    keys = [nz.key(fold(r["text"] or "")) for r in rows]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
    matrix = vec.fit_transform([*keys, qkey])
    sims = (matrix[:-1] @ matrix[-1].T).toarray().ravel()  # rows are L2-normalised: the dot product is the cosine
    hits = []
    for i, r in enumerate(rows):
        shared = sorted(set(cx.find(concepts, keys[i])) & set(wanted)) if wanted else []
        sim = float(sims[i])
        if not shared and sim < MIN_SIMILARITY:
            continue
        how = []
        if shared:
            how.append("concepts " + ", ".join(shared) + f" (of the question's {len(wanted)})")
        how.append(f"letter sequences {sim:.2f} (character n-gram TF-IDF, romanised key)")
        score = (0.5 * len(shared) / len(wanted) if wanted else 0.0) + 0.5 * sim
        hits.append(
            Hit(
                r["id"],
                round(score, 4),
                how,
                r["text"] or "",
                r["sender"],
                r["chat"],
                locator=r["locator"],
                table=r["table"],
                exhibit_sha256=r["exhibit_sha256"],
            )
        )
    hits.sort(key=lambda h: (-h.score, h.record))
    hits = hits[:k]
    ids = [h.record for h in hits if h.table == "messages"]
    chat_of = {r["id"]: r["chat_id"] for r in store.rows("SELECT id, chat_id FROM messages WHERE id IN (SELECT unnest(?))", [ids])}
    for h in hits:
        h.chat_id = chat_of.get(h.record)
    return Related(query, wanted, hits, len(rows), total)
