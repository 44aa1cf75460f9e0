"""Detection that says what it saw: Instagram thread files without participants, Instagram told from
Messenger by evidence (never by default), grouped vCards, and exhibits no parser reads leaving a
parse issue, a parse run and a custody event with the reason.

Shapes: fixtures/robust/instagram_message_1_no_participants.json follows Instagram's DYI thread
files since 2023 (`your_instagram_activity/messages/inbox/<thread>/message_1.json`: messages of
sender_name, timestamp_ms, content/share/photos, is_geoblocked_for_viewer,
is_unsent_image_by_messenger_kid_parent; title, is_still_participant, thread_path, magic_words;
text as latin-1-escaped UTF-8), as seen in public parser test fixtures (a parse-meta.test.ts using
`your_instagram_activity/messages/inbox/fakeuser_000/photos/111.jpg` URIs and instagram.com reel
links) and in Memoria's "Instagram Messages Schema" notes (current 2023+ layout vs legacy
`messages/inbox/`). `participants` is missing here, as in thread files that omit it.
"""

import json
import zipfile
from pathlib import Path

from parse_helpers import issues, messages, run_parser, sniff

from casegraph.ingest.detect import examine
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.pipeline import parse_exhibit
from casegraph.parsers.meta_dyi import MetaDYI, platform_of

ROBUST = Path(__file__).parent / "fixtures" / "robust"
IG = ROBUST / "instagram_message_1_no_participants.json"


def test_an_instagram_thread_without_participants_is_recognised_as_instagram():
    found = examine(IG, "message_1.json")
    assert found.parser is not None and found.parser.name == "meta-dyi"
    recs = run_parser(MetaDYI(), IG, "message_1.json")
    msgs = messages(recs)
    assert [m.platform for m in msgs] == ["instagram"] * 3  # not Messenger: its links and paths say Instagram
    assert msgs[0].chat_id == "instagram:inbox/chenrecruit_17845123456"
    assert msgs[1].media.startswith("your_instagram_activity/messages/inbox/")
    (info,) = issues(recs, "info")
    assert "instagram decided from the paths and links" in info.message
    assert not issues(recs, "warning") and not issues(recs, "error")


def test_in_a_zip_the_member_path_decides(tmp_path):
    thread = json.loads(IG.read_text())
    thread["messages"] = [m for m in thread["messages"] if "content" in m]  # no link, no media path
    for top, platform in (("your_instagram_activity", "instagram"), ("your_facebook_activity", "messenger")):
        path = tmp_path / f"export-{top}.zip"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(f"{top}/messages/inbox/chen_1/message_1.json", json.dumps(thread))
        assert sniff(MetaDYI(), path) >= 0.9
        assert {m.platform for m in messages(run_parser(MetaDYI(), path))} == {platform}


def test_nothing_decides_gives_meta_with_a_warning_or_the_examiner_s_choice(tmp_path):
    thread = json.loads(IG.read_text())
    thread["messages"] = [m for m in thread["messages"] if "content" in m]
    path = tmp_path / "message_1.json"
    path.write_text(json.dumps(thread))
    recs = run_parser(MetaDYI(), path)
    assert {m.platform for m in messages(recs)} == {"meta"}
    (warning,) = issues(recs, "warning")
    assert "Messenger or Instagram not decided" in warning.message and "platform=instagram" in warning.message
    chosen = run_parser(MetaDYI(platform="messenger"), path)
    assert {m.platform for m in messages(chosen)} == {"messenger"} and not issues(chosen, "warning")


def test_platform_clues():
    assert platform_of(["instagram-priya_s-2024-05-01.zip"], "")[0] == "instagram"
    assert platform_of(["facebook-nuwan-2024.zip", "messages/inbox/x/message_1.json"], "")[0] == "messenger"
    assert platform_of(["message_1.json"], '"uri": "your_facebook_activity/messages/inbox/x/photos/1.jpg"')[0] == "messenger"
    assert platform_of(["message_1.json"], '"link": "https://www.instagram.com/p/x/"')[0] == "instagram"
    assert platform_of(["message_1.json"], '"uri": "messages/inbox/x/photos/1.jpg"')[0] == "meta"
    assert platform_of(["message_1.json"], "instagram.com/ and facebook.com/")[0] == "meta"


def test_vcard_beginning_with_a_grouped_begin_is_recognised():
    found = examine(ROBUST / "vcard-groups.vcf")
    assert found.parser is not None and found.parser.name == "vcard"


def test_an_unrecognised_exhibit_leaves_an_issue_a_run_and_a_custody_event(case, tmp_path):
    f = tmp_path / "notes.bin"
    f.write_bytes(b"\x00\x01\x02 nothing anyone knows")
    sha = add_evidence(case, f, "X1").sha256
    out = parse_exhibit(case, sha)
    assert out.status == "unrecognised" and "notes.bin: format not recognised" in out.message
    (issue,) = case.store.rows("SELECT severity, message, parser, locator FROM parse_issues WHERE exhibit_sha256 = ?", [sha])
    assert issue["severity"] == "error" and issue["parser"] == "unrecognised" and issue["locator"] == "exhibit"
    (run,) = case.store.rows("SELECT parser, status, custody_event_hash FROM parse_runs WHERE exhibit_sha256 = ?", [sha])
    assert run["status"] == "unrecognised"
    event = next(e for e in case.custody.events() if e["hash"] == run["custody_event_hash"])
    assert event["action"] == "parse" and event["inputs"][0]["sha256"] == sha
    assert parse_exhibit(case, sha).message == out.message  # re-ingest: no second issue, same reason
    assert case.store.count("parse_issues", "WHERE exhibit_sha256 = ?", [sha]) == 1


def test_a_sniff_that_fails_does_not_end_detection_and_is_the_reason(tmp_path, monkeypatch):
    from casegraph.parsers.vcard import VCard

    def broken(self, probe):
        raise OSError("device not ready")

    monkeypatch.setattr(VCard, "sniff", broken)
    found = examine(ROBUST / "vcard-groups.vcf")
    assert found.parser is None
    assert "vcard could not examine it (OSError: device not ready)" in found.reason("vcard-groups.vcf")
