"""Android system databases: mmssms.db (SMS and MMS), calllog.db, contacts2.db.

SMS and call dates are Unix milliseconds; MMS (pdu) dates are seconds. Contacts are rebuilt from
raw_contacts + data + mimetypes, one contact per raw contact.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from ..model import Call, Contact, Message, Record
from . import ciphertext, register
from .base import Probe, Source
from .sqlite import Aligned, Db, SqliteParser, ms, seconds
from .telephony import CALL_TYPE, HIDDEN_NUMBERS, MMS_FROM, MMS_TO, SMS_BOX, SMS_DIRECTION


@register
class AndroidMmsSms(SqliteParser):
    name = "android-mmssms"
    version = "1.1"  # 1.1: ciphertext bodies flagged
    reads = "Android `mmssms.db` (SMS in `sms`; MMS in `pdu`, `part`, `addr`)"
    locators = "`sqlite:sms/rowid=1`, `sqlite:pdu/rowid=4`"
    description = "Android mmssms.db (sms, pdu/part/addr)"

    def sniff(self, probe: Probe) -> float:
        t = probe.sqlite_tables
        return 0.95 if {"sms", "pdu", "part", "addr"} <= t or ("sms" in t and "threads" in t) else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            if db.has("sms", "address", "body", "date"):
                yield from self.table(src, "sms", self._sms(src, db))
            if db.has("pdu", "msg_box") and db.has("part", "mid") and db.has("addr", "msg_id"):
                yield from self.table(src, "pdu", self._mms(src, db))

    def _sms(self, src: Source, db: Db) -> Iterator[Record]:
        sql = f"""SELECT _id AS rowid, thread_id, address, date, {db.col("sms", "date_sent")}, type, body,
                         {db.col("sms", "read")}, {db.col("sms", "service_center")} FROM sms ORDER BY _id"""

        def read(r):
            t = str(r["type"])
            d = SMS_DIRECTION.get(t, "unknown")
            msg = Message(
                prov=self.prov(src, f"sqlite:sms/rowid={r['rowid']}"),
                platform="sms",
                chat_id=f"sms:thread/{r['thread_id']}",
                chat_name=r["address"],
                ts=ms(r["date"]),
                sender_id=r["address"] if d == "incoming" else None,
                recipient_id=r["address"] if d == "outgoing" else None,
                direction=d,
                text=r["body"],
                extra={k: v for k, v in (("box", SMS_BOX.get(t)), ("service_center", r["service_center"])) if v},
            )
            yield from ciphertext.sealed(self, src, msg)
            yield from self.party(msg, r["address"], "sender" if d == "incoming" else "recipient", "sms")
            yield from self.mentioned(msg, r["body"], "sms")

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:sms/rowid={r['rowid']}")

    def _mms(self, src: Source, db: Db) -> Iterator[Record]:
        # three cursors in message-id order, walked together: memory does not grow with the database
        parts = Aligned(
            db.rows(
                "SELECT mid AS k, ct, text, "
                + db.col("part", "cl")
                + ", "
                + db.col("part", "_data", "data")
                + " FROM part ORDER BY mid, _id"
            )
        )
        addrs = Aligned(db.rows("SELECT msg_id AS k, address, type FROM addr ORDER BY msg_id, _id"))

        def read(r):
            ps, ads = parts.take(r["rowid"]), addrs.take(r["rowid"])
            sender = next((a["address"] for a in ads if str(a["type"]) == MMS_FROM), None)
            to = [a["address"] for a in ads if str(a["type"]) == MMS_TO]
            text = "\n".join(p["text"] for p in ps if p["ct"] == "text/plain" and p["text"]) or None
            media = [{"ct": p["ct"], "name": p["cl"], "path": p["data"]} for p in ps if p["ct"] not in ("text/plain", "application/smil")]
            d = {1: "incoming", 2: "outgoing"}.get(r["msg_box"], "unknown")
            msg = Message(
                prov=self.prov(src, f"sqlite:pdu/rowid={r['rowid']}"),
                platform="mms",
                chat_id=f"sms:thread/{r['thread_id']}",
                ts=seconds(r["date"]),
                sender_id=sender,
                recipient_id=to[0] if to else None,
                direction=d,
                kind="media" if media else "text",
                text=text,
                media=media[0]["name"] if media else None,
                extra={k: v for k, v in (("media", media), ("subject", r["sub"]), ("to", to if len(to) > 1 else None)) if v},
            )
            yield from ciphertext.sealed(self, src, msg)
            yield from self.party(msg, sender, "sender", "sms")
            for t in to:
                yield from self.party(msg, t, "recipient", "sms")
            yield from self.mentioned(msg, text, "sms")

        yield from self.each(
            src,
            db.rows(f"SELECT _id AS rowid, thread_id, date, msg_box, {db.col('pdu', 'sub')} FROM pdu ORDER BY _id"),
            read,
            lambda r: f"sqlite:pdu/rowid={r['rowid']}",
        )


@register
class AndroidCallLog(SqliteParser):
    name = "android-calllog"
    version = "1.0"
    reads = "Android `calllog.db` (the `calls` table)"
    locators = "`sqlite:calls/rowid=1`"
    description = "Android calllog.db / contacts2.db calls table"

    def sniff(self, probe: Probe) -> float:
        t = probe.sqlite_tables
        return 0.95 if "calls" in t and "raw_contacts" not in t else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            yield from self.table(src, "calls", self.calls(src, db))

    def calls(self, src: Source, db: Db) -> Iterator[Record]:
        extra_cols = [c for c in ("name", "geocoded_location", "countryiso", "subscription_id", "presentation") if db.has("calls", c)]
        sql = f"SELECT _id AS rowid, number, date, duration, type{''.join(', ' + c for c in extra_cols)} FROM calls ORDER BY _id"

        def read(r):
            number = r["number"] or None
            extra = {c: r[c] for c in extra_cols if c != "name" and r[c] not in (None, "")}
            if number in HIDDEN_NUMBERS:
                extra["number_withheld"], number = HIDDEN_NUMBERS[number], None
            call = Call(
                prov=self.prov(src, f"sqlite:calls/rowid={r['rowid']}"),
                platform="phone",
                ts=ms(r["date"]),
                number=number,
                name=r["name"] if "name" in extra_cols else None,
                direction=CALL_TYPE.get(str(r["type"]), "unknown"),
                duration_s=r["duration"],
                extra=extra,
            )
            yield call
            yield from self.party(call, call.number, "counterpart", "phone")

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:calls/rowid={r['rowid']}")


_MIME = "vnd.android.cursor.item/"


@register
class AndroidContacts(SqliteParser):
    name = "android-contacts2"
    version = "1.0"
    reads = "Android `contacts2.db` (`raw_contacts`, `data`, `mimetypes`; calls if present)"
    locators = "`sqlite:raw_contacts/rowid=1`"
    description = "Android contacts2.db (raw_contacts, data, mimetypes; calls if present)"

    def sniff(self, probe: Probe) -> float:
        return 0.95 if {"raw_contacts", "data", "mimetypes"} <= probe.sqlite_tables else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            yield from self.table(src, "raw_contacts", self._contacts(src, db))
            if db.has("calls", "number", "date"):
                yield from self.table(src, "calls", AndroidCallLog.calls(self, src, db))

    def _contacts(self, src: Source, db: Db) -> Iterator[Record]:
        sql = f"""SELECT rc._id AS rowid, rc.display_name, {db.col("raw_contacts", "account_type", prefix="rc")},
                         {db.col("raw_contacts", "account_name", prefix="rc")}, {db.col("raw_contacts", "deleted", prefix="rc")},
                         m.mimetype, d.data1, d.data2, d.data3
                  FROM raw_contacts rc LEFT JOIN data d ON d.raw_contact_id = rc._id
                  LEFT JOIN mimetypes m ON m._id = d.mimetype_id ORDER BY rc._id, d._id"""

        def read(item):
            rowid, rows = item
            rows = list(rows)

            def by(suffix: str) -> list[Any]:
                return [r["data1"] for r in rows if r["mimetype"] == _MIME + suffix and r["data1"]]

            first = rows[0]
            whatsapp = [
                r["data1"]
                for r in rows
                if (r["mimetype"] or "").startswith("vnd.android.cursor.item/vnd.com.whatsapp") and r["data1"] and "@" in r["data1"]
            ]
            extra = {k: first[k] for k in ("account_type", "account_name") if first[k]}
            if first["deleted"]:
                extra["deleted"] = True
            c = Contact(
                prov=self.prov(src, f"sqlite:raw_contacts/rowid={rowid}"),
                source="android-contacts",
                name=(by("name") or [first["display_name"]])[0],
                phones=by("phone_v2"),
                emails=by("email_v2"),
                usernames=sorted(set(whatsapp)),
                organisation=(by("organization") or [None])[0],
                note=(by("note") or [None])[0],
                extra=extra,
            )
            yield c
            for p in c.phones:
                yield from self.party(c, p, "contact", "phone")
            for e in c.emails:
                yield from self.party(c, e, "contact", None, kind="email")

        yield from self.each(
            src, groupby(db.rows(sql), key=lambda r: r["rowid"]), read, lambda item: f"sqlite:raw_contacts/rowid={item[0]}"
        )
