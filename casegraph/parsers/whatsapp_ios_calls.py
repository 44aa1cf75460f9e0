"""WhatsApp for iOS side databases: CallHistory.sqlite (calls) and ContactsV2.sqlite (the address book).

CallHistory (Core Data): ZWACDCALLEVENT is one call (ZDATE Apple-epoch seconds, ZDURATION seconds,
ZOUTCOME 0 ended / 1 missed / 4 rejected, ZCALLIDSTRING, group calls' ZGROUPJIDSTRING and
ZGROUPCALLCREATORUSERJIDSTRING); Z1CALLEVENTS points to its ZWAAGGREGATECALLEVENT (ZINCOMING,
ZMISSED, ZVIDEO); ZWACDCALLEVENTPARTICIPANT rows (ZJIDSTRING) point to their call by Z1PARTICIPANTS.
Core Data names a to-many relationship's foreign key Z<entity><relationship> and points it at the
owner's Z_PK, so participants join on the event's Z_PK (one published query joins them on
Z1CALLEVENTS instead, which only lines up by accident).

ContactsV2: ZWAADDRESSBOOKCONTACT (ZFULLNAME, ZGIVENNAME, ZLASTNAME, ZBUSINESSNAME, ZPHONENUMBER,
ZWHATSAPPID as a bare number or a JID, ZLID, ZABOUTTEXT). Columns drift between versions and are
read when present.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Contact, Record
from . import register
from .base import Probe, Source
from .sqlite import Db, apple
from .whatsapp_db import WhatsAppDb, jid_kind

OUTCOMES = {0: "ended", 1: "missed", 4: "rejected"}


def _jid(value: str | None) -> str | None:
    """A WhatsApp id as a JID: ContactsV2 writes bare numbers in older versions."""
    if not value:
        return None
    return value if "@" in value else f"{value}@s.whatsapp.net" if value.isdigit() else value


@register
class WhatsAppCallHistory(WhatsAppDb):
    name = "whatsapp-ios-callhistory"
    version = "1.0"
    reads = "iOS WhatsApp `CallHistory.sqlite` (`ZWACDCALLEVENT`, participants, direction from `ZWAAGGREGATECALLEVENT`, outcome ended/missed/rejected)"  # noqa: E501
    locators = "`sqlite:ZWACDCALLEVENT/rowid=1`"
    description = "WhatsApp iOS CallHistory.sqlite (calls and their participants)"

    def sniff(self, probe: Probe) -> float:
        return 0.95 if "zwacdcallevent" in probe.sqlite_tables else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            yield from self.table(src, "ZWACDCALLEVENT", self._calls(src, db))

    def _calls(self, src: Source, db: Db) -> Iterator[Record]:
        parts: dict[int, list[tuple[str, int | None]]] = {}
        if db.has("ZWACDCALLEVENTPARTICIPANT", "Z1PARTICIPANTS", "ZJIDSTRING"):
            outcome = db.col("ZWACDCALLEVENTPARTICIPANT", "ZOUTCOME", "outcome", "p")
            for r in db.rows(
                f"SELECT p.Z1PARTICIPANTS AS k, p.ZJIDSTRING AS jid, {outcome} "
                "FROM ZWACDCALLEVENTPARTICIPANT p ORDER BY p.Z1PARTICIPANTS, p.Z_PK"
            ):
                parts.setdefault(r["k"], []).append((r["jid"], r["outcome"]))
        agg = db.has("ZWAAGGREGATECALLEVENT", "Z_PK") and db.has("ZWACDCALLEVENT", "Z1CALLEVENTS")

        def a(c: str) -> str:
            return db.col("ZWAAGGREGATECALLEVENT", c, f"agg_{c.lower()}", "a") if agg else f"NULL AS agg_{c.lower()}"

        def e(c: str) -> str:
            return db.col("ZWACDCALLEVENT", c, c.lower(), "e")

        sql = f"""SELECT e.Z_PK AS rowid, {e("ZDATE")}, {e("ZDURATION")}, {e("ZOUTCOME")}, {e("ZCALLIDSTRING")},
                         {e("ZGROUPJIDSTRING")}, {e("ZGROUPCALLCREATORUSERJIDSTRING")}, {e("ZVIDEO")},
                         {a("ZINCOMING")}, {a("ZMISSED")}, {a("ZVIDEO")}
                  FROM ZWACDCALLEVENT e {"LEFT JOIN ZWAAGGREGATECALLEVENT a ON a.Z_PK = e.Z1CALLEVENTS" if agg else ""}
                  ORDER BY e.Z_PK"""

        def read(r):
            people = parts.get(r["rowid"], [])
            outcome = OUTCOMES.get(r["zoutcome"]) if r["zoutcome"] is not None else None
            incoming = r["agg_zincoming"]  # this device's direction lives on the aggregate
            if incoming is None:
                direction = "unknown"
            elif incoming:
                direction = "missed" if r["agg_zmissed"] or outcome == "missed" else "rejected" if outcome == "rejected" else "incoming"
            else:
                direction = "outgoing"  # unanswered outgoing calls stay outgoing; the outcome says so
            video = r["agg_zvideo"] if r["agg_zvideo"] is not None else r["zvideo"]
            duration = float(r["zduration"]) if r["zduration"] is not None else None
            number = people[0][0] if people else r["zgroupjidstring"]
            extra = {
                k: v
                for k, v in (
                    ("call_id", r["zcallidstring"]),
                    ("outcome", outcome or r["zoutcome"]),
                    ("video", bool(video) if video is not None else None),
                    ("group_jid", r["zgroupjidstring"]),
                    ("group_creator", r["zgroupcallcreatoruserjidstring"]),
                    ("participants", [p[0] for p in people] if len(people) > 1 else None),
                    ("duration_exact_s", duration if duration is not None and duration != int(duration) else None),
                )
                if v is not None
            }
            yield from self._call(
                src,
                f"sqlite:ZWACDCALLEVENT/rowid={r['rowid']}",
                ts=apple(r["zdate"]),
                number=number,
                direction=direction,
                duration_s=round(duration) if duration is not None else None,
                extra=extra,
                counterparts=[*(jid for jid, _ in people), r["zgroupjidstring"]],
            )

        yield from self.each(src, db.rows(sql), read, lambda r: f"sqlite:ZWACDCALLEVENT/rowid={r['rowid']}")


@register
class WhatsAppContactsV2(WhatsAppDb):
    name = "whatsapp-ios-contacts"
    version = "1.0"
    reads = "iOS WhatsApp `ContactsV2.sqlite` (`ZWAADDRESSBOOKCONTACT`: names, numbers, JIDs, LIDs)"
    locators = "`sqlite:ZWAADDRESSBOOKCONTACT/rowid=1`"
    description = "WhatsApp iOS ContactsV2.sqlite (ZWAADDRESSBOOKCONTACT: names, numbers, JIDs, LIDs)"

    COLUMNS = (
        "ZFULLNAME",
        "ZGIVENNAME",
        "ZLASTNAME",
        "ZBUSINESSNAME",
        "ZPHONENUMBER",
        "ZPHONENUMBERLABEL",
        "ZWHATSAPPID",
        "ZLID",
        "ZABOUTTEXT",
        "ZUSERNAME",
        "ZIDENTIFIER",
    )

    def sniff(self, probe: Probe) -> float:
        return 0.95 if "zwaaddressbookcontact" in probe.sqlite_tables else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with Db(src.path) as db:
            cols = ", ".join(db.col("ZWAADDRESSBOOKCONTACT", c, c.lower()) for c in self.COLUMNS)
            rows = db.rows(f"SELECT Z_PK AS rowid, {cols} FROM ZWAADDRESSBOOKCONTACT ORDER BY Z_PK")
            yield from self.table(
                src,
                "ZWAADDRESSBOOKCONTACT",
                self.each(src, rows, lambda r: self._contact(src, r), lambda r: f"sqlite:ZWAADDRESSBOOKCONTACT/rowid={r['rowid']}"),
            )

    def _contact(self, src: Source, r) -> Iterator[Record]:
        jid, lid = _jid(r["zwhatsappid"]), r["zlid"] or None
        if lid and "@" not in lid:
            lid = f"{lid}@lid"
        name = r["zfullname"] or " ".join(x for x in (r["zgivenname"], r["zlastname"]) if x) or r["zbusinessname"] or None
        c = Contact(
            prov=self.prov(src, f"sqlite:ZWAADDRESSBOOKCONTACT/rowid={r['rowid']}"),
            source="whatsapp",
            name=name,
            phones=[r["zphonenumber"]] if r["zphonenumber"] else [],
            usernames=[x for x in (jid, lid, r["zusername"]) if x],
            organisation=r["zbusinessname"] or None,
            note=r["zabouttext"] or None,
            extra={
                **{k: r[k] for k in ("zphonenumberlabel", "zidentifier", "zgivenname", "zlastname") if r[k]},
                **({"zwhatsappid": r["zwhatsappid"]} if jid != r["zwhatsappid"] else {}),
            },
        )  # as written
        yield c
        for value in (jid, lid):
            yield from self._ids(c, value, "contact")
        yield from self.party(c, r["zphonenumber"], "contact", "whatsapp")
        if r["zusername"] and not jid_kind(r["zusername"]):
            yield from self.party(c, r["zusername"], "contact", "whatsapp", kind="username")
