"""SQLite phone databases, built from the readable SQL fixtures in tests/fixtures/sqlite."""

import sqlite3
from datetime import UTC, datetime

import pytest
from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call, Contact
from casegraph.parsers.android_db import AndroidCallLog, AndroidContacts, AndroidMmsSms
from casegraph.parsers.ios_sms_db import IOSSmsDb, attributed_text
from casegraph.parsers.whatsapp_android_db import WhatsAppContactsDb, WhatsAppMsgstore
from casegraph.parsers.whatsapp_ios_db import WhatsAppChatStorage

UTC = UTC
ALL = [WhatsAppMsgstore(), WhatsAppContactsDb(), WhatsAppChatStorage(), AndroidMmsSms(), AndroidCallLog(), AndroidContacts(), IOSSmsDb()]


def _only(path, expected):
    """Exactly one parser claims each database."""
    claimed = [p.name for p in ALL if sniff(p, path) >= 0.5]
    assert claimed == [expected], claimed


def test_msgstore_new_schema(db):
    path = db("msgstore_new.sql", "msgstore.db")
    _only(path, "whatsapp-msgstore")
    recs = run_parser(WhatsAppMsgstore(), path)
    m = messages(recs)
    assert [x.prov.locator for x in m][:2] == ["sqlite:message/rowid=1", "sqlite:message/rowid=2"]
    assert m[0].sender_id == "94771234567@s.whatsapp.net" and m[0].direction == "incoming"
    assert m[0].ts == datetime(2024, 3, 14, 9, 12, tzinfo=UTC)
    assert m[1].direction == "outgoing" and m[1].recipient_id == "94771234567@s.whatsapp.net" and m[1].reply_to == "3EB0A1"
    assert m[2].kind == "media" and m[2].media.endswith("IMG-20240314-WA0001.jpg") and m[2].text == "slip"
    assert m[3].chat_name == "Recruits Batch 7" and m[3].sender_id == "94715550199@s.whatsapp.net"
    assert m[4].sender_id == "94762223344@s.whatsapp.net" and m[4].extra["sender_lid"] == "185000000000001@lid"
    assert m[5].kind == "deleted" and m[5].sender_id == "185000000000099@lid"  # unmapped LID kept as its own kind
    assert m[6].kind == "system"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert ("whatsapp-lid", "185000000000099@lid", "sender") in ids and ("bank-account", "0081234567", "mentioned") in ids
    calls = of(recs, Call)
    assert [(c.direction, c.duration_s, c.number) for c in calls] == [
        ("incoming", 185, "94771234567@s.whatsapp.net"),
        ("outgoing", 0, "94715550199@s.whatsapp.net"),
    ]
    assert calls[1].extra["video_call"] == 1
    assert not issues(recs)


def test_msgstore_legacy_schema(db):
    path = db("msgstore_legacy.sql", "msgstore.db")
    _only(path, "whatsapp-msgstore")
    m = messages(run_parser(WhatsAppMsgstore(), path))
    assert [x.prov.locator for x in m] == [f"sqlite:messages/rowid={i}" for i in (2, 3, 4, 5)]  # status row skipped
    assert m[0].text == "Dubai job, fee 300,000" and m[0].ts == datetime.fromtimestamp(1600000100, UTC)
    assert m[2].chat_name == "Jobs Dubai" and m[2].sender_id == "94715550199@s.whatsapp.net"
    assert m[2].kind == "media" and m[2].media == "IMG-1.jpg" and m[2].text == "visa copy"
    assert m[3].kind == "system"


def test_wa_db_contacts(db):
    path = db("wa.sql", "wa.db")
    _only(path, "whatsapp-wa-db")
    recs = run_parser(WhatsAppContactsDb(), path)
    nuwan, rizwan = of(recs, Contact)
    assert nuwan.name == "Nuwan Agent" and nuwan.usernames == ["94771234567@s.whatsapp.net"] and nuwan.note.startswith("Foreign")
    assert rizwan.name == "Rizwan"  # falls back to the WhatsApp profile name
    assert ("phone", "94771234567@s.whatsapp.net") in {(i.kind, i.value) for i in identifiers(recs)}


def test_ios_chatstorage(db):
    path = db("chatstorage.sql", "ChatStorage.sqlite")
    _only(path, "whatsapp-ios-chatstorage")
    m = messages(run_parser(WhatsAppChatStorage(), path))
    assert m[0].ts == datetime(2024, 3, 14, 9, 12, tzinfo=UTC) and m[0].sender_id == "94771234567@s.whatsapp.net"
    assert m[1].direction == "outgoing" and m[1].media.endswith("slip.jpg") and m[1].text == "deposit slip"
    assert m[1].ts == datetime(2024, 3, 14, 9, 13, 0, 500000, tzinfo=UTC)
    assert m[2].sender_id == "94715550199@s.whatsapp.net" and m[2].sender_name == "Rizwan" and m[2].chat_name == "Recruits Batch 7"
    assert m[3].kind == "system"


