import zipfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call, Contact, Location
from casegraph.parsers.ufdr import UFDR, _seconds

P = UFDR()
SLT = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def ufdr(fixtures, tmp_path):
    path = tmp_path / "P2 Samsung SM-A105F.ufdr"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("report.xml", (fixtures / "ufdr/report.xml").read_bytes())
        z.writestr("files/Image/IMG-20240417-WA0003.jpg", b"\xff\xd8")
    return path


def test_ufdr_models(ufdr):
    assert sniff(P, ufdr) >= 0.95
    recs = run_parser(P, ufdr)
    m1, m2, sms = messages(recs)
    assert m1.chat_name == "Kasun" and m1.chat_id == "whatsapp:94762223344@s.whatsapp.net" and m1.platform == "whatsapp"
    assert m1.direction == "outgoing" and m1.sender_name == "Nuwan" and m1.recipient_id == "94762223344@s.whatsapp.net"
    assert m1.ts == datetime(2024, 4, 17, 20, 15, tzinfo=SLT)
    assert m1.prov.locator == "zip:report.xml#xml:/project/decodedData/modelType[Chat]/model[1]/multiModelField[Messages]/model[1]"
    assert m1.extra["participants"] == [("94771234567@s.whatsapp.net", "Nuwan"), ("94762223344@s.whatsapp.net", "Kasun")]
    assert m2.extra["deleted_state"] == "Deleted" and m2.kind == "media" and m2.media == "IMG-20240417-WA0003.jpg"
    assert m2.direction == "incoming"
    assert sms.platform == "sms" and sms.sender_id == "Binance" and sms.text.startswith("OTP")
    call = of(recs, Call)[0]
    assert call.direction == "outgoing" and call.duration_s == 185 and call.number == "+959254318876"
    assert call.extra["deleted_state"] == "Deleted"
    chen, account = of(recs, Contact)
    assert chen.phones == ["+95 9 254 318 876"] and chen.emails == ["chen.recruit@example.com"]
    assert account.source == "telegram" and account.usernames == ["nuwan_jobs"] and account.extra["model"] == "UserAccount"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert ("phone", "+94771234567", "holder") in ids and ("bank-account", "8001234501", "mentioned") in ids
    assert not issues(recs, "info")
    # a Location model without a point is a warning, counted; one with Position/Coordinate is a location record
    # (shape: ufed-geo2x tests/test_ufed_geo2x.py, a Physical Analyzer Location model)
    warn = issues(recs, "warning")
    assert len(warn) == 1 and "Location model without valid coordinates" in warn[0].message
    (place,) = of(recs, Location)
    assert place.latitude == Decimal("16.7136117") and place.longitude == Decimal("98.5747") and place.source_kind == "ufdr"
    assert place.ts == datetime(2024, 4, 18, 11, 53, 14, tzinfo=timezone(timedelta(hours=6, minutes=30)))
    assert place.label == "IMG-20240418-WA0007.jpg" and place.accuracy_m == 12.5 and place.platform == "ufdr"
    assert place.extra["category"] == "Media Locations" and place.extra["deleted_state"] == "Deleted"


def test_identifier_kinds():
    from casegraph.parsers.ufdr import _ident_kind

    assert [_ident_kind(v) for v in ("94771234567@s.whatsapp.net", "1203@g.us", "185@lid", "a@b.lk", "+94 77 123 4567", "nuwan_j")] == [
        "phone",
        "whatsapp-group",
        "whatsapp-lid",
        "email",
        "phone",
        "username",
    ]


def test_timespan():
    assert _seconds("00:03:05") == 185 and _seconds("1.02:00:00") == 93600 and _seconds(None) is None


def test_truncated_report(fixtures, tmp_path):
    path = tmp_path / "cut.ufdr"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("report.xml", (fixtures / "ufdr/report.xml").read_bytes()[:4000])
    recs = run_parser(P, path)
    assert len(messages(recs)) == 1
    assert "not well-formed" in issues(recs, "error")[0].message
