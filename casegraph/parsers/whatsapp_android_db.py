"""WhatsApp for Android databases: msgstore.db (new `message` schema and legacy `messages`) and wa.db.

New schema: message → chat → jid for the conversation; sender_jid_row_id → jid for group
senders, mapped through jid_map when the sender is a LID (…@lid, since 2025); message_media,
message_quoted and call_log when present. Times are Unix milliseconds (UTC). Names live in
wa.db (wa_contacts), parsed as contacts so the graph joins them to the JIDs.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Contact, Location, Message, Record
from . import register
from .base import Probe, Source
from .locations import degrees
from .sqlite import Db, ms
from .whatsapp_db import WhatsAppDb

# message_location columns (new schema), read when present
LOCATION_COLUMNS = (
    "latitude",
    "longitude",
    "place_name",
    "place_address",
    "url",
    "live_location_share_duration",
    "live_location_final_latitude",
    "live_location_final_longitude",
    "live_location_final_timestamp",
)

# message_type in both schemas (media_wa_type in legacy)
TYPES = {
    0: "text",
    1: "media",
    2: "media",
    3: "media",
    4: "media",
    5: "location",
    7: "system",
    8: "call",
    9: "media",
    10: "system",
    11: "system",
    13: "media",
    15: "deleted",
    16: "location",
    20: "media",
    64: "deleted",
    90: "call",
}


@register
class WhatsAppMsgstore(WhatsAppDb):
    name = "whatsapp-msgstore"
    version = "1.1"  # 1.1: location rows
    reads = (
        "Android `msgstore.db` (new and legacy schemas, LID→phone mapping, calls, location rows: "
        "`message_location` and legacy `latitude`/`longitude`, a live location's last point) and `wa.db` "
        "(names)"
    )
    locators = "`sqlite:message/rowid=991`, `sqlite:message/rowid=3#final`"
    description = "WhatsApp Android msgstore.db (new and legacy schemas)"

    def sniff(self, probe: Probe) -> float:
        t = probe.sqlite_tables
        return 0.95 if ("message" in t and "jid" in t and "chat" in t) or ("messages" in t and "chat_list" in t) else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            if db.has("message", "chat_row_id", "text_data"):
                yield from self.table(src, "message", self._new(src, db))
            elif db.has("messages", "key_remote_jid"):
                yield from self.table(src, "messages", self._legacy(src, db))
            else:
                yield self.issue(src, "sqlite:", f"{src.name}: neither the message nor the messages schema is present")
            if db.has("call_log", "jid_row_id", "timestamp"):
                yield from self.table(src, "call_log", self._calls(src, db))

    def _new(self, src: Source, db: Db) -> Iterator[Record]:
        lid_join = (
            "LEFT JOIN jid_map sm ON sm.lid_row_id = m.sender_jid_row_id LEFT JOIN jid sp ON sp._id = sm.jid_row_id "
            "LEFT JOIN jid_map cm ON cm.lid_row_id = c.jid_row_id LEFT JOIN jid cp ON cp._id = cm.jid_row_id "
            if db.has("jid_map", "lid_row_id", "jid_row_id")
            else ""
        )
        media = db.has("message_media", "message_row_id")
        quoted = db.has("message_quoted", "message_row_id", "key_id")
        located = db.has("message_location", "message_row_id", "latitude", "longitude")
        loc_cols = ", ".join(db.col("message_location", c, f"loc_{c}", "ml") if located else f"NULL AS loc_{c}" for c in LOCATION_COLUMNS)
        sql = f"""
            SELECT m._id AS rowid, m.from_me, m.key_id, m.timestamp, m.message_type, m.text_data,
                   {db.col("message", "starred", prefix="m")},
                   cj.raw_string AS chat_jid, c.subject AS chat_subject, sj.raw_string AS sender_jid,
                   {"sp.raw_string" if lid_join else "NULL"} AS sender_phone_jid,
                   {"cp.raw_string" if lid_join else "NULL"} AS chat_phone_jid,
                   {"mm.file_path, mm.mime_type, mm.media_caption" if media else "NULL AS file_path, NULL AS mime_type, NULL AS media_caption"},
                   {"q.key_id" if quoted else "NULL"} AS quoted_key, {loc_cols}
            FROM message m
            LEFT JOIN chat c ON c._id = m.chat_row_id
            LEFT JOIN jid cj ON cj._id = c.jid_row_id
            LEFT JOIN jid sj ON sj._id = m.sender_jid_row_id
            {lid_join}
            {"LEFT JOIN message_media mm ON mm.message_row_id = m._id" if media else ""}
            {"LEFT JOIN message_quoted q ON q.message_row_id = m._id" if quoted else ""}
            {"LEFT JOIN message_location ml ON ml.message_row_id = m._id" if located else ""}
            ORDER BY m._id"""  # noqa: E501

        def read(r):
            chat_jid = r["chat_phone_jid"] or r["chat_jid"]
            group = (r["chat_jid"] or "").endswith("@g.us")
            sender = None if r["from_me"] else (r["sender_phone_jid"] or r["sender_jid"]) if group else chat_jid
            extra = {k: r[k] for k in ("mime_type", "starred") if r[k]}
            if r["sender_phone_jid"] and r["sender_jid"] != r["sender_phone_jid"]:
                extra["sender_lid"] = r["sender_jid"]
            yield from self._message(
                src,
                f"sqlite:message/rowid={r['rowid']}",
                r["message_type"],
                r["from_me"],
                r["timestamp"],
                r["chat_jid"],
                r["chat_subject"],
                sender,
                chat_jid,
                group,
                r["text_data"] or r["media_caption"],
                r["file_path"],
                r["key_id"],
                r["quoted_key"],
                extra,
                {c: r[f"loc_{c}"] for c in LOCATION_COLUMNS},
            )

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:message/rowid={r['rowid']}")

    def _legacy(self, src: Source, db: Db) -> Iterator[Record]:
        sql = f"""SELECT _id AS rowid, key_remote_jid, key_from_me, key_id, timestamp, data,
                         {db.col("messages", "media_wa_type", prefix="messages")}, {db.col("messages", "media_name", prefix="messages")},
                         {db.col("messages", "media_caption", prefix="messages")}, {db.col("messages", "remote_resource", prefix="messages")},
                         {db.col("messages", "media_mime_type", prefix="messages")}, {db.col("messages", "status", prefix="messages")},
                         {db.col("messages", "latitude", prefix="messages")}, {db.col("messages", "longitude", prefix="messages")}
                  FROM messages ORDER BY _id"""  # noqa: E501
        subjects = {r[0]: r[1] for r in db.rows("SELECT key_remote_jid, subject FROM chat_list")} if db.has("chat_list", "subject") else {}

        def read(r):
            jid = r["key_remote_jid"]
            if jid == "-1":  # WhatsApp's own status rows
                return
            group = (jid or "").endswith("@g.us")
            sender = None if r["key_from_me"] else (r["remote_resource"] if group else jid)
            mtype = int(r["media_wa_type"] or 0)
            if r["status"] == 6:  # legacy system message
                mtype = 7
            extra = {"mime_type": r["media_mime_type"]} if r["media_mime_type"] else {}
            yield from self._message(
                src,
                f"sqlite:messages/rowid={r['rowid']}",
                mtype,
                r["key_from_me"],
                r["timestamp"],
                jid,
                subjects.get(jid),
                sender,
                jid,
                group,
                r["data"] or r["media_caption"],
                r["media_name"],
                r["key_id"],
                None,
                extra,
                # legacy rows hold 0, 0 in every non-location message
                {"latitude": r["latitude"], "longitude": r["longitude"]} if mtype in (5, 16) else None,
            )

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:messages/rowid={r['rowid']}")

    def _message(
        self,
        src,
        loc,
        mtype,
        from_me,
        ts,
        chat_jid,
        subject,
        sender,
        chat_peer,
        group,
        text,
        media,
        key_id,
        quoted,
        extra,
        place: dict | None = None,
    ) -> Iterator[Record]:
        kind = TYPES.get(int(mtype or 0), "other")
        if kind == "other":
            extra["message_type"] = mtype
        msg = Message(
            prov=self.prov(src, loc),
            platform="whatsapp",
            chat_id=f"whatsapp:{chat_jid}",
            chat_name=subject or chat_jid,
            source_id=key_id,
            ts=ms(ts),
            sender_id=sender,
            recipient_id=chat_peer if from_me and not group else None,
            direction="outgoing" if from_me else "incoming",
            kind=kind if kind != "location" else "text",
            text=text,
            media=media,
            reply_to=quoted,
            extra={**extra, "location": True} if kind == "location" else extra,
        )
        yield msg
        yield from self._ids(msg, sender, "sender")
        if from_me and not group:
            yield from self._ids(msg, chat_peer, "recipient")
        if place and kind == "location":
            yield from self._locations(src, msg, int(mtype), place)
        yield from self.mentioned(msg, text, "whatsapp")

    def _locations(self, src, msg: Message, mtype: int, p: dict) -> Iterator[Record]:
        """A location message's point (message_location, or the legacy latitude/longitude columns); a live
        location's last reported point is a second record at its own time."""
        who = msg.sender_id if msg.direction == "incoming" else None  # outgoing: the device's own account (extra.from_me)
        d = degrees(p.get("latitude"), p.get("longitude"))
        live = mtype == 16 or bool(p.get("live_location_share_duration"))
        if d is None:
            yield self.issue(src, msg.prov.locator, "location message without valid coordinates", repr(p)[:500], severity="warning")
        else:
            kind = "live-location" if live else "venue" if p.get("place_name") or p.get("place_address") else "shared-location"
            extra = {k: p[k] for k in ("url", "live_location_share_duration") if p.get(k)}
            if msg.direction == "outgoing":
                extra["from_me"] = True
            yield Location(
                prov=msg.prov,
                platform="whatsapp",
                source_kind=kind,
                latitude=d[0],
                longitude=d[1],
                ts=msg.ts,
                who=who,
                label=p.get("place_name") or None,
                address=p.get("place_address") or None,
                record_id=msg.id,
                extra=extra,
            )
        final = degrees(p.get("live_location_final_latitude"), p.get("live_location_final_longitude"))
        if final and final != (0, 0):
            yield Location(
                prov=self.prov(src, f"{msg.prov.locator}#final"),
                platform="whatsapp",
                source_kind="live-location",
                latitude=final[0],
                longitude=final[1],
                ts=ms(p.get("live_location_final_timestamp")),
                who=who,
                record_id=msg.id,
                extra={"final_point": True, **({"from_me": True} if msg.direction == "outgoing" else {})},
            )

    def _calls(self, src: Source, db: Db) -> Iterator[Record]:
        sql = f"""SELECT cl._id AS rowid, j.raw_string AS jid, cl.from_me, cl.timestamp, {db.col("call_log", "video_call", prefix="cl")},
                         {db.col("call_log", "duration", prefix="cl")}, {db.col("call_log", "call_result", prefix="cl")}
                  FROM call_log cl LEFT JOIN jid j ON j._id = cl.jid_row_id ORDER BY cl._id"""

        def read(r):
            return self._call(
                src,
                f"sqlite:call_log/rowid={r['rowid']}",
                ts=ms(r["timestamp"]),
                number=r["jid"],
                direction="outgoing" if r["from_me"] else "incoming",
                duration_s=int(r["duration"]) if r["duration"] is not None else None,
                extra={k: r[k] for k in ("video_call", "call_result") if r[k] is not None},
                counterparts=[r["jid"]],
            )

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:call_log/rowid={r['rowid']}")


