"""Signal Desktop's encrypted database, and the text/JSON output of Signal export tools.

Shapes:
- Signal Desktop db.sqlite: carderne/signal-export sigexport/data.py (conversations: type, id, serviceId, e164,
  name, profileName, members, json; messages: conversationId, type, json, id, body, sourceServiceId, timestamp,
  sent_at, serverTimestamp, hasAttachments, readStatus, seenStatus, expireTimer; callsHistory: callId, direction,
  status, type, timestamp, endedTimestamp) and sigexport/files.py (PRAGMA key = "x'HEX'", cipher_page_size 4096,
  kdf_iter 64000, HMAC_SHA512, PBKDF2_HMAC_SHA512; message_attachments from DB version 1360).
"""

import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call, Contact, Location
from casegraph.parsers import load_all
from casegraph.parsers.signal_desktop import SignalDesktop
from casegraph.parsers.signal_export import SignalExport
from casegraph.parsers.whatsapp_export import WhatsAppExport

sqlcipher3 = pytest.importorskip("sqlcipher3")
UTC = UTC
KEY = "7f3c" * 16
ME, RIZ, GROUP = "conv-me", "conv-riz", "conv-grp"
RIZ_SID = "a1b2c3d4-0000-4000-8000-000000000001"
NUWAN_SID = "a1b2c3d4-0000-4000-8000-000000000002"


def build_signal_db(path, key=KEY):
    """A Signal Desktop database in the schema signal-export reads, encrypted the way Signal Desktop does."""
    con = sqlcipher3.connect(str(path))
    con.execute(f"PRAGMA key = \"x'{key}'\"")
    for pragma in (
        "PRAGMA cipher_page_size = 4096",
        "PRAGMA kdf_iter = 64000",
        "PRAGMA cipher_hmac_algorithm = HMAC_SHA512",
        "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512",
    ):
        con.execute(pragma)
    con.executescript("""
        CREATE TABLE items (id STRING PRIMARY KEY ASC, json TEXT);
        CREATE TABLE sessions (id TEXT PRIMARY KEY, ourServiceId TEXT, serviceId TEXT, json TEXT);
        CREATE TABLE conversations (id STRING PRIMARY KEY ASC, json TEXT, active_at INTEGER, type STRING, members TEXT,
          name TEXT, profileName TEXT, profileFamilyName TEXT, profileFullName TEXT, e164 TEXT, serviceId TEXT, groupId TEXT);
        CREATE TABLE messages (rowid INTEGER PRIMARY KEY ASC, id STRING UNIQUE, json TEXT, readStatus INTEGER, expires_at INTEGER,
          sent_at INTEGER, schemaVersion INTEGER, conversationId STRING, received_at INTEGER, source STRING, hasAttachments INTEGER,
          type STRING, body TEXT, sourceServiceId TEXT, expireTimer INTEGER);
        CREATE TABLE callsHistory (callId TEXT PRIMARY KEY, peerId TEXT, ringerId TEXT, mode TEXT, type TEXT, direction TEXT,
          status TEXT, timestamp INTEGER, endedTimestamp INTEGER);
    """)
    convs = [
        (ME, "private", None, "Nuwan", None, "Nuwan J", "+94771234567", NUWAN_SID, None),
        (RIZ, "private", "Rizwan Bhai", "Rizwan", "M", None, "+971501234567", RIZ_SID, None),
        (GROUP, "group", "Dubai ජොබ් 🇦🇪", None, None, None, None, None, "Z3JvdXBpZA=="),
    ]
    for c in convs:
        con.execute(
            "INSERT INTO conversations (id, json, type, name, profileName, profileFamilyName, profileFullName, e164, serviceId, groupId) "
            "VALUES (?, '{}', ?, ?, ?, ?, ?, ?, ?, ?)",
            c,
        )

    def msg(rowid, mid, conv, mtype, sent, body, source=None, **j):
        con.execute(
            "INSERT INTO messages (rowid, id, json, sent_at, conversationId, received_at, type, body, sourceServiceId) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rowid,
                mid,
                json.dumps({"id": mid, "type": mtype, "body": body, "sent_at": sent, **j}),
                sent,
                conv,
                rowid,
                mtype,
                body,
                source,
            ),
        )

    msg(1, "m1", RIZ, "incoming", 1714664403000, "Passport eka gennanna. Salary AED 1500", RIZ_SID)
    msg(2, "m2", RIZ, "outgoing", 1714664460000, "හරි, හෙට එන්නම්")
    msg(
        3,
        "m3",
        RIZ,
        "incoming",
        1714664500000,
        None,
        RIZ_SID,
        attachments=[{"contentType": "image/jpeg", "fileName": "visa.jpg", "path": "ab/abcdef", "size": 1234}],
    )
    msg(4, "m4", RIZ, "incoming", 1714664600000, "https://maps.google.com/maps?q=25.204849%2C55.270783", RIZ_SID)
    msg(5, "m5", GROUP, "incoming", 1714664700000, "இன்று இரவு 9 மணிக்கு", RIZ_SID)
    msg(6, "m6", GROUP, "group-v2-change", 1714664800000, None, RIZ_SID, groupV2Change={"details": [{"type": "title"}]})
    msg(7, "m7", RIZ, "incoming", 1714664900000, None, RIZ_SID, deletedForEveryone=True)
    msg(8, "m8", RIZ, "call-history", 1714665000000, None, None, callId="c1")
    msg(9, "m9", RIZ, "keychange", 1714665100000, None, RIZ_SID)
    con.execute(
        "INSERT INTO callsHistory VALUES ('c1', ?, ?, 'Direct', 'Audio', 'Incoming', 'Accepted', 1714665000000, 1714665185000)",
        (RIZ_SID, RIZ_SID),
    )
    con.execute(
        "INSERT INTO callsHistory VALUES ('c2', ?, ?, 'Direct', 'Video', 'Incoming', 'Missed', 1714666000000, NULL)", (RIZ_SID, RIZ_SID)
    )
    con.commit()
    con.close()
    return path


