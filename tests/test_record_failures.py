"""One bad record never ends a file: it becomes a parse issue at its locator and parsing goes on,
whatever the exception. Deep nesting is bounded and the records after it are read.

Shapes:
- fixtures/robust/sms-bad-records.xml and calls-bad-records.xml: SMS Backup & Restore's attribute
  set (protocol, address, date in ms, type, subject="null", toa, sc_toa, service_center, read,
  status, locked, date_sent, readable_date, contact_name="(Unknown)"), as in the samples of
  novoid/Memacs bin/memacs_sms.py and bin/memacs_phonecalls.py, with <mms><parts><part/></parts>
  <addrs><addr type="137"/></addrs></mms> as FORMATS.md describes.
- fixtures/robust/vcard-groups.vcf: the grouped card `home.begin:vcard` … `home.tel;type=…` of the
  py-vobject/vobject test suite (vcardWithGroups), an Apple-style `item1.` grouped 2.1 card with
  quoted-printable Sinhala, and a Tamil 3.0 card.
- Android calllog.db rows after tests/fixtures/sqlite/calllog.sql; UFDR report.xml after
  tests/fixtures/ufdr/report.xml (Cellebrite Physical Analyzer reports).
"""

import io
import sqlite3
import zipfile
from pathlib import Path

from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call, Contact
from casegraph.parsers.android_db import AndroidCallLog
from casegraph.parsers.sms_backup_xml import SMSBackupXML
from casegraph.parsers.ufdr import UFDR
from casegraph.parsers.vcard import VCard

FIX = Path(__file__).parent / "fixtures"
ROBUST = FIX / "robust"


def test_sms_with_an_overflowing_date_is_kept_without_it_and_the_file_goes_on():
    recs = run_parser(SMSBackupXML(), ROBUST / "sms-bad-records.xml")
    msgs = messages(recs)
    assert [m.text for m in msgs] == [
        "heta passport eka genna",
        "salli Commercial Bank 8001234501 ekata",
        "நாளை வருகிறேன்",
        "ticket eka",
        "ok",
    ]
    assert [m.ts is None for m in msgs] == [False, True, False, True, False]
    warned = {(i.prov.locator, i.message.split(" is out of range")[0]) for i in issues(recs, "warning")}
    assert ("xml:/smses/sms[2]", "date '99999999999999999999'") in warned
    assert ("xml:/smses/sms[3]", "date '123456789012345678901234567890'") in warned  # date_sent
    assert any(loc == "xml:/smses/mms[1]" for loc, _ in warned)
    assert not issues(recs, "error")


def test_calls_with_an_overflowing_date_are_kept():
    recs = run_parser(SMSBackupXML(), ROBUST / "calls-bad-records.xml")
    calls = of(recs, Call)
    assert [c.number for c in calls] == ["+43691234123", "06612341234", "+436612341234", None]
    assert calls[1].ts is None and issues(recs, "warning")[0].prov.locator == "xml:/calls/call[2]"
    # "-1" (as in Memacs' sample) is Android's "number unknown", not a phone number
    assert calls[3].extra["number_withheld"] == "unknown"
    assert "-1" not in {i.value for i in identifiers(recs)}


def _deep_xml(tmp_path: Path, root: str, record: str, depth: int) -> Path:
    body = (
        f'<{record} address="+94771234567" number="+94771234567" date="1710407000000" type="1" body="before" duration="3"/>'
        + "<x>" * depth
        + "</x>" * depth
        + f'<{record} address="+94771234567" number="+94771234567" date="1710407001000" type="1" body="after" duration="4"/>'
    )
    path = tmp_path / f"{root}.xml"
    path.write_text(f"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<{root} count=\"2\">{body}</{root}>")
    return path


def test_deep_nesting_does_not_stop_sms_or_call_parsing(tmp_path):
    for root, record, cls in (("smses", "sms", None), ("calls", "call", Call)):
        recs = run_parser(SMSBackupXML(), _deep_xml(tmp_path, root, record, 100_000))
        got = of(recs, cls) if cls else messages(recs)
        assert len(got) == 2, root  # the record after the nesting is read (it used to end in RecursionError)
        assert any("deeper than" in i.message for i in issues(recs, "warning"))


def test_any_exception_in_one_record_is_that_record_s_issue(monkeypatch):
    real = SMSBackupXML._sms

    def flaky(self, src, loc, el):
        if el.get("body") == "நாளை வருகிறேன்":
            raise RecursionError("simulated")  # not a ValueError: the old handler let it end the file
        yield from real(self, src, loc, el)

    monkeypatch.setattr(SMSBackupXML, "_sms", flaky)
    recs = run_parser(SMSBackupXML(), ROBUST / "sms-bad-records.xml")
    assert len(messages(recs)) == 4
    (err,) = issues(recs, "error")
    assert err.prov.locator == "xml:/smses/sms[3]" and "RecursionError" in err.message and "+959254318876" in err.raw