@register
class WhatsAppContactsDb(WhatsAppDb):
    name = "whatsapp-wa-db"
    version = "1.0"
    reads = "Android WhatsApp `wa.db` (contact names and numbers)"
    locators = "`sqlite:wa_contacts/rowid=1`"
    description = "WhatsApp Android wa.db (wa_contacts: names for JIDs)"

    def sniff(self, probe: Probe) -> float:
        return 0.95 if "wa_contacts" in probe.sqlite_tables else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            cols = ", ".join(
                db.col("wa_contacts", c)
                for c in ("display_name", "wa_name", "number", "status", "given_name", "family_name", "is_whatsapp_user")
            )
            yield from self.table(src, "wa_contacts", self._rows(src, db, cols))

    def _rows(self, src: Source, db: Db, cols: str) -> Iterator[Record]:
        def read(r):
            jid = r["jid"]
            c = Contact(
                prov=self.prov(src, f"sqlite:wa_contacts/rowid={r['rowid']}"),
                source="whatsapp",
                name=r["display_name"] or r["wa_name"],
                phones=[r["number"]] if r["number"] else [],
                usernames=[jid] if jid else [],
                note=r["status"],
                extra={k: r[k] for k in ("wa_name", "given_name", "family_name", "is_whatsapp_user") if r[k] is not None},
            )
            yield c
            yield from self._ids(c, jid, "contact")
            yield from self.party(c, r["number"], "contact", "phone")

        yield from self.each(
            src,
            db.rows(f"SELECT _id AS rowid, jid, {cols} FROM wa_contacts ORDER BY _id"),
            read,
            lambda r: f"sqlite:wa_contacts/rowid={r['rowid']}",
        )
