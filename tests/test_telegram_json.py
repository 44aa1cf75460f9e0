from datetime import UTC, datetime

from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Contact
from casegraph.parsers.telegram_json import TelegramJSON

P = TelegramJSON()


def test_full_export(fixtures):
    path = fixtures / "telegram/result.json"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    msgs = messages(recs)
    assert [m.source_id for m in msgs] == ["101", "102", "103", "1", "2"]
    first, reply, photo, service, old = msgs
    assert first.chat_name == "Chen Wei" and first.chat_id == "telegram:6011111111"
    assert first.prov.locator == "json:/chats/list/0/messages/0"
    assert first.ts == datetime(2024, 4, 19, 6, 30, tzinfo=UTC)
    assert first.direction == "incoming" and reply.direction == "outgoing"
    assert reply.text == "ok. call +94715550199 or mail rizwan.m@example.lk @rizwan_bro" and reply.reply_to == "101"
    assert reply.extra["edited_at"].startswith("2024-04-19 06:36")
    assert photo.kind == "media" and photo.media.startswith("photos/photo_1")
    assert service.kind == "system" and service.extra["action"] == "create_group" and service.sender_id == "user5012345678"
    assert service.chat_name == "Recruits" and service.prov.locator == "json:/chats/list/1/messages/0"
    assert old.sender_id == "user7000000001"  # old numeric from_id normalised
    assert old.ts == datetime(2024, 4, 1, 9, 1) and old.ts.tzinfo is None  # no unixtime: wall clock kept as such
    owner, contact = of(recs, Contact)
    assert owner.extra["role"] == "account-owner" and owner.phones == ["+94 77 123 4567"] and owner.usernames == ["@nuwan_jobs"]
    assert contact.name == "Chen Wei" and contact.prov.locator == "json:/contacts/list/0"
    ids = {(i.kind, i.value, i.role) for i in identifiers(recs)}
    assert {
        ("phone", "+94715550199", "mentioned"),
        ("email", "rizwan.m@example.lk", "mentioned"),
        ("username", "rizwan_bro", "mentioned"),
        ("tron", "TET8J56maUaAbx2T6vBNtyhbu39QHukgQF", "mentioned"),
        ("phone", "+94 77 123 4567", "holder"),
        ("telegram-id", "user6011111111", "sender"),
    } <= ids
    assert not issues(recs)


def test_single_chat_export(fixtures):
    recs = run_parser(P, fixtures / "telegram/single_chat.json")
    msgs = messages(recs)
    assert [m.chat_name for m in msgs] == ["Kasun", "Kasun"] and msgs[0].direction == "unknown"
    assert msgs[0].prov.locator == "json:/messages/0"
    assert msgs[1].ts == datetime(2024, 4, 2, 21, 16)


def test_truncated_export_keeps_what_was_read_and_says_where(fixtures):
    recs = run_parser(P, fixtures / "telegram/truncated.json")
    errs = issues(recs, "error")
    assert len(errs) == 1 and "truncated.json: JSON unreadable" in errs[0].message
    assert of(recs, Contact)  # the owner and contact before the cut are kept
