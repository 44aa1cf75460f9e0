"""The texts AI layers read: every message with text, and text read from images (OCR), streamed
from the store in Arrow batches with what a finding needs to point back at them."""

from __future__ import annotations

from collections.abc import Iterator

from ..store import CaseStore

# `person`: the resolved person who sent the message (by the sender's identifier, else by the
# display name on that exhibit), when `casegraph resolve` has run
TEXTS = """
SELECT m.id, 'messages' AS "table", m.text, coalesce(m.sender_name, m.sender_id) AS sender,
       coalesce(m.chat_name, m.chat_id) AS chat, m.platform, m.ts_utc, m.exhibit_sha256, m.parser, m.parser_version, m.locator,
       coalesce((SELECT min(e.label || ' (' || e.id || ')') FROM identifiers i JOIN identifier_keys k USING (kind, value)
                 JOIN entity_members em ON em.member = 'id:' || k.node JOIN entities e ON e.id = em.entity_id
                 WHERE i.record_id = m.id AND i.role = 'sender'),
                (SELECT min(e.label || ' (' || e.id || ')') FROM entity_members em JOIN entities e ON e.id = em.entity_id
                 WHERE em.member = 'name:' || left(m.exhibit_sha256, 32) || ':' || m.sender_name)) AS person
FROM messages m WHERE m.text IS NOT NULL AND length(trim(m.text)) > 0
UNION ALL
SELECT id, 'ocr_text', text, NULL, NULL, 'image', NULL, exhibit_sha256, parser, parser_version, locator, NULL
FROM ocr_text WHERE text IS NOT NULL AND length(trim(text)) > 0
"""


def count(store: CaseStore) -> int:
    return store.one(f"SELECT count(*) FROM ({TEXTS})")[0]


ORDER = "exhibit_sha256, locator, id"
BY_CONVERSATION = "exhibit_sha256, chat NULLS LAST, ts_utc NULLS LAST, locator, id"  # a chat's messages together, in time order


def batches(store: CaseStore, size: int = 256, where: str = "", order: str = ORDER) -> Iterator[list[dict]]:
    """Rows in batches of `size`, in a stable order (exhibit, locator, or `order`). Read through its own
    cursor, so the store stays usable while the stream is open."""
    reader = store.con.cursor().sql(f"SELECT * FROM ({TEXTS}) {where} ORDER BY {order}").to_arrow_reader(size)
    for batch in reader:
        yield batch.to_pylist()


def evidence(row: dict) -> dict:
    return {"record": row["id"], "table": row["table"], "locator": row["locator"], "exhibit_sha256": row["exhibit_sha256"]}
