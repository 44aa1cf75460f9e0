import zipfile
from datetime import datetime

import pytest
from parse_helpers import identifiers, issues, messages, run_parser, sniff

from casegraph.parsers.whatsapp_export import WhatsAppExport, decide_order

P = WhatsAppExport()


def _ts(msgs):
    return [m.ts for m in msgs]


def test_android_day_first_with_every_line_kind(fixtures):
    recs = run_parser(P, fixtures / "whatsapp/android_dmy_24h.txt")
    msgs = messages(recs)
    assert msgs[0].kind == "system" and msgs[0].extra["event"] == "encryption-notice" and msgs[0].sender_name is None
    assert msgs[1].sender_name == "Nuwan Agent" and msgs[1].ts == datetime(2024, 3, 12, 14, 23)
    assert msgs[1].chat_name == "android_dmy_24h"
    assert msgs[2].sender_id == "+94 76 222 3344" and msgs[2].sender_name is None  # U+202A/U+202C stripped
    multi = msgs[3]
    assert (
        multi.text
        == "LKR 450,000.\nPay to BOC Acc No 0081234567\n12/03/2024, 10:00 - this continuation looks like a date line but has no sender colon"  # noqa: E501
    )
    assert multi.prov.locator == "line:4-6"
    media_omitted, attached, deleted, edited, added, subject = msgs[4:10]
    assert media_omitted.kind == "media" and media_omitted.extra == {"not_in_contacts": True, "media_omitted": True}
    assert media_omitted.sender_name == "Kasun P"
    assert attached.kind == "media" and attached.media == "IMG-20240313-WA0001.jpg" and attached.text == "slip eka"
    assert attached.extra["media_missing"] is True  # a bare .txt has no media files to link
    assert deleted.kind == "deleted"
    assert edited.edited and edited.text == "passport copy ewanna"
    assert added.kind == "system" and added.extra["event"] == "member-added"
    assert subject.kind == "system" and subject.extra["event"] == "subject-changed"
    assert msgs[10].sender_name == "Kasun" and msgs[10].text == "මගේ පාස්පෝට් එක එයාලා අරගෙන"
    assert msgs[11].extra["location"] == {"lat": "16.6992", "lon": "98.5108"}
    assert len(msgs) == 12
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert ("phone", "+94 76 222 3344", "sender") in ids
    assert ("bank-account", "0081234567", "mentioned") in ids
    assert ("phone", "+94 71 555 0199", "mentioned") in ids  # from the system line
    assert issues(recs, "info")[0].message.startswith("dates read as DMY")
    assert not issues(recs, "error") and not issues(recs, "warning")


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "android_us_12h.txt",
            [datetime(2024, 3, 12, 14, 23), datetime(2024, 3, 12, 23, 59), datetime(2024, 3, 13, 0, 5), datetime(2024, 3, 13, 12, 30)],
        ),
        ("german_dots.txt", [datetime(2021, 8, 3, 12, 30), datetime(2021, 8, 4, 8, 15)]),
        ("spanish_pm.txt", [datetime(2017, 6, 20, 20, 28), datetime(2017, 6, 21, 9, 2)]),
        ("french_a.txt", [datetime(2017, 7, 12, 22, 35), datetime(2017, 7, 13, 7, 5)]),
        ("indonesian_dots.txt", [datetime(2025, 8, 30, 18, 0), datetime(2025, 8, 31, 7, 30)]),
        ("year_first.txt", [datetime(2019, 1, 30, 20, 49), datetime(2019, 1, 31, 8, 0)]),
        ("sinhala_ampm.txt", [datetime(2024, 3, 14, 9, 12), datetime(2024, 3, 14, 21, 12)]),
        ("finnish_klo.txt", [datetime(2022, 3, 12, 14, 8, 18), datetime(2022, 3, 13, 9, 1)]),
        ("ios_us_12h.txt", [datetime(2024, 1, 15, 10, 30, 45), datetime(2024, 1, 15, 22, 31, 2)]),
    ],
)
def test_date_and_time_variants(fixtures, name, expected):
    recs = run_parser(P, fixtures / "whatsapp" / name)
    assert _ts(messages(recs)) == expected
    assert all(m.sender_name for m in messages(recs))
    assert not issues(recs, "error")
    assert sniff(P, fixtures / "whatsapp" / name) >= 0.5


def test_ios_export_kinds(fixtures):
    msgs = messages(run_parser(P, fixtures / "whatsapp/ios_chat.txt"))
    assert [m.kind for m in msgs] == ["system", "system", "text", "media", "media", "text", "deleted", "media"]
    assert msgs[1].extra == {"event": "group-created", "shown_as": "Recruits"} and msgs[1].sender_name is None
    assert msgs[3].sender_id == "+94 70 333 4455" and msgs[3].media == "00000001-PHOTO-2022-12-31-11-42-10.jpg"
    assert msgs[4].extra["media_omitted"] and msgs[4].sender_name == "Priya"
    assert msgs[5].text == "என் பாஸ்போர்ட்டை வாங்கிக்கொண்டார்கள்.\nதிரும்ப தரவில்லை."
    assert msgs[2].ts == datetime(2022, 12, 31, 11, 41)