def signal_folder_zip(tmp_path, config):
    db = build_signal_db(tmp_path / "db.sqlite")
    path = tmp_path / "Signal.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Signal/config.json", json.dumps(config))
        z.write(db, "Signal/sql/db.sqlite")
    return path


def _check(recs):
    msgs = messages(recs)
    assert len(msgs) == 9
    m1, m2, m3, m4, m5, m6, m7, m8, m9 = msgs  # noqa: RUF059
    assert (m1.sender_id, m1.sender_name, m1.direction, m1.kind) == ("+971501234567", "Rizwan Bhai", "incoming", "text")
    assert m1.ts == datetime.fromtimestamp(1714664403, UTC) and m1.chat_name == "Rizwan Bhai" and m1.platform == "signal"
    assert m2.direction == "outgoing" and m2.sender_id is None and m2.recipient_id == "+971501234567" and m2.text == "හරි, හෙට එන්නම්"
    assert m3.kind == "media" and m3.media == "visa.jpg"
    assert m5.chat_name == "Dubai ජොබ් 🇦🇪" and m5.sender_name == "Rizwan Bhai" and m5.chat_id == "signal:Z3JvdXBpZA=="
    assert m6.kind == "system" and m6.sender_id is None and m6.extra["type"] == "group-v2-change"
    assert m7.kind == "deleted" and m7.sender_name == "Rizwan Bhai"
    assert m8.kind == "call" and m9.kind == "system"
    # no record is typed system while a participant wrote it
    assert not [m for m in msgs if m.kind == "system" and m.extra.get("type") in ("incoming", "outgoing")]
    assert all(m.kind != "system" for m in msgs if m.extra.get("type") is None)
    assert m1.prov.locator.endswith("sqlite:messages/rowid=1")
    (loc,) = of(recs, Location)
    assert (str(loc.latitude), str(loc.longitude), loc.who_name) == ("25.204849", "55.270783", "Rizwan Bhai")
    c1, c2 = of(recs, Call)
    assert (c1.direction, c1.duration_s, c1.number, c1.name) == ("incoming", 185, "+971501234567", "Rizwan Bhai")
    assert c2.direction == "missed" and c2.extra["type"] == "Video"
    nuwan, riz = of(recs, Contact)
    assert riz.phones == ["+971501234567"] and riz.usernames == [RIZ_SID] and nuwan.name == "Nuwan J"
    assert ("signal-id", RIZ_SID) in {(i.kind, i.value) for i in identifiers(recs)}


