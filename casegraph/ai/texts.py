"""The texts AI layers read: every message with text, and text read from images (OCR), streamed
from the store in Arrow batches with what a finding needs to point back at them."""
from __future__ import annotations

from collections.abc import Iterator

from ..store import CaseStore

TEXTS = """
SELECT id, 'messages' AS "table", text, coalesce(sender_name, sender_id) AS sender, coalesce(chat_name, chat_id) AS chat,
       platform, ts_utc, exhibit_sha256, parser, parser_version, locator
FROM messages WHERE text IS NOT NULL AND length(trim(text)) > 0
UNION ALL
SELECT id, 'ocr_text', text, NULL, NULL, 'image', NULL, exhibit_sha256, parser, parser_version, locator
FROM ocr_text WHERE text IS NOT NULL AND length(trim(text)) > 0
"""


def count(store: CaseStore) -> int:
    return store.one(f"SELECT count(*) FROM ({TEXTS})")[0]


def batches(store: CaseStore, size: int = 256, where: str = "") -> Iterator[list[dict]]:
    """Rows in batches of `size`, in a stable order (exhibit, locator). Read through its own cursor,
    so the store stays usable while the stream is open."""
    reader = store.con.cursor().sql(f"SELECT * FROM ({TEXTS}) {where} ORDER BY exhibit_sha256, locator, id").to_arrow_reader(size)
    for batch in reader:
        yield batch.to_pylist()


def evidence(row: dict) -> dict:
    return {"record": row["id"], "table": row["table"], "locator": row["locator"], "exhibit_sha256": row["exhibit_sha256"]}