def test_android_mmssms(db):
    path = db("mmssms.sql", "mmssms.db")
    _only(path, "android-mmssms")
    recs = run_parser(AndroidMmsSms(), path)
    sms_in, sms_out, mms = messages(recs)
    assert sms_in.ts == datetime(2024, 3, 14, 9, 12, tzinfo=UTC) and sms_in.sender_id == "+94771234567"
    assert sms_out.direction == "outgoing" and sms_out.recipient_id == "+94771234567"
    assert mms.ts == datetime.fromtimestamp(1710410000, UTC)  # MMS dates are seconds
    assert mms.text == "deposit done" and mms.media == "slip.jpg" and mms.prov.locator == "sqlite:pdu/rowid=1"
    assert ("bank-account", "123456789012") in {(i.kind, i.value) for i in identifiers(recs)}


def test_android_calllog(db):
    path = db("calllog.sql", "calllog.db")
    _only(path, "android-calllog")
    calls = of(run_parser(AndroidCallLog(), path), Call)
    assert [(c.direction, c.duration_s, c.name) for c in calls] == [
        ("incoming", 185, "Nuwan Agent"),
        ("missed", 0, None),
        ("outgoing", 42, "Rizwan Bro"),
    ]
    assert calls[1].extra["geocoded_location"] == "Myanmar"


def test_android_contacts2(db):
    path = db("contacts2.sql", "contacts2.db")
    _only(path, "android-contacts2")
    nuwan, rizwan, old = of(run_parser(AndroidContacts(), path), Contact)
    assert nuwan.name == "Nuwan Agent" and nuwan.phones == ["077 123 4567"] and nuwan.emails == ["nuwan.jobs@example.lk"]
    assert nuwan.organisation == "NJ Foreign Employment" and nuwan.note == "agent for Thailand jobs"
    assert rizwan.usernames == ["94715550199@s.whatsapp.net"]
    assert old.extra["deleted"] is True  # deleted contacts are evidence too


def test_ios_sms_db_with_attributed_body(db):
    path = db("ios_sms.sql", "sms.db")
    typedstream = (
        b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85"
        b"\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+" + bytes([24]) + b"passport eka ganna ona!" + b"!\x86"
    )
    con = sqlite3.connect(path)
    con.execute("UPDATE message SET attributedBody = ? WHERE ROWID = 3", (typedstream,))
    con.commit()
    con.close()
    _only(path, "ios-sms-db")
    recs = run_parser(IOSSmsDb(), path)
    a, b, c = messages(recs)
    assert a.ts == datetime(2024, 3, 14, 9, 12, tzinfo=UTC) and a.sender_id == "+94771234567" and a.platform == "sms"
    assert b.direction == "outgoing" and b.ts == datetime(2013, 9, 4, 15, 6, 40, tzinfo=UTC)  # seconds, older iOS
    assert c.platform == "imessage" and c.text == "passport eka ganna ona!!" and c.extra["text_from"] == "attributedBody"
    assert c.media.endswith("IMG_0001.HEIC")
    assert ("email", "chen.recruit@icloud.com", "sender") in {(i.kind, i.value, i.role) for i in identifiers(recs)}


def test_attributed_text_long_length_prefix():
    body = "x" * 300
    blob = b"NSString\x01\x94\x84\x01+\x81" + len(body).to_bytes(2, "little") + body.encode()
    assert attributed_text(blob) == body
    assert attributed_text(b"no string here") is None


def test_corrupt_database_is_a_clear_error(tmp_path):
    path = tmp_path / "msgstore.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    from casegraph.parsers.base import ParseError

    with pytest.raises(ParseError, match="msgstore.db: not a readable SQLite database"):  # noqa: RUF043
        run_parser(WhatsAppMsgstore(), path)


def test_a_bad_row_is_an_issue_and_the_rest_is_read(db):
    path = db("calllog.sql", "calllog.db")
    con = sqlite3.connect(path)
    con.execute("UPDATE calls SET date = 'yesterday' WHERE _id = 2")
    con.commit()
    con.close()
    recs = run_parser(AndroidCallLog(), path)
    assert [c.prov.locator for c in of(recs, Call)] == ["sqlite:calls/rowid=1", "sqlite:calls/rowid=3"]
    (bad,) = issues(recs, "error")
    assert bad.prov.locator == "sqlite:calls/rowid=2" and "record unreadable" in bad.message and "yesterday" in bad.raw
