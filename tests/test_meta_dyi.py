from datetime import UTC, datetime

from parse_helpers import identifiers, issues, messages, of, run_parser, sniff

from casegraph.model import Call
from casegraph.parsers.meta_dyi import MetaDYI, repair

P = MetaDYI()


def test_repair_only_where_mojibake_is_present():
    assert repair("à¶¸à¶§") == "මට"
    assert repair("Café à Paris") == "Café à Paris"  # not valid as re-decoded UTF-8: left alone
    assert repair("මට") == "මට"


def test_messenger_thread(fixtures):
    path = fixtures / "meta/message_1.json"
    assert sniff(P, path) >= 0.9
    # nothing in this old-layout file (messages/inbox/ paths, no links) says Messenger: the examiner says so
    recs = run_parser(MetaDYI(platform="messenger"), path)
    msgs = messages(recs)
    assert msgs[0].sender_name == "කසුන් පෙරේරා" and msgs[0].text == "මට ගෙදර යන්න ඕනේ"
    assert msgs[0].chat_name == "කසුන් පෙරේරා" and msgs[0].chat_id == "messenger:inbox/kasun_123"  # title came after messages
    assert msgs[0].extra["participants"] == ["Nuwan Jayawardena", "කසුන් පෙරේරා"]
    assert msgs[0].ts == datetime.fromtimestamp(1710400000, UTC)
    assert msgs[1].extra["reactions"][0]["reaction"] == "👍"
    assert msgs[2].kind == "media" and msgs[2].media.endswith("slip.jpg")
    assert msgs[4].kind == "deleted"
    assert msgs[5].text == "Café à Paris, already correct text"
    call = of(recs, Call)[0]
    assert call.duration_s == 125 and call.prov.locator == "json:/messages/3"
    assert ("bank-account", "0081234567") in {(i.kind, i.value) for i in identifiers(recs)}
    assert not issues(recs, "error") and not issues(recs, "warning")


def test_instagram_zip(fixtures):
    path = fixtures / "meta/instagram-priya_s-2024-05-01.zip"
    assert sniff(P, path) >= 0.9
    recs = run_parser(P, path)
    (msg,) = messages(recs)
    assert msg.platform == "instagram" and msg.chat_id == "instagram:inbox/chenrecruit_9"
    assert msg.prov.locator == "zip:your_instagram_activity/messages/inbox/chenrecruit_9/message_1.json#json:/messages/0"
    assert ("phone", "+94 75 444 5566") in {(i.kind, i.value) for i in identifiers(recs)}


def test_a_bad_message_is_an_issue_and_the_thread_goes_on(tmp_path):
    import json

    path = tmp_path / "message_1.json"
    path.write_text(
        json.dumps(
            {
                "participants": [{"name": "A"}],
                "messages": [
                    {"sender_name": "A", "timestamp_ms": "not a number", "content": "x"},
                    {"sender_name": "A", "timestamp_ms": 1710400000000, "content": "y"},
                ],
            }
        )
    )
    recs = run_parser(P, path)
    assert [m.text for m in messages(recs)] == ["y"]
    assert issues(recs, "error")[0].prov.locator == "json:/messages/0"
