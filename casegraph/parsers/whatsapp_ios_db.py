"""WhatsApp for iOS ChatStorage.sqlite (Core Data): ZWAMESSAGE, ZWACHATSESSION, ZWAGROUPMEMBER, ZWAMEDIAITEM.

ZMESSAGEDATE counts seconds from 2001-01-01 UTC (Apple epoch).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Location, Message, Record
from . import register
from .base import Probe, Source
from .locations import degrees
from .sqlite import Db, apple
from .whatsapp_db import WhatsAppDb

TYPES = {
    0: "text",
    1: "media",
    2: "media",
    3: "media",
    4: "media",
    5: "text",
    6: "system",
    7: "text",
    8: "media",
    10: "system",
    11: "media",
    14: "deleted",
    15: "media",
    46: "media",
}


@register
class WhatsAppChatStorage(WhatsAppDb):
    name = "whatsapp-ios-chatstorage"
    version = "1.1"  # 1.1: location messages
    reads = "iOS `ChatStorage.sqlite` (location messages: `ZWAMEDIAITEM` `ZLATITUDE`/`ZLONGITUDE`)"
    locators = "`sqlite:ZWAMESSAGE/rowid=5`"
    description = "WhatsApp iOS ChatStorage.sqlite"

    def sniff(self, probe: Probe) -> float:
        return 0.95 if {"zwamessage", "zwachatsession"} <= probe.sqlite_tables else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            yield from self.table(src, "ZWAMESSAGE", self._messages(src, db))

    def _messages(self, src: Source, db: Db) -> Iterator[Record]:
        gm = db.has("ZWAGROUPMEMBER", "ZMEMBERJID")
        mi = db.has("ZWAMEDIAITEM", "ZMEDIALOCALPATH")
        sql = f"""
            SELECT m.Z_PK AS rowid, m.ZISFROMME AS from_me, m.ZMESSAGEDATE AS date, m.ZTEXT AS text,
                   m.ZMESSAGETYPE AS mtype, {db.col("ZWAMESSAGE", "ZSTANZAID", "stanza", "m")},
                   {db.col("ZWAMESSAGE", "ZFROMJID", "from_jid", "m")}, {db.col("ZWAMESSAGE", "ZTOJID", "to_jid", "m")},
                   s.ZCONTACTJID AS chat_jid, s.ZPARTNERNAME AS chat_name,
                   {"g.ZMEMBERJID" if gm else "NULL"} AS member_jid,
                   {db.col("ZWAGROUPMEMBER", "ZCONTACTNAME", "member_name", "g") if gm else "NULL AS member_name"},
                   {"mi.ZMEDIALOCALPATH" if mi else "NULL"} AS media_path,
                   {db.col("ZWAMEDIAITEM", "ZTITLE", "media_title", "mi") if mi else "NULL AS media_title"},
                   {db.col("ZWAMEDIAITEM", "ZLATITUDE", "lat", "mi") if mi else "NULL AS lat"},
                   {db.col("ZWAMEDIAITEM", "ZLONGITUDE", "lon", "mi") if mi else "NULL AS lon"}
            FROM ZWAMESSAGE m
            LEFT JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION
            {"LEFT JOIN ZWAGROUPMEMBER g ON g.Z_PK = m.ZGROUPMEMBER" if gm else ""}
            {"LEFT JOIN ZWAMEDIAITEM mi ON mi.ZMESSAGE = m.Z_PK" if mi else ""}
            ORDER BY m.Z_PK"""

        def read(r):
            group = (r["chat_jid"] or "").endswith("@g.us")
            sender = None if r["from_me"] else (r["member_jid"] or r["from_jid"]) if group else (r["from_jid"] or r["chat_jid"])
            kind = TYPES.get(int(r["mtype"] or 0), "other")
            msg = Message(
                prov=self.prov(src, f"sqlite:ZWAMESSAGE/rowid={r['rowid']}"),
                platform="whatsapp",
                chat_id=f"whatsapp:{r['chat_jid']}",
                chat_name=r["chat_name"] or r["chat_jid"],
                source_id=r["stanza"],
                ts=apple(r["date"]),
                sender_id=sender,
                sender_name=r["member_name"] if group and not r["from_me"] else None,
                recipient_id=r["chat_jid"] if r["from_me"] and not group else None,
                direction="outgoing" if r["from_me"] else "incoming",
                kind=kind if kind != "other" else "text",
                text=r["text"] or r["media_title"],
                media=r["media_path"],
                extra={"message_type": r["mtype"]} if kind == "other" else {},
            )
            yield msg
            yield from self._ids(msg, sender, "sender")
            if r["from_me"] and not group:
                yield from self._ids(msg, r["chat_jid"], "recipient")
            if int(r["mtype"] or 0) == 5:  # a location message: its point is on the media item
                yield from self._location(src, msg, r)
            yield from self.mentioned(msg, msg.text, "whatsapp")

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:ZWAMESSAGE/rowid={r['rowid']}")

    def _location(self, src: Source, msg: Message, r) -> Iterator[Record]:
        d = degrees(r["lat"], r["lon"])
        if d is None:
            yield self.issue(
                src,
                msg.prov.locator,
                "location message without valid coordinates on its ZWAMEDIAITEM",
                f"ZLATITUDE={r['lat']!r} ZLONGITUDE={r['lon']!r}",
                severity="warning",
            )
            return
        yield Location(
            prov=msg.prov,
            platform="whatsapp",
            source_kind="venue" if r["media_title"] else "shared-location",
            latitude=d[0],
            longitude=d[1],
            ts=msg.ts,
            who=None if r["from_me"] else msg.sender_id,
            who_name=msg.sender_name,
            label=r["media_title"] or None,
            record_id=msg.id,
            extra={"from_me": True} if r["from_me"] else ({"label_column": "ZWAMEDIAITEM.ZTITLE"} if r["media_title"] else {}),
        )