def test_signal_folder_zip_with_config_key(tmp_path):
    path = signal_folder_zip(tmp_path, {"key": KEY})
    assert [p.name for p in load_all() if sniff(p, path) >= 0.5] == ["signal-desktop"]
    recs = run_parser(SignalDesktop(), path)
    assert not issues(recs)
    _check(recs)
    assert messages(recs)[0].prov.locator == "zip:Signal/sql/db.sqlite#sqlite:messages/rowid=1"


def test_single_encrypted_db_with_key_option(tmp_path):
    db = build_signal_db(tmp_path / "db.sqlite")
    before = db.read_bytes()
    assert sniff(SignalDesktop(), db) >= 0.8
    recs = run_parser(SignalDesktop(key=KEY), db)
    _check(recs)
    assert db.read_bytes() == before  # the evidence is never written


def test_without_key_the_issue_says_what_is_needed(tmp_path):
    db = build_signal_db(tmp_path / "db.sqlite")
    (issue,) = run_parser(SignalDesktop(), db)
    assert issue.severity == "error" and "--option key=HEX" in issue.message and "config.json" in issue.message
    (wrong,) = run_parser(SignalDesktop(key="00" * 32), db)
    assert "does not open the database" in wrong.message
    (bad,) = run_parser(SignalDesktop(key="xyz"), db)
    assert "64 hex digits" in bad.message


def test_encrypted_key_needs_the_keychain(tmp_path):
    path = signal_folder_zip(tmp_path, {"encryptedKey": "763130a1b2", "safeStorageBackend": "gnome_libsecret"})
    (issue,) = run_parser(SignalDesktop(), path)
    assert "encryptedKey" in issue.message and "keychain" in issue.message and "--option key=HEX" in issue.message
    assert "gnome_libsecret" in issue.message
    recs = run_parser(SignalDesktop(key=KEY), path)  # with the key decrypted elsewhere it reads
    assert len(messages(recs)) == 9


def test_call_message_takes_its_direction_from_calls_history(tmp_path):
    recs = run_parser(SignalDesktop(key=KEY), build_signal_db(tmp_path / "db.sqlite"))
    call_msg = [m for m in messages(recs) if m.kind == "call"][0]  # noqa: RUF015
    assert call_msg.direction == "incoming" and call_msg.sender_name == "Rizwan Bhai"


# -- export tools ----------------------------------------------------------------------------------
# signal-export (carderne/signal-export): sigexport/models.py Message.to_md ("[%Y-%m-%d %H:%M:%S] sender: quote body",
# body + "  ", reactions "\n(- name: emoji -)", sticker "\n(( emoji ))", attachments "![name](./media/…)  ",
# "(This message was deleted)"), Message.dict_str (one JSON object a line in data.json), main.py (a folder per
# chat: chat.md, data.json, index.html), create.py ("Me", "No-Sender", call texts "Incoming voice call (accepted, …)").
# sigtop (tbvdm/sigtop): fmt_text.go (Conversation/From/Type/Sent/Received/Attachment/Reaction fields, a blank line,
# the body; times "Mon, 2 Jan 2006 15:04:05 -0700"), fmt_text_short.go ("2006-01-02 15:04 Name: [details] body").

SE = SignalExport()


def _winner(path, name=None):
    scores = sorted(((sniff(p, path, name), p.name) for p in load_all()), reverse=True)
    return scores[0][1] if scores[0][0] >= 0.5 else None


