"""The graph explorer ties a resolved person to every chat they sent messages in, whatever identifier the
platform names its senders by (issue #19). SENT starts at the sender's identifier node (a phone, a Telegram
`user…` id, a Signal number or UUID, a JID) and at the person only for a sender known by name alone, so a
person's expansion showed Rizwan's 5 Telegram messages (tests/fixtures/telegram/locations_calls.json) nowhere.

One case holds one chat fixture per platform and export form (each fixture is shaped after real exports;
their sources are cited in their own parser tests)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from casegraph.case import Case
from casegraph.cli import main
from casegraph.graph import explore

FIXTURES = Path(__file__).parent / "fixtures"
FILES = [  # (fixture, file name in the case)
    ("telegram/locations_calls.json", None),
    ("telegram/result.json", None),
    ("whatsapp/en_ios_group.txt", None),
    ("whatsapp/si_android.txt", None),
    ("signal/Rizwan Bhai.json", None),
    ("signal/sigtop.txt", None),
    ("signal_text/sigexport_chat.txt", None),
    ("sms/sms-20240420.xml", None),
    ("ufdr/report.xml", None),
]
DATABASES = [  # (SQL fixture, database file name the app uses)
    ("msgstore_new.sql", "msgstore.db"),
    ("chatstorage.sql", "ChatStorage.sqlite"),
    ("ios_sms.sql", "sms.db"),
    ("mmssms.sql", "mmssms.db"),
]


def _cli(*args: str) -> None:
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code == 0, (args, r.output)


@pytest.fixture(scope="module")
def chats_case(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("chat-files")
    root = tmp_path_factory.mktemp("chats") / "case"
    _cli("case", "init", str(root), "--case-no", "HTS/TEST/19", "--examiner", "IP Test")
    files = []
    for n, (fixture, name) in enumerate(FILES):
        dest = src / str(n) / (name or Path(fixture).name)
        dest.parent.mkdir()
        shutil.copy(FIXTURES / fixture, dest)
        files.append(dest)
    for n, (script, name) in enumerate(DATABASES):
        dest = src / f"db{n}" / name
        dest.parent.mkdir()
        con = sqlite3.connect(dest)
        con.executescript((FIXTURES / "sqlite" / script).read_text())
        con.commit()
        con.close()
        files.append(dest)
    for n, f in enumerate(files):
        _cli("evidence", "add", str(root), str(f), "--exhibit", f"E{n}", "--seized-from", "test", "--acquired-by", "test")
    _cli("ingest", str(root))
    _cli("resolve", str(root))
    return root


def test_every_resolved_sender_has_a_message_tie_to_each_chat_they_wrote_in(chats_case):
    with Case(chats_case, read_only=True) as c:
        s = c.store
        # every message with a sender, the person that sender resolved to, and the chat it is in
        sent = s.rows(
            """WITH person_of AS (SELECT id AS node, id AS person FROM entities WHERE kind = 'person'
                                  UNION SELECT dst, src FROM edges WHERE kind = 'USES')
               SELECT m.platform, p.person, i.dst AS chat, count(DISTINCT m.id) AS n
               FROM messages m JOIN edges se ON se.kind = 'SENT' AND se.dst = m.id JOIN person_of p ON p.node = se.src
               JOIN edges i ON i.kind = 'IN' AND i.src = m.id GROUP BY ALL ORDER BY ALL"""
        )
        platforms = {r["platform"] for r in sent}
        assert {"telegram", "whatsapp", "signal", "sms"} <= platforms, platforms
        for r in sent:
            ties = explore.neighbourhood(s, r["person"], kinds=("message",))["edges"]
            tie = [t for t in ties if t["target"] == r["chat"]]
            assert tie, (r["platform"], r["person"], r["chat"])
            assert tie[0]["source"] == r["person"] and tie[0]["count"] == r["n"], (r, tie)
            assert all(rec.startswith("messages/") for rec in tie[0]["records"])
        # the Telegram case of the report: Rizwan (user6022222222) sent 5 messages in his chat with Nuwan
        acct = "Account:telegram-id:user6022222222"
        (rizwan,) = s.rows("SELECT src FROM edges WHERE kind = 'USES' AND dst = ?", [acct])
        chat = s.one("SELECT id FROM nodes WHERE label = 'Chat' AND id LIKE 'Chat:telegram:%:telegram:6022222222'")[0]
        ties = [t for t in explore.neighbourhood(s, rizwan["src"])["edges"] if t["kind"] == "message" and t["target"] == chat]
        assert [(t["count"], t["via"]) for t in ties] == [(5, [acct])]
        # an identifier's own ties are as before: the account sent them
        acct = explore.neighbourhood(s, "Account:telegram-id:user6022222222", kinds=("message",))["edges"]
        assert [(t["source"], t["count"]) for t in acct] == [("Account:telegram-id:user6022222222", 5)]
