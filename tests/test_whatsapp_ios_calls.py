"""WhatsApp iOS CallHistory.sqlite and ContactsV2.sqlite (fixtures' header comments cite the shapes)."""

import sqlite3
from datetime import UTC, datetime

from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call, Contact
from casegraph.parsers import load_all
from casegraph.parsers.whatsapp_ios_calls import WhatsAppCallHistory, WhatsAppContactsV2

UTC = UTC


def _claimed(path):
    return [p.name for p in load_all() if sniff(p, path) >= 0.5]


def test_callhistory(db):
    path = db("wa_ios_callhistory.sql", "CallHistory.sqlite")
    assert _claimed(path) == ["whatsapp-ios-callhistory"]
    recs = run_parser(WhatsAppCallHistory(), path)
    calls = of(recs, Call)
    assert [(c.direction, c.duration_s, c.number) for c in calls] == [
        ("incoming", 185, "94771234567@s.whatsapp.net"),
        ("missed", 0, "94771234567@s.whatsapp.net"),
        ("outgoing", 0, "971501234567@s.whatsapp.net"),
        ("incoming", 60, "94715550199@s.whatsapp.net"),
        ("unknown", 12, "185000000000001@lid"),
    ]
    first, missed, rejected, group, no_agg = calls  # noqa: RUF059
    assert first.ts == datetime(2024, 3, 15, 9, 12, tzinfo=UTC) and first.extra["duration_exact_s"] == 185.4
    assert first.extra["call_id"] == "CALL-A1" and first.extra["outcome"] == "ended" and first.extra["video"] is False
    assert missed.extra["video"] is True and rejected.extra["outcome"] == "rejected"
    assert group.extra["participants"] == ["94715550199@s.whatsapp.net", "94762223344@s.whatsapp.net"]
    assert group.extra["group_jid"] == "120363000000000001@g.us"
    assert first.prov.locator == "sqlite:ZWACDCALLEVENT/rowid=1"
    ids = {(i.kind, i.value) for i in identifiers(recs)}
    assert ("whatsapp-lid", "185000000000001@lid") in ids and ("whatsapp-group", "120363000000000001@g.us") in ids
    assert not issues(recs) and not messages(recs)


def test_contactsv2(db):
    path = db("wa_ios_contactsv2.sql", "ContactsV2.sqlite")
    assert _claimed(path) == ["whatsapp-ios-contacts"]
    recs = run_parser(WhatsAppContactsV2(), path)
    nuwan, rizwan, company = of(recs, Contact)
    assert nuwan.name == "Nuwan Agent" and nuwan.phones == ["+94 77 123 4567"] and nuwan.note == "Foreign jobs 🇦🇪"
    assert nuwan.usernames == ["94771234567@s.whatsapp.net", "185000000000001@lid"]
    assert rizwan.name == "ரிஸ்வான்" and rizwan.usernames == ["94715550199@s.whatsapp.net"]  # bare number → JID
    assert rizwan.extra["zwhatsappid"] == "94715550199" and "zwhatsappid" not in nuwan.extra
    assert company.name == "Dubai Manpower LLC" and company.organisation == "Dubai Manpower LLC"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert ("whatsapp-lid", "185000000000001@lid", "contact") in ids and ("phone", "071 555 0199", "contact") in ids
    assert ("phone", "94771234567@s.whatsapp.net", "contact") in ids
    assert not issues(recs)


def test_missing_columns_are_tolerated(tmp_path):
    path = tmp_path / "CallHistory.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP)")
    con.execute("INSERT INTO ZWACDCALLEVENT VALUES (1, 732186720)")
    con.commit()
    con.close()
    (call,) = of(run_parser(WhatsAppCallHistory(), path), Call)
    assert call.direction == "unknown" and call.number is None and call.ts == datetime(2024, 3, 15, 9, 12, tzinfo=UTC)