@pytest.mark.parametrize("name", ["chat.md", "chat.txt", "Rizwan Bhai.txt"])
def test_sigexport_chat_md_is_never_whatsapp(fixtures, name):
    assert _winner(fixtures / "signal/chat.md", name) == "signal-export"
    assert sniff(WhatsAppExport(), fixtures / "signal/chat.md", name) < sniff(SE, fixtures / "signal/chat.md", name)


def test_sigexport_chat_md(fixtures):
    recs = run_parser(SE, fixtures / "signal/chat.md")
    msgs = messages(recs)
    assert len(msgs) == 9 and not issues(recs)
    m1, m2, quoted, media, link, reacted, deleted, call, nobody = msgs  # noqa: RUF059
    assert (m1.sender_name, m1.direction, m1.text, m1.ts) == (
        "Rizwan Bhai",
        "incoming",
        "Passport eka gennanna. Salary AED 1500",
        datetime(2024, 5, 2, 21, 10, 3),
    )
    assert m1.prov.locator == "line:1" and m1.platform == "signal"
    assert m2.direction == "outgoing" and m2.sender_name is None and m2.text == "හරි, හෙට එන්නම්"
    assert quoted.text == "Good. Bring 2 photos" and quoted.extra["quote"] == "හරි, හෙට එන්නම්" and quoted.prov.locator == "line:5-9"
    assert media.kind == "media" and media.media == "./media/2024-05-02T21-13-30.000_00_visa.jpg" and media.text == "visa copy"
    assert reacted.text == "ok\nsecond line" and reacted.extra["reactions"] == "Rizwan Bhai: 👍"
    assert deleted.kind == "deleted" and deleted.text is None and deleted.sender_name == "Rizwan Bhai"
    assert call.kind == "call" and call.sender_name == "Rizwan Bhai"
    assert nobody.sender_name is None and nobody.extra["sender_unknown"] is True and nobody.kind == "text"
    assert not [m for m in msgs if m.kind == "system"]  # every line here was written by a participant
    (loc,) = of(recs, Location)
    assert loc.source_kind == "shared-location" and loc.who_name == "Rizwan Bhai" and loc.latitude == Decimal("25.204849")


def test_sigexport_data_json(fixtures):
    assert _winner(fixtures / "signal/data.json") == "signal-export"
    recs = run_parser(SE, fixtures / "signal/data.json")
    msgs = messages(recs)
    assert [m.kind for m in msgs] == ["text", "text", "media", "deleted", "call"]
    assert msgs[0].text == "Passport eka gennanna. Salary AED 1500" and msgs[1].extra["reactions"] == "Rizwan Bhai: 👍"
    assert msgs[2].extra["quote"] == "හරි, හෙට එන්නම්" and msgs[2].media == "media/2024-05-02T21-13-30.000_00_visa.jpg"
    (bad,) = issues(recs)
    assert bad.prov.locator == "line:5" and "unreadable" in bad.message


def test_sigexport_folder_zip_reads_data_json_once_per_chat(fixtures, tmp_path):
    path = tmp_path / "signal-export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(fixtures / "signal/chat.md", "export/Rizwan Bhai/chat.md")
        z.write(fixtures / "signal/data.json", "export/Rizwan Bhai/data.json")
        z.write(fixtures / "signal/chat.md", "export/Dubai ජොබ්/chat.md")
        z.writestr("export/Rizwan Bhai/index.html", "<html></html>")
    assert _winner(path) == "signal-export"
    msgs = messages(run_parser(SE, path))
    assert len(msgs) == 9 + 5
    assert {m.chat_name for m in msgs} == {"Rizwan Bhai", "Dubai ජොබ්"}
    assert msgs[0].prov.locator == "zip:export/Dubai ජොබ්/chat.md#line:1"


