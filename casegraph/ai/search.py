"""`casegraph search`: messages like a question, across languages as far as the models allow.

Three ways a message can be found, each shown with its score so the examiner sees why:
- semantic: cosine similarity of sentence vectors (a local embedding model; vectors are made
  once per model and kept in `message_vectors`, the ranking is one vectorised DuckDB query);
- indicator: the question matches a lexicon indicator (e.g. "they took my passport" is document
  confiscation), so messages flagged with it in any language are found too (run `indicators`
  first); this is what carries an English question to Sinhala and Tamil messages when the
  embedding model is English-only;
- words: fuzzy word overlap (rapidfuzz), when no model is available.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
from rapidfuzz import fuzz, process

from ..store import CaseStore
from . import lexicon as lx
from . import texts
from .indicators import KIND
from .local_model import Embedder

if TYPE_CHECKING:
    from ..case import Case


@dataclass
class Hit:
    record: str
    score: float
    how: list[str] = field(default_factory=list)
    text: str = ""
    sender: str | None = None
    chat: str | None = None
    exhibit: str = ""  # the exhibit's id and original name, for people
    locator: str = ""
    table: str = ""
    exhibit_sha256: str = ""
    chat_id: str | None = None  # for a message: its chat, to open it in its thread


def index(store: CaseStore, embedder: Embedder, batch: int = 64, tick: Callable[[int], None] = lambda n: None) -> int:
    """Vectors for every text that has none yet for this model; returns how many were made. Each
    batch is stored as it is made (the texts stream through their own cursor), so memory stays flat
    and an interrupted run resumes where it stopped."""
    model = embedder.info.label
    where = f"WHERE id NOT IN (SELECT record_id FROM message_vectors WHERE model = {_lit(model)})"
    made = 0
    for rows in texts.batches(store, batch, where):
        vecs = embedder.embed([r["text"] for r in rows])
        store.insert(
            "message_vectors",
            pa.table(
                {
                    "record_id": [r["id"] for r in rows],
                    "model": [model] * len(rows),
                    "vec": pa.array(list(vecs), type=pa.list_(pa.float32())),
                }
            ),
        )
        made += len(rows)
        tick(len(rows))
    return made


def index_logged(case: Case, embedder: Embedder, tick: Callable[[int], None] = lambda n: None, actor: str | None = None) -> int:
    """`casegraph search`'s embedding step: `index`, and an `embed` custody event with the model and the
    number of vectors made (none when nothing was left to embed)."""
    made = index(case.store, embedder, tick=tick)
    case.log("embed", actor, details={"model": embedder.info.label, "texts": made})
    return made


def todo(store: CaseStore, embedder: Embedder) -> int:
    return store.one(
        f"SELECT count(*) FROM ({texts.TEXTS}) WHERE id NOT IN (SELECT record_id FROM message_vectors WHERE model = ?)",
        [embedder.info.label],
    )[0]


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def search(store: CaseStore, query: str, lexicon: lx.Lexicon, embedder: Embedder | None = None, k: int = 20) -> list[Hit]:
    hits: dict[str, Hit] = {}

    def add(record: str, score: float, how: str) -> None:
        h = hits.setdefault(record, Hit(record, score))
        h.score = max(h.score, score)
        h.how.append(how)

    if embedder is not None:
        q = embedder.embed([query])[0].tolist()
        for r in store.rows(
            """SELECT record_id, list_cosine_similarity(vec, ?::FLOAT[]) AS s FROM message_vectors
                               WHERE model = ? ORDER BY s DESC, record_id LIMIT ?""",
            [q, embedder.info.label, k],
        ):
            add(r["record_id"], float(r["s"]), f"semantic {r['s']:.2f} ({embedder.info.name})")
    for rh in lx.scan(lexicon, query):
        rows = store.rows(
            """SELECT evidence, score, json_extract_string(attrs, '$.script') AS script FROM findings
                             WHERE kind = ? AND json_extract_string(attrs, '$.indicator') = ? ORDER BY score DESC, id LIMIT ?""",
            [KIND, rh.indicator, k],
        )
        for r in rows:
            rec = json.loads(r["evidence"])[0]["record"]
            add(rec, min(rh.score, r["score"] or 0), f"indicator {rh.indicator} (question and message; message script {r['script']})")
    if embedder is None:
        all_texts = store.rows(f"SELECT id, text FROM ({texts.TEXTS})")
        for _, score, i in process.extract(query, [r["text"] for r in all_texts], scorer=fuzz.token_set_ratio, limit=k):
            if score >= 50:
                add(all_texts[i]["id"], score / 100, f"words {score / 100:.2f}")
    ranked = sorted(hits.values(), key=lambda h: (-h.score, h.record))[:k]
    if ranked:
        store.id_table("_hits", (h.record for h in ranked))
        info = {
            r["id"]: r
            for r in store.rows(f"""SELECT t.id, t.text, t.sender, t.chat, t.locator, t."table" AS tbl, t.exhibit_sha256, e.exhibit_id || ' ' || coalesce(e.original_name, '') AS exhibit
                                                  FROM ({texts.TEXTS}) t LEFT JOIN exhibits e ON e.sha256 = t.exhibit_sha256
                                                  SEMI JOIN _hits h ON h.id = t.id""")  # noqa: E501
        }
        for h in ranked:
            r = info.get(h.record, {})
            h.text, h.sender, h.chat = r.get("text", ""), r.get("sender"), r.get("chat")
            h.exhibit, h.locator = r.get("exhibit", ""), r.get("locator", "")
            h.table, h.exhibit_sha256 = r.get("tbl", ""), r.get("exhibit_sha256", "")
    return ranked
