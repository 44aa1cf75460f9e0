"""iOS Messages sms.db: SMS and iMessage.

`date` counts from 2001-01-01 UTC, in nanoseconds on iOS 11+ (values over 1e15), seconds before.
When `text` is NULL (newer iOS) the words are inside `attributedBody`, an NSAttributedString in
Apple's typedstream format; the NSString payload is read out of it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Message, Record
from . import ciphertext, register
from .base import Probe, Source
from .sqlite import Db, SqliteParser, apple


def attributed_text(blob: bytes | None) -> str | None:
    """The string inside a typedstream NSAttributedString: after 'NSString', a 5-byte preamble, then a
    length (one byte, or 0x81 + 2 bytes / 0x82 + 4 bytes little-endian) and the UTF-8 bytes."""
    if not blob:
        return None
    i = blob.find(b"NSString")
    if i < 0:
        return None
    p = i + len(b"NSString") + 5
    if p >= len(blob):
        return None
    n = blob[p]
    if n == 0x81:
        n, p = int.from_bytes(blob[p + 1 : p + 3], "little"), p + 3
    elif n == 0x82:
        n, p = int.from_bytes(blob[p + 1 : p + 5], "little"), p + 5
    else:
        p += 1
    return blob[p : p + n].decode("utf-8", errors="replace")


@register
class IOSSmsDb(SqliteParser):
    name = "ios-sms-db"
    version = "1.1"  # 1.1: ciphertext bodies flagged
    reads = "iOS `sms.db` (SMS and iMessage, `attributedBody`)"
    locators = "`sqlite:message/rowid=3`"
    description = "iOS Messages sms.db (SMS, iMessage)"

    def sniff(self, probe: Probe) -> float:
        return 0.95 if {"message", "handle", "chat_message_join"} <= probe.sqlite_tables else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            yield from self.table(src, "message", self._messages(src, db))

    def _messages(self, src: Source, db: Db) -> Iterator[Record]:
        att = db.has("attachment", "filename") and db.has("message_attachment_join", "message_id")
        sql = f"""
            SELECT m.ROWID AS rowid, m.guid, m.text, {db.col("message", "attributedBody", "body", "m")}, m.date,
                   m.is_from_me, {db.col("message", "service", prefix="m")}, h.id AS handle,
                   c.chat_identifier, {db.col("chat", "display_name", "chat_name", "c")},
                   {"(SELECT group_concat(a.filename, char(10)) FROM message_attachment_join j JOIN attachment a ON a.ROWID = j.attachment_id WHERE j.message_id = m.ROWID)" if att else "NULL"} AS files
            FROM message m
            LEFT JOIN handle h ON h.ROWID = m.handle_id
            LEFT JOIN chat_message_join cmj ON cmj.message_id = m.ROWID
            LEFT JOIN chat c ON c.ROWID = cmj.chat_id
            ORDER BY m.ROWID"""  # noqa: E501

        def read(r):
            text = r["text"] if r["text"] is not None else attributed_text(r["body"])
            files = r["files"].split("\n") if r["files"] else []
            out = bool(r["is_from_me"])
            platform = "imessage" if (r["service"] or "").lower() == "imessage" else "sms"
            msg = Message(
                prov=self.prov(src, f"sqlite:message/rowid={r['rowid']}"),
                platform=platform,
                chat_id=f"ios-messages:{r['chat_identifier'] or r['handle']}",
                chat_name=r["chat_name"] or r["chat_identifier"] or r["handle"],
                source_id=r["guid"],
                ts=apple(r["date"]),
                sender_id=None if out else r["handle"],
                recipient_id=r["handle"] if out else None,
                direction="outgoing" if out else "incoming",
                kind="media" if files else "text",
                text=text,
                media=files[0] if files else None,
                extra={
                    k: v
                    for k, v in (
                        ("attachments", files if len(files) > 1 else None),
                        ("text_from", "attributedBody" if r["text"] is None and text else None),
                    )
                    if v
                },
            )
            yield from ciphertext.sealed(self, src, msg)
            handle = r["handle"]
            if handle:
                yield from self.party(msg, handle, "recipient" if out else "sender", platform, kind="email" if "@" in handle else "phone")
            yield from self.mentioned(msg, text, platform)

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:message/rowid={r['rowid']}")
