"""Across every chat parser and all their fixtures: no record is typed `system` while a participant
wrote it. A system record may name a participant only as the actor of an event the source itself
names (Telegram's service action, a WhatsApp event, a database's type code with no text); it never
holds a participant's text, and never one of WhatsApp's user-content markers (media left out,
deleted, null) in any language."""

import sqlite3
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from parse_helpers import messages, run_parser

from casegraph.parsers import Probe, load_all
from casegraph.parsers.whatsapp import markers

FIXTURES = Path(__file__).parent / "fixtures"
DB_NAMES = {
    "msgstore_new.sql": "msgstore.db",
    "msgstore_legacy.sql": "msgstore.db",
    "wa.sql": "wa.db",
    "chatstorage.sql": "ChatStorage.sqlite",
    "mmssms.sql": "mmssms.db",
    "calllog.sql": "calllog.db",
    "contacts2.sql": "contacts2.db",
    "ios_sms.sql": "sms.db",
    "chatstorage_locations.sql": "ChatStorage.sqlite",
    "msgstore_locations.sql": "msgstore.db",
    "msgstore_legacy_location.sql": "msgstore.db",
    "wa_ios_callhistory.sql": "CallHistory.sqlite",
    "wa_ios_contactsv2.sql": "ContactsV2.sqlite",
}
USER_MARKERS = {
    markers.normalise(s) for section in ("media_omitted", "deleted", "deleted_by_admin", "placeholder") for s in markers._strings(section)
}


def _exhibits(tmp: Path) -> list[Path]:
    paths = []
    for sql in sorted((FIXTURES / "sqlite").glob("*.sql")):
        (tmp / sql.stem).mkdir()
        path = tmp / sql.stem / DB_NAMES[sql.name]
        con = sqlite3.connect(path)
        con.executescript(sql.read_text())
        con.commit()
        con.close()
        paths.append(path)
    ufdr = tmp / "phone.ufdr"
    with zipfile.ZipFile(ufdr, "w") as z:
        z.writestr("report.xml", (FIXTURES / "ufdr/report.xml").read_bytes())
    paths.append(ufdr)
    for sub in ("telegram", "meta", "sms", "whatsapp", "signal_text"):
        paths += sorted(p for p in (FIXTURES / sub).iterdir() if p.is_file())
    return paths


def test_no_system_record_is_a_participants_message(tmp_path):
    parsers = load_all()
    checked = defaultdict(int)
    for path in _exhibits(tmp_path):
        probe = Probe.of(path)
        score, parser = max(((p.sniff(probe), p) for p in parsers), key=lambda s: s[0])
        if score < 0.5:
            continue
        msgs = messages(run_parser(parser, path))
        checked[parser.name] += len(msgs)
        people = defaultdict(set)
        for m in msgs:
            if m.kind != "system":
                people[m.chat_id] |= {v for v in (m.sender_id, m.sender_name) if v}
        for m in msgs:
            if m.kind != "system":
                continue
            where = f"{path.name} {m.prov.locator}"
            assert markers.normalise(m.text or "") not in USER_MARKERS, f"{where}: a user's marker filed as system"
            actor = {v for v in (m.sender_id, m.sender_name) if v} & people[m.chat_id]
            named_event = m.extra.get("event") or m.extra.get("action")
            assert not actor or named_event or not m.text, f"{where}: {actor} wrote {m.text!r}, typed system"
            if parser.name == "whatsapp-export":  # authorship there comes from the line's grammar alone
                assert m.sender_name is None and m.sender_id is None, where
                assert m.extra.get("shown_as") not in people[m.chat_id] or m.extra["event"] in (
                    "encryption-notice",
                    "security-code-changed",
                ), where
    for name in (
        "whatsapp-export",
        "telegram-json",
        "meta-dyi",
        "sms-backup-xml",
        "cellebrite-ufdr",
        "whatsapp-msgstore",
        "whatsapp-ios-chatstorage",
        "ios-sms-db",
        "android-mmssms",
    ):
        assert checked[name] > 0, f"no {name} fixture was checked"


@pytest.mark.parametrize("name", ["de_ios.txt", "pt_pt_ios.txt", "en_ios_group.txt"])
def test_ios_markers_under_a_participants_name_are_theirs(fixtures, name):
    """Before: every U+200E-marked iOS line not in English was kind=system with no sender."""
    msgs = messages(run_parser(load_all() and next(p for p in load_all() if p.name == "whatsapp-export"), fixtures / "whatsapp" / name))
    marked = [m for m in msgs if markers.normalise(m.text or "") in USER_MARKERS]
    assert marked and all(m.kind in ("media", "deleted", "text") and m.sender_name for m in marked)
