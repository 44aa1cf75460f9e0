from datetime import UTC, datetime

from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call
from casegraph.parsers.sms_backup_xml import SMSBackupXML

P = SMSBackupXML()


def test_sms_and_mms(fixtures):
    path = fixtures / "sms/sms-20240420.xml"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    sms_in, sms_out, mms, unknown = messages(recs)
    assert sms_in.direction == "incoming" and sms_in.sender_id == "+94771234567" and sms_in.sender_name == "Nuwan Agent"
    assert sms_in.ts == datetime(2024, 3, 14, 9, 12, tzinfo=UTC) and sms_in.prov.locator == "xml:/smses/sms[1]"
    assert sms_out.direction == "outgoing" and sms_out.recipient_id == "+94771234567"
    assert sms_out.text == "hari sir 🙏 salli dannam"  # surrogate-pair references rejoined
    assert mms.prov.locator == "xml:/smses/mms[1]" and mms.text == "slip eka" and mms.media == "slip.jpg"
    assert mms.sender_id == "+94771234567" and mms.recipient_id == "+94762223344" and mms.media_sha256
    assert unknown.chat_name is None and unknown.prov.locator == "xml:/smses/sms[3]"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert ("bank-account", "0081234567", "mentioned") in ids and ("phone", "+94762223344", "recipient") in ids
    assert not issues(recs)


def test_calls(fixtures):
    calls = of(run_parser(P, fixtures / "sms/calls-20240420.xml"), Call)
    assert [(c.direction, c.duration_s) for c in calls] == [("incoming", 185), ("missed", 0), ("incoming", 12)]
    assert calls[0].name == "Nuwan Agent" and calls[1].number == "+959254318876"
    assert calls[2].number is None and calls[2].extra == {"presentation": "2"}  # withheld number


def test_entity_attack_is_refused(fixtures):
    recs = run_parser(P, fixtures / "sms/xxe.xml")
    assert not messages(recs)
    (err,) = issues(recs, "error")
    assert "refused" in err.message and "xxe.xml" in err.message


def test_truncated_file_keeps_earlier_records(fixtures):
    recs = run_parser(P, fixtures / "sms/truncated.xml")
    assert [m.prov.locator for m in messages(recs)] == ["xml:/smses/sms[1]", "xml:/smses/sms[2]"]
    (err,) = issues(recs, "error")
    assert "not well-formed at line" in err.message and err.prov.locator.startswith("xml:line:")