def test_sigtop_text(fixtures):
    path = fixtures / "signal/sigtop.txt"
    assert _winner(path) == "signal-export"
    recs = run_parser(SE, path)
    msgs = messages(recs)
    assert [m.kind for m in msgs] == ["text", "text", "media", "system", "text"]
    m1, m2, media, key, link = msgs  # noqa: RUF059
    ist = timezone(timedelta(hours=5, minutes=30))
    assert (m1.sender_name, m1.sender_id, m1.ts) == ("Rizwan Bhai", "+971501234567", datetime(2024, 5, 2, 21, 10, 3, tzinfo=ist))
    assert m1.text == "Passport eka gennanna.\nSalary AED 1500" and m1.chat_name == "Rizwan Bhai" and m1.prov.locator == "line:3-9"
    assert m2.direction == "outgoing" and m2.sender_name is None and m2.recipient_id == "+971501234567"
    assert media.media == "visa.jpg" and media.extra["reactions"] == "👍 from You" and media.text == "visa copy"
    assert key.sender_name is None and key.extra["type"] == "keychange"
    assert of(recs, Location)[0].who == "+971501234567"


def test_sigtop_text_short(fixtures):
    path = fixtures / "signal/sigtop_short.txt"
    assert _winner(path) == "signal-export"
    msgs = messages(run_parser(SE, path))
    assert [m.kind for m in msgs] == ["text", "text", "media", "system", "text"]
    assert msgs[0].text == "Passport eka gennanna.\nSalary AED 1500" and msgs[0].prov.locator == "line:1-2"
    assert msgs[1].direction == "outgoing" and msgs[3].sender_name is None and msgs[4].sender_name == "Rizwan Bhai"


def test_signalbackup_tools_text(fixtures):
    # bepaald/signalbackup-tools signalbackup/exporttxt.cc: "[%b %d, %Y %H:%M:%S] <user> body",
    # "*** <user> sent file \"name\"" / "sent file of type …", "*** status message"; file "<name> (_id<N>).txt"
    path = fixtures / "signal/Rizwan Bhai (_id4).txt"
    assert _winner(path) == "signal-export"
    recs = run_parser(SE, path)
    msgs = messages(recs)
    assert [m.kind for m in msgs] == ["text", "text", "media", "media", "system", "text"]
    assert msgs[0].text == "Passport eka gennanna.\nSalary AED 1500" and msgs[0].ts == datetime(2024, 5, 2, 21, 10, 3)
    assert msgs[0].chat_name == "Rizwan Bhai" and msgs[1].sender_name == "Nuwan J" and msgs[1].direction == "unknown"
    assert msgs[2].media == "visa.jpg" and msgs[3].extra["file"] == "of type image/jpeg" and msgs[3].sender_name == "Rizwan Bhai"
    assert msgs[4].sender_name is None and msgs[4].text.startswith("Safety number")
    assert of(recs, Location)[0].who_name == "Rizwan Bhai" and not issues(recs)


def test_whatsapp_exports_stay_whatsapp(fixtures, tmp_path):
    """No WhatsApp fixture, and no year-first Swedish-style export, is taken for a Signal export."""
    for path in sorted((fixtures / "whatsapp").glob("*.txt")):
        assert sniff(SE, path) == 0.0, path.name
    swedish_android = tmp_path / "WhatsApp-chatt med Kamal.txt"
    swedish_android.write_text("2019-01-30 20:49 - Kamal: hej\n2019-01-30 20:50 - Nimal: hej hej\n", encoding="utf-8")
    swedish_ios = tmp_path / "_chat.txt"
    swedish_ios.write_text("[2019-01-30 20:49:12] Kamal: hej\n[2019-01-30 20:50:01] Nimal: hej hej\n", encoding="utf-8")
    for path in (swedish_android, swedish_ios):
        assert sniff(SE, path) == 0.0 and _winner(path) == "whatsapp-export", path.name


