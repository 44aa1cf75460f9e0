"""Ciphertext bodies in SMS are flagged (kind=encrypted, body in extra, a warning), never shown as text.

Shapes: SMS Backup & Restore XML as in tests/fixtures/sms (the app's own header comment and attributes);
mmssms.db and iOS sms.db as in tests/fixtures/sqlite (mmssms.sql, ios_sms.sql). The blobs are what apps that
encrypt SMS end to end leave in the provider's body column: one base64 string with no spaces, or PGP armour.
"""

import base64
import hashlib
import sqlite3

from parse_helpers import identifiers, issues, messages, run_parser

from casegraph.parsers.android_db import AndroidMmsSms
from casegraph.parsers.ciphertext import looks_encrypted
from casegraph.parsers.ios_sms_db import IOSSmsDb
from casegraph.parsers.sms_backup_xml import SMSBackupXML

BLOB = base64.b64encode(b"".join(hashlib.sha256(bytes([i])).digest() for i in range(3))).decode()


def test_what_counts_as_ciphertext():
    assert looks_encrypted(BLOB).startswith("a 128-character base64 blob")
    assert looks_encrypted(hashlib.sha512(b"x").hexdigest() + hashlib.sha512(b"y").hexdigest()).startswith("a 256-character hexadecimal")
    assert looks_encrypted("-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----") == "PGP armoured message"
    assert looks_encrypted("?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA") == "OTR encrypted message"
    for text in (
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "0x" + hashlib.sha256(b"tx").hexdigest(),
        hashlib.sha256(b"key").hexdigest(),
        "Your verification code is 493021",
        base64.b64encode(b"Passport eka gennanna, salary AED 1500").decode(),
        "ok",
        "https://example.com/" + "a1B2" * 20,
        "ඔයාගේ පාස්පෝට් එක ගෙනෙන්න",
        None,
        "",
    ):
        assert looks_encrypted(text) is None, text


def test_sms_backup_xml(fixtures):
    recs = run_parser(SMSBackupXML(), fixtures / "sms/encrypted.xml")
    m = messages(recs)
    assert [x.kind for x in m] == ["encrypted", "encrypted", "text", "text", "text"]
    assert m[0].text is None and m[0].extra["ciphertext"] == BLOB and "base64" in m[0].extra["ciphertext_reason"]
    assert m[0].sender_id == "+94771234567"  # still the sender's message, only not readable
    assert m[1].extra["ciphertext_reason"] == "PGP armoured message"
    warn = issues(recs, "warning")
    assert [w.prov.locator for w in warn] == [m[0].prov.locator, m[1].prov.locator]
    assert ("eth", "0x52908400098527886E0F7030069857D2E4169EE7") in {(i.kind, i.value) for i in identifiers(recs)}


def _db(tmp_path, fixtures, name, file_name, extra_sql):
    path = tmp_path / file_name
    con = sqlite3.connect(path)
    con.executescript((fixtures / "sqlite" / name).read_text())
    con.execute(*extra_sql)
    con.commit()
    con.close()
    return path


def test_mmssms(tmp_path, fixtures):
    path = _db(
        tmp_path,
        fixtures,
        "mmssms.sql",
        "mmssms.db",
        ("INSERT INTO sms VALUES (9, 1, '+94771234567', NULL, 1710407800000, 0, 0, 1, -1, 1, 0, NULL, ?, NULL, 0, 1)", (BLOB,)),
    )
    recs = run_parser(AndroidMmsSms(), path)
    enc = [x for x in messages(recs) if x.kind == "encrypted"]
    assert len(enc) == 1 and enc[0].prov.locator == "sqlite:sms/rowid=9" and enc[0].extra["ciphertext"] == BLOB
    assert [w.prov.locator for w in issues(recs, "warning")] == ["sqlite:sms/rowid=9"]
    assert all(x.text for x in messages(recs) if x.kind == "text")


def test_ios_sms(tmp_path, fixtures):
    path = _db(
        tmp_path,
        fixtures,
        "ios_sms.sql",
        "sms.db",
        ("INSERT INTO message VALUES (9, 'G9', ?, NULL, 1, 'SMS', 732100320000000000, 0, 0)", (BLOB,)),
    )
    recs = run_parser(IOSSmsDb(), path)
    enc = [x for x in messages(recs) if x.kind == "encrypted"]
    assert len(enc) == 1 and enc[0].prov.locator == "sqlite:message/rowid=9" and enc[0].text is None