def test_sqlite_rows_with_bad_text_or_dates_are_issues_and_the_table_goes_on(tmp_path):
    path = tmp_path / "calllog.db"
    con = sqlite3.connect(path)
    con.executescript((FIX / "sqlite/calllog.sql").read_text())
    con.execute("INSERT INTO calls VALUES (4, '+94770000004', 1, 9223372036854775807, 5, 1, 'far future', '', 'LK', '1')")
    con.execute("INSERT INTO calls VALUES (5, '+94770000005', 1, 1713500200000, 6, 1, CAST(X'4e696d616cff' AS TEXT), '', 'LK', '1')")
    con.execute("INSERT INTO calls VALUES (6, '+94770000006', 1, 1713500300000, 7, 2, 'last', '', 'LK', '1')")
    con.commit()
    con.close()
    recs = run_parser(AndroidCallLog(), path)
    numbers = [c.number for c in of(recs, Call)]
    assert numbers == ["+94771234567", "+959254318876", "0715550199", "+94770000005", "+94770000006"]
    (err,) = issues(recs, "error")
    assert err.prov.locator == "sqlite:calls/rowid=4"
    (warn,) = issues(recs, "warning")  # invalid UTF-8 used to end the whole table
    assert warn.prov.locator == "sqlite:calls/rowid=5" and "name" in warn.message
    assert of(recs, Call)[3].name == "Nimal\ufffd"


def test_vcards_with_property_groups_on_begin_and_end():
    path = ROBUST / "vcard-groups.vcf"
    assert sniff(VCard(), path) >= 0.9
    recs = run_parser(VCard(), path)
    contacts = of(recs, Contact)
    assert [c.name for c in contacts] == ["Meister Berger", "කසුන් පෙරේරා", "முருகன் சிவகுமார்"]
    assert contacts[0].phones == ["+49 3581 123456"] and contacts[0].emails == ["mb@goerlitz.de"]
    assert contacts[1].phones == ["+94 77 123 4567"] and contacts[1].prov.locator == "line:17-23"
    assert not issues(recs)


def test_a_card_that_fails_is_an_issue_and_the_next_cards_are_read(monkeypatch):
    real = VCard._contact

    def flaky(self, src, card, last):
        if card.first == 1:
            raise MemoryError("simulated")
        yield from real(self, src, card, last)

    monkeypatch.setattr(VCard, "_contact", flaky)
    recs = run_parser(VCard(), ROBUST / "vcard-groups.vcf")
    assert len(of(recs, Contact)) == 2
    assert issues(recs, "error")[0].prov.locator == "line:1-16"


def _ufdr(tmp_path: Path, reports: list[bytes]) -> Path:
    path = tmp_path / "P2.ufdr"
    with zipfile.ZipFile(path, "w") as z:
        for r in reports:
            z.writestr("report.xml", r)
    return path


def test_ufdr_reads_every_copy_of_report_xml(tmp_path):
    report = (FIX / "ufdr/report.xml").read_bytes()
    single = run_parser(UFDR(), _ufdr(tmp_path, [report]))
    both = run_parser(UFDR(), _ufdr(tmp_path, [report, report.replace(b"Passport eka", b"Visa eka")]))
    assert len(messages(both)) == 2 * len(messages(single))
    prefixes = {m.prov.locator.split("#")[0] for m in messages(both)}
    assert prefixes == {"zip:report.xml", "zip:@2/report.xml"}
    assert any("share the name 'report.xml'" in i.message for i in issues(both, "warning"))


def test_ufdr_deep_nesting_is_bounded_and_later_models_are_read(tmp_path):
    report = (FIX / "ufdr/report.xml").read_text(encoding="utf-8")
    deep = '<modelType type="Junk">' + '<model type="Junk">' * 50_000 + "</model>" * 50_000 + "</modelType>"
    path = _ufdr(tmp_path, [report.replace("<decodedData>", "<decodedData>" + deep, 1).encode()])
    recs = run_parser(UFDR(), path)
    assert len(messages(recs)) == len(messages(run_parser(UFDR(), _ufdr(tmp_path / "..", [report.encode()]))))
    assert any("deeper than" in i.message for i in issues(recs, "warning"))


def test_raw_of_an_unprintable_item_never_loses_the_issue():
    from casegraph.parsers.base import _raw

    class Weird:
        def keys(self):
            raise RuntimeError("no")

    assert "unprintable" in _raw(Weird())
    assert _raw(io) and _raw({"a": 1}) == "{'a': 1}"


def test_a_bad_telegram_contact_is_an_issue_and_the_chats_are_read(tmp_path):
    from casegraph.parsers.telegram_json import TelegramJSON

    good = run_parser(TelegramJSON(), FIX / "telegram/result.json")
    text = (FIX / "telegram/result.json").read_text(encoding="utf-8")
    text = text.replace('"list": [\n   {"user_id": 6011111111', '"list": [\n   {"username": 5, "user_id": 6011111111', 1)
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    recs = run_parser(TelegramJSON(), path)
    assert len(messages(recs)) == len(messages(good))  # the contact used to end the whole file
    (err,) = issues(recs, "error")
    assert err.prov.locator == "json:/contacts/list/0" and "AttributeError" in err.message


def test_surrogate_rejoining_never_ends_the_stream_early():
    from casegraph.parsers.sms_backup_xml import SurrogateFix

    doc = b'<smses count="1"><sms body="&#55357;&#56832;"/></smses>'
    second = doc.index(b"&#56832;")

    class Tiny:  # a read ending inside the pair, and a last read that starts with '&'
        def __init__(self):
            self.parts = [doc[:second], doc[second:]]

        def read(self, n=-1):
            return self.parts.pop(0) if self.parts else b""

    f, out = SurrogateFix(Tiny()), b""
    while chunk := f.read(16):
        out += chunk
    assert out == doc.replace(b"&#55357;&#56832;", b"&#128512;")