def test_zip_links_media_by_hash(fixtures, tmp_path):
    chat = (fixtures / "whatsapp/ios_chat.txt").read_bytes()
    photo = b"\xff\xd8\xff\xe0 fake jpeg bytes"
    z = tmp_path / "WhatsApp Chat - Recruits.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("_chat.txt", chat)
        zf.writestr("00000001-PHOTO-2022-12-31-11-42-10.jpg", photo)
    assert sniff(P, z) >= 0.9
    recs = run_parser(P, z)
    msgs = messages(recs)
    import hashlib

    photo_msg = msgs[3]
    assert photo_msg.media_sha256 == hashlib.sha256(photo).hexdigest()
    assert photo_msg.extra["media_locator"] == "zip:00000001-PHOTO-2022-12-31-11-42-10.jpg"
    assert photo_msg.prov.locator == "zip:_chat.txt#line:4" and photo_msg.chat_name == "Recruits"
    assert msgs[7].extra["media_missing"] is True


def test_undecidable_day_month_is_reported_not_guessed(fixtures):
    recs = run_parser(P, fixtures / "whatsapp/ambiguous.txt")
    assert all(m.ts is None for m in messages(recs))
    assert "day/month order undecided" in issues(recs, "error")[0].message
    assert all(m.extra["date_text"] == "01/02/2024 10:00" or m.extra["date_text"] == "01/02/2024 11:00" for m in messages(recs))
    settled = run_parser(WhatsAppExport(date_order="MDY"), fixtures / "whatsapp/ambiguous.txt")
    assert messages(settled)[0].ts == datetime(2024, 1, 2, 10, 0)
    assert "given by the examiner" in issues(settled, "info")[0].message


def test_order_decided_by_time_order_when_no_day_exceeds_12(fixtures):
    recs = run_parser(P, fixtures / "whatsapp/ambiguous_by_order.txt")
    assert _ts(messages(recs))[2] == datetime(2024, 2, 1, 9, 0)
    assert "only day-first keeps the messages in time order" in issues(recs, "info")[0].message


def test_inconsistent_file_reads_only_unambiguous_dates(fixtures):
    recs = run_parser(P, fixtures / "whatsapp/inconsistent.txt")
    assert _ts(messages(recs)) == [datetime(2024, 1, 25, 10), datetime(2024, 1, 25, 11)]
    (err,) = issues(recs, "error")
    assert "mixes day/month orders" in err.message and "line 2 has 01/25/2024" in err.message
    (warn,) = issues(recs, "warning")
    assert warn.prov.locator == "line:2" and "valid only the other way round" in warn.message


def test_bad_bytes_and_preamble_are_kept_as_issues(fixtures):
    recs = run_parser(P, fixtures / "whatsapp/bad_bytes.txt")
    msgs = messages(recs)
    assert [m.text for m in msgs] == ["caf\ufffd ok", "fine"]
    errs = issues(recs, "error")
    assert errs[0].prov.locator == "line:1" and errs[0].raw == "garbage before any header"
    file_note, warn = issues(recs, "warning")
    assert "not valid UTF-8" in file_note.message and file_note.prov.locator == "file"  # the encoding decision
    assert warn.prov.locator == "line:2" and "not valid UTF-8" in warn.message


def test_every_line_is_accounted_for(fixtures):
    """Each input line is inside exactly one message's locator span or one issue's locator."""
    path = fixtures / "whatsapp/android_dmy_24h.txt"
    recs = run_parser(P, path)
    covered = set()
    for r in messages(recs) + [i for i in issues(recs) if i.prov.locator.startswith("line:")]:
        a, _, b = r.prov.locator[5:].partition("-")
        covered |= set(range(int(a), int(b or a) + 1))
    assert covered == set(range(1, len(path.read_text().splitlines()) + 1))


def test_huge_line_is_cut_and_reported(tmp_path):
    p = tmp_path / "huge.txt"
    p.write_bytes(b"12/03/2024, 14:23 - A: " + b"x" * (3 << 20) + b"\n13/03/2024, 14:24 - B: after\n")
    recs = run_parser(P, p)
    assert [m.sender_name for m in messages(recs)] == ["A", "B"]
    assert any("kept the first" in i.message for i in issues(recs, "warning"))


def test_not_a_chat_is_not_sniffed(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("shopping list\nrice\ndhal\n")
    assert sniff(P, p) == 0


def test_decide_order_unit():
    assert decide_order([(1, "13/01/24")]).order == "DMY"
    assert decide_order([(1, "01/13/24")]).order == "MDY"
    assert decide_order([(1, "2024-01-02")]).order == "YMD"
    assert decide_order([(1, "13/01/24"), (2, "01/13/24")]).inconsistent