def test_hostile_rows_are_issues_not_the_end(tmp_path):
    db = build_signal_db(tmp_path / "db.sqlite")
    con = sqlcipher3.connect(str(db))
    con.execute(f"PRAGMA key = \"x'{KEY}'\"")
    con.execute(
        "INSERT INTO messages (rowid, id, json, sent_at, conversationId, type, body) VALUES (20, 'bad', ?, 1, ?, 'incoming', 'x')",
        ("[" * 100000 + "]" * 100000, RIZ),
    )
    con.execute(
        "INSERT INTO messages (rowid, id, json, sent_at, conversationId, type, body) VALUES (21, 'ok', '{}', 1714669999000, ?, "
        "'incoming', 'after')",
        (RIZ,),
    )
    con.commit()
    con.close()
    recs = run_parser(SignalDesktop(key=KEY), db)
    (bad,) = issues(recs)
    assert bad.prov.locator == "sqlite:messages/rowid=20" and "nested too deeply" in bad.message
    assert messages(recs)[-1].text == "after"


def test_an_endless_message_is_cut_and_reported(tmp_path):
    from casegraph.parsers.signal_export import MAX_BODY

    path = tmp_path / "chat.md"
    path.write_text(
        "[2024-05-02 21:10:03] Rizwan Bhai: start  \n"
        + ("x" * 1000 + "\n") * (MAX_BODY // 1000 + 10)
        + "\n[2024-05-02 21:11:00] Me: next  \n\n",
        encoding="utf-8",
    )
    recs = run_parser(SE, path)
    first, nxt = messages(recs)
    assert len(first.text) <= MAX_BODY + 10 and nxt.text == "next"
    (warn,) = issues(recs, "warning")
    assert warn.prov.locator == "line:1" and "longer than" in warn.message


def test_older_sigexport_markdown(tmp_path):
    # the form sigexport/merge.py still reads: "[YYYY-MM-DD, HH:MM] sender: body", file index.md
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Kamal/index.md", "[2020-11-03, 09:15] Kamal: Visa ready  \n\n[2020-11-03, 09:16] Me: ok  \n\n")
    assert _winner(path) == "signal-export"
    msgs = messages(run_parser(SE, path))
    assert [(m.ts, m.sender_name, m.direction, m.text) for m in msgs] == [
        (datetime(2020, 11, 3, 9, 15), "Kamal", "incoming", "Visa ready"),
        (datetime(2020, 11, 3, 9, 16), None, "outgoing", "ok"),
    ]


def test_sigexport_zip_photo_gps(tmp_path):
    from test_locations import _gps_jpeg

    photo = _gps_jpeg(tmp_path / "2024-05-02T21-13-30.000_00_visa.jpg")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Rizwan Bhai/chat.md", f"[2024-05-02 21:13:30] Rizwan Bhai: ![{photo.name}](./media/{photo.name})  \n\n")
        z.write(photo, f"Rizwan Bhai/media/{photo.name}")
    recs = run_parser(SE, path)
    (msg,) = messages(recs)
    (loc,) = of(recs, Location)
    assert loc.source_kind == "exif" and loc.record_id == msg.id and loc.prov.locator == f"zip:Rizwan Bhai/media/{photo.name}#exif:gps"


def test_sigtop_json(fixtures):
    # tbvdm/sigtop cmd/sigtop/fmt_json.go: "[", each message's Signal Desktop JSON (the json column), "]"
    path = fixtures / "signal/Rizwan Bhai.json"
    assert _winner(path) == "signal-export"
    recs = run_parser(SE, path)
    msgs = messages(recs)
    assert [m.kind for m in msgs] == ["text", "text", "media", "system", "deleted"]
    assert msgs[0].sender_id == "+971501234567" and msgs[0].ts == datetime.fromtimestamp(1714664403, UTC)
    assert msgs[0].chat_name == "Rizwan Bhai" and msgs[0].prov.locator == "json:/0"
    assert msgs[1].direction == "outgoing" and msgs[1].sender_id is None
    assert msgs[2].sender_id == "a1b2c3d4-0000-4000-8000-000000000001" and msgs[2].media == "visa.jpg"
    assert msgs[2].reply_to == "1714664460000" and msgs[3].sender_id is None and msgs[4].sender_id == "+971501234567"
    assert not issues(recs)
