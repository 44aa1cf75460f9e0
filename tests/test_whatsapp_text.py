"""WhatsApp export text: languages, authors, line ends, encodings, dates, detection.

Fixture shapes and where they come from (real exports as other projects read and test them):
- de_ios.txt: German iOS (CRLF, U+200E before WhatsApp's text, "Bild weggelassen", "<Anhang: …>"):
  the German iOS samples in public parsers' tests ("[15.08.26, 12:44:11] Marlene: Bild weggelassen")
  and the per-type table of a Dart WhatsApp parser; the group-created wording is illustrative.
- de_ios_multiline.txt: the de_ios.txt shapes (CRLF, U+200E, German markers), with multi-line
  messages, a blank continuation line, pasted header-shaped lines inside a message, a number and a
  map link; read in blocks of a few bytes to check that chunked and parallel reading change nothing.
- es_android.txt: Spanish Android "20/6/2017 8:28 p. m. - " (U+00A0 inside "p. m."), "<Multimedia
  omitido>", "Se eliminó este mensaje", "(archivo adjunto)": mlomb/chat-analytics
  pipeline/parse/parsers/WhatsApp.ts and the Dart table.
- pt_br_android.txt: "08/02/18 14:42 - Caio …: <Arquivo de mídia oculto>", "Mensagem apagada",
  "(arquivo anexado)": Brazilian export analyses found by those strings.
- pt_pt_ios.txt: "imagem não revelada", "Esta mensagem foi apagada.": the Dart table (pt-PT).
- fr_android.txt: "12/07/2017 à 22:35 - ", "<Médias omis>", "(fichier joint)": chat-analytics.
- id_android.txt: "30/08/25 18.00 - ", "<Media tidak disertakan>", "(file terlampir)", "Pesan ini
  telah dihapus": Indonesian export scripts.
- ta_android.txt: Tamil-UI "<கோப்புகள் விடப்பட்டன>" (chat-analytics' Android locale table) and
  "இந்த செய்தி நீக்கப்பட்டது" (a multilingual deletion list; lower confidence).
- si_android.txt: a Sinhala chat on an English-UI phone with Sinhala day-half markers; no Sinhala-UI
  export string was found in any public source (WhatsApp's locales as extracted there have no si).
- en_ios_group.txt: iOS group with "This message was deleted by admin", "< attached: … >",
  "FILE ‹attached>", "~ ~monyi", a trailing blank line: issue #13's measured shapes and
  AyazKhuraishi/whatsapp-export-inconsistencies inconsistencies-media/attachments-non-conformant.md.
- yymmdd.txt / yyddmm.txt: lucasrodes/whatstk whatstk/whatsapp/assets/header_format_support.json
  ("%y-%m-%d, %H:%M - %name:", "%y-%d-%m, …"); dotted_colon.txt, dot_year_dot.txt, year_middle.txt:
  the header forms issue #13 measured.
- sv_ios_iso.txt: iOS with an English UI and Swedish region dates ("[2021-03-14 15:32:10]"), the
  shape Signal exports share; told apart by WhatsApp's U+200E lines.
- signal_text/: joweich/chat-miner test/signal/test_export.txt ("[2019-12-24, 12:23] Jane Doe: …")
  and carderne/signal-export sigexport/models.py Message.to_md ("[%Y-%m-%d %H:%M:%S] sender: body",
  "![name](./media/…)", "(- Name: emoji -)").
"""

import io
from datetime import datetime

import pytest
from parse_helpers import issues, messages, run_parser, sniff

from casegraph.parsers.base import HEAD_BYTES, Probe
from casegraph.parsers.whatsapp_export import WhatsAppExport

P = WhatsAppExport()


def _kinds(msgs):
    return [(m.kind, m.sender_name or m.sender_id) for m in msgs]


def test_german_ios_markers_are_the_senders_messages(fixtures):
    msgs = messages(run_parser(P, fixtures / "whatsapp/de_ios.txt"))
    assert _kinds(msgs) == [
        ("system", None),
        ("system", None),
        ("text", "Kasun"),
        ("media", "Kasun"),
        ("media", "Nimal"),
        ("deleted", "Kasun"),
        ("media", "Nimal"),
        ("media", "Kasun"),
        ("text", "Kasun"),
        ("text", "Kasun"),
    ]
    assert msgs[0].extra == {"event": "encryption-notice", "shown_as": "Arbeit Dubai"}
    assert msgs[3].extra["media_omitted"] and msgs[4].extra == {"media_omitted": True, "not_in_contacts": True}
    assert msgs[7].media == "00000012-PHOTO-2021-08-04-08-15-00.jpg"
    assert msgs[8].text == "Umfrage: wann?"  # an unknown marker stays the author's text
    assert msgs[9].edited and msgs[9].text == "Geld kommt morgen"
    assert not any("\r" in (m.text or "") for m in msgs)  # CRLF file


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "es_android.txt",
            [
                ("system", None),
                ("text", "Ana"),
                ("media", "Ana"),
                ("deleted", "Luis"),
                ("deleted", "Luis"),
                ("media", "Luis"),
                ("media", "Ana"),
            ],
        ),
        (
            "pt_br_android.txt",
            [
                ("text", "Caio Barbosa"),
                ("media", "Caio Barbosa"),
                ("deleted", "Pai Novo"),
                ("media", "Pai Novo"),
                ("deleted", "Pai Novo"),
                ("text", "Caio Barbosa"),
            ],
        ),
        ("pt_pt_ios.txt", [("text", "Rui"), ("media", "Rui"), ("deleted", "Marta"), ("media", "Marta")]),
        ("fr_android.txt", [("media", "Luc"), ("deleted", "Luc"), ("media", "Awa"), ("deleted", "Awa")]),
        ("id_android.txt", [("text", "Budi"), ("media", "Budi"), ("deleted", "Sari"), ("media", "Sari")]),
        ("si_android.txt", [("text", "Nuwan"), ("media", "Nuwan"), ("deleted", "Kasun"), ("text", "Kasun")]),
        ("ta_android.txt", [("text", "Priya"), ("media", "Priya"), ("deleted", "Ravi"), ("text", "Ravi")]),
    ],
)
def test_markers_in_the_phones_language(fixtures, name, expected):
    recs = run_parser(P, fixtures / "whatsapp" / name)
    assert _kinds(messages(recs)) == expected
    assert not issues(recs, "error")


def test_spanish_midnight_twelve_hour_and_attachment(fixtures):
    msgs = messages(run_parser(P, fixtures / "whatsapp/es_android.txt"))
    assert msgs[0].ts == datetime(2017, 6, 20, 0, 5) and msgs[1].ts == datetime(2017, 6, 20, 0, 8)  # "00:08 a. m."
    assert msgs[2].ts == datetime(2017, 6, 20, 20, 28)
    assert msgs[0].extra["event"] == "encryption-notice"
    assert msgs[5].media == "contrato.pdf" and msgs[5].text is None


def test_ios_group_admin_deletion_attachments_names_and_trailing_blank(fixtures):
    msgs = messages(run_parser(P, fixtures / "whatsapp/en_ios_group.txt"))
    assert msgs[0].kind == "system" and msgs[0].extra["shown_as"] == "Recruits"
    admin = msgs[2]
    assert admin.kind == "deleted" and admin.sender_name == "~monyi" and admin.extra["deleted_by"] == "admin"
    assert admin.extra["not_in_contacts"] is True
    assert msgs[3].sender_name == "~monyi"  # only the not-in-contacts marker is stripped
    assert msgs[4].media == "00000003-PHOTO-2024-01-15-10-34-00.jpg"  # "< attached: FILE >"
    assert msgs[5].media == "contract.pdf"  # "FILE ‹attached>"
    assert msgs[6].extra == {"placeholder": True} and msgs[6].sender_name == "Priya"
    assert msgs[7].kind == "media" and msgs[7].extra["media_omitted"]
    last = msgs[-1]
    assert last.text == "see you at the airport" and last.prov.locator == "line:9-11"


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r", "\x85", "\u2028", "\u2029"])
def test_every_line_end_convention(tmp_path, end):
    lines = [
        "12/03/2024, 14:23 - Nuwan: first line",
        "second line",
        "13/03/2024, 09:00 - Kasun: This message was deleted",
        "13/03/2024, 09:01 - Kasun: end",
        "",
    ]
    p = tmp_path / "chat.txt"
    p.write_bytes(end.join(lines).encode())
    msgs = messages(run_parser(P, p))
    assert [m.text for m in msgs] == ["first line\nsecond line", "This message was deleted", "end"]
    assert [m.kind for m in msgs] == ["text", "deleted", "text"]
    assert [m.prov.locator for m in msgs] == ["line:1-2", "line:3", "line:4"]
    assert sniff(P, p) >= 0.9


def test_crlf_split_across_blocks_makes_no_empty_line():
    from casegraph.parsers.base import decide_encoding
    from casegraph.parsers.whatsapp.text import blocks

    data = b"aaa\r\nbbb\r\nccc\r\n"
    out = [ln for _, lines, _ in blocks(io.BytesIO(data), decide_encoding(data), block=4) for ln in lines.to_pylist()]
    assert out == ["aaa", "bbb", "ccc"]


def test_head_cut_inside_a_character_is_still_utf8(tmp_path):
    """The 64 KiB sniffing head ends inside a Sinhala character: still UTF-8, still WhatsApp."""
    body = "12/03/2024, 14:23 - Kasun: මගේ පාස්පෝට් එක අරගෙන\n".encode() * (HEAD_BYTES // 60)
    data = b"12/03/2024, 14:20 - Nuwan: x\n" + body
    while (data[HEAD_BYTES] & 0xC0) != 0x80:  # pad the first message until the cut lands inside a character
        data = data[:27] + b"x" + data[27:]
    assert data[:HEAD_BYTES].decode("utf-8", errors="ignore").encode() != data[:HEAD_BYTES]  # the cut is mid-character
    p = tmp_path / "WhatsApp Chat with Kasun.txt"
    p.write_bytes(data)
    probe = Probe.of(p)
    assert probe.encoding.codec == "utf-8" and probe.text.startswith("12/03/2024")
    assert sniff(P, p) >= 0.9


def test_utf8_behind_stray_utf16_bom_is_utf8(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_bytes(b"\xff\xfe" + "12/03/2024, 14:23 - Kasun: ගෙදර යන්න ඕන\n13/03/2024, 09:00 - Nuwan: ok\n".encode())
    probe = Probe.of(p)
    assert probe.encoding.codec == "utf-8" and "stray" in probe.encoding.reason
    recs = run_parser(P, p)
    assert [m.text for m in messages(recs)] == ["ගෙදර යන්න ඕන", "ok"]
    assert any("stray" in i.message for i in issues(recs, "warning"))


def test_real_utf16_is_decoded_and_recorded(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_bytes("12/03/2024, 14:23 - Kasun: ගෙදර\r\n13/03/2024, 09:00 - Nuwan: ok\r\n".encode("utf-16"))
    recs = run_parser(P, p)
    assert [m.text for m in messages(recs)] == ["ගෙදර", "ok"]
    assert any(i.message == "text decoded as UTF-16-LE (byte-order mark)" for i in issues(recs, "info"))
    assert sniff(P, p) >= 0.9


@pytest.mark.parametrize(
    "name, order, expected",
    [
        (
            "yymmdd.txt",
            "YMD",
            [
                datetime(2018, 6, 10, 21, 25),
                datetime(2018, 6, 13, 21, 25),
                datetime(2018, 6, 29, 21, 25),
                datetime(2018, 6, 30, 21, 25),
                datetime(2018, 7, 1, 8, 0),
            ],
        ),
        ("yyddmm.txt", "YDM", [datetime(2018, 6, 13, 21, 25), datetime(2018, 6, 14, 9, 0)]),
        ("dotted_colon.txt", "DMY", [datetime(2018, 6, 13, 21, 25, 15), datetime(2018, 6, 14, 8, 0)]),
        ("dot_year_dot.txt", "DMY", [datetime(2018, 6, 13, 21, 25, 15), datetime(2018, 6, 14, 8, 0)]),
        ("year_middle.txt", "MYD", [datetime(2018, 6, 13, 21, 25, 15), datetime(2018, 6, 14, 8, 0)]),
    ],
)
def test_year_position_and_new_header_forms(fixtures, name, order, expected):
    recs = run_parser(P, fixtures / "whatsapp" / name)
    msgs = messages(recs)
    assert [m.ts for m in msgs] == expected and [m.sender_name for m in msgs] == ["a"] * (len(msgs) - 1) + ["b"]
    decided = [i for i in issues(recs) if i.message.startswith("dates read as")]
    assert decided[0].message.startswith(f"dates read as {order}")
    assert sniff(P, fixtures / "whatsapp" / name) >= 0.9


def test_year_first_two_digit_dates_were_read_day_first_before(fixtures):
    """yy-mm-dd within one month: both readings stay in time order; the span decides, as a warning."""
    recs = run_parser(P, fixtures / "whatsapp/dotted_colon.txt")
    (decided,) = [i for i in issues(recs) if i.message.startswith("dates read as")]
    assert decided.severity == "warning" and "year-first" in decided.message


def test_forced_day_first_still_reads_year_first_lines(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("2018-06-13 21:25 - a: iso\n14/06/2018, 08:00 - b: day first\n")
    msgs = messages(run_parser(WhatsAppExport(date_order="DMY"), p))
    assert [m.ts for m in msgs] == [datetime(2018, 6, 13, 21, 25), datetime(2018, 6, 14, 8, 0)]


def test_undecidable_year_position_is_never_info(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("13/01/24, 10:00 - a: one day only\n13/01/24, 11:00 - b: same day\n")
    (decided,) = [i for i in issues(run_parser(P, p)) if i.message.startswith("dates read as")]
    assert decided.severity == "warning" and "date_order=YMD" in decided.message


def test_signal_exports_are_not_whatsapp(fixtures):
    assert sniff(P, fixtures / "signal_text/chatminer_signal.txt") == 0
    assert sniff(P, fixtures / "signal_text/sigexport_chat.txt") == 0
    assert sniff(P, fixtures / "signal_text/sigexport_chat.txt", "chat.md") == 0
    # the same bracketed ISO shape from WhatsApp (iOS, English UI, Swedish region) is still WhatsApp
    assert sniff(P, fixtures / "whatsapp/sv_ios_iso.txt") >= 0.9
    msgs = messages(run_parser(P, fixtures / "whatsapp/sv_ios_iso.txt"))
    assert _kinds(msgs) == [("system", None), ("text", "Erik"), ("media", "Erik")]


@pytest.mark.parametrize(
    "name, head, line, parser_name",
    [
        (
            "result.json",
            '{\n "personal_information": {"first_name": "නුවන්"},\n "chats": {"list": [\n',
            '  {"type": "message", "text": "මගේ පාස්පෝට් එක அவர்கள் எடுத்தார்கள்"},\n',
            "telegram-json",
        ),
        ("contacts.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\n", "NOTE:මගේ පාස්පෝට් එක அவர்கள்\r\n", "vcard"),
        (
            "sms-20240420.xml",
            "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<smses count=\"9999\">\n",
            '  <sms address="+94771234567" date="1713600000000" type="1" body="පාස්පෝට් එක அவர்கள்" />\n',
            "sms-backup-xml",
        ),
    ],
)
def test_every_text_sniff_survives_a_cut_character(tmp_path, name, head, line, parser_name):
    """The sniffs that read Probe.text (JSON, vCard, XML…) see the real text when the 64 KiB head
    ends inside a character, instead of UTF-16 garbage."""
    from casegraph.ingest.detect import detect

    data = head.encode() + line.encode() * (HEAD_BYTES // len(line.encode()) + 2)
    while (data[HEAD_BYTES] & 0xC0) != 0x80:
        data = b" " + data
    p = tmp_path / name
    p.write_bytes(data)
    assert Probe.of(p).text.lstrip().startswith(head.strip()[:5])
    found = detect(p)
    assert found is not None and found.name == parser_name


@pytest.mark.parametrize("end", [b"\r", b"\n", "\u2028".encode()])
def test_huge_line_with_any_line_end_is_cut_in_bounded_memory(tmp_path, end):
    p = tmp_path / "huge.txt"
    p.write_bytes(b"12/03/2024, 14:23 - A: " + b"x" * (6 << 20) + end + b"13/03/2024, 14:24 - B: after" + end)
    recs = run_parser(P, p)
    assert [m.sender_name for m in messages(recs)] == ["A", "B"]
    assert messages(recs)[1].text == "after"
    assert any("kept the first" in i.message for i in issues(recs, "warning"))


def test_new_header_forms_with_a_dash_in_the_text(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("13.06.18 21.25.15: a: 5 - 6 people\n13. 6. 2018. 21:26:00 b: Colombo - Dubai\n")
    msgs = messages(run_parser(P, p))
    assert [(m.sender_name, m.text) for m in msgs] == [("a", "5 - 6 people"), ("b", "Colombo - Dubai")]


def test_same_records_with_or_without_the_read_ahead_thread(fixtures, monkeypatch):
    import casegraph.parsers.whatsapp.parser as wp

    path = fixtures / "whatsapp/en_ios_group.txt"
    monkeypatch.setattr(wp.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    threaded = run_parser(P, path)
    monkeypatch.setattr(wp.os, "getloadavg", lambda: (99.0, 99.0, 99.0))
    assert run_parser(P, path) == threaded


@pytest.mark.parametrize(
    "line, expected",
    [
        # the date formats Pustur/whatsapp-chat-parser tests/parser.test.ts lists as found in real chats
        ("3/6/18, 1:55 p.m. - a: m", datetime(2018, 6, 3, 13, 55)),
        ("03-06-2018, 01.55 PM - a: m", datetime(2018, 6, 3, 13, 55)),
        ("13.06.18 21.25.15: a: m", datetime(2018, 6, 13, 21, 25, 15)),
        ("[06.13.18 21:25:15] a: m", datetime(2018, 6, 13, 21, 25, 15)),
        ("13.6.2018 klo 21.25.15 - a: m", datetime(2018, 6, 13, 21, 25, 15)),
        ("13. 6. 2018. 21:25:15 a: m", datetime(2018, 6, 13, 21, 25, 15)),
        ("[3/6/18 1:55:00 p. m.] a: m", datetime(2018, 6, 3, 13, 55)),
        ("\u200e[3/6/18 1:55:00 p. m.] a: m", datetime(2018, 6, 3, 13, 55)),
        ("[2018/06/13, 21:25:15] a: m", datetime(2018, 6, 13, 21, 25, 15)),
        ("[06/2018/13, 21:25:15] a: m", datetime(2018, 6, 13, 21, 25, 15)),
    ],
)
def test_header_forms_under_a_given_day_first_order(tmp_path, line, expected):
    """Single lines cannot decide 3/6 against 6/3, so the examiner says DMY: year-first and
    year-in-the-middle lines still read by their four-digit year."""
    p = tmp_path / "chat.txt"
    p.write_text(line + "\n")
    (m,) = messages(run_parser(WhatsAppExport(date_order="DMY"), p))
    assert (m.ts, m.sender_name, m.text) == (expected, "a", "m")
    assert sniff(P, p) >= 0.9


def test_ios_encryption_notice_under_the_contacts_name_is_not_theirs(tmp_path):
    """iOS writes the notice with the other party as author in a one-to-one chat, without U+200E in
    older exports (AyazKhuraishi/whatsapp-export-inconsistencies inconsistencies-messages/system-messages.md)."""
    p = tmp_path / "_chat.txt"
    p.write_text(
        "[1.1.2019, 12.00.00] Jane Doe: Messages to this chat and calls are now secured with end-to-end encryption.\n"
        "[1.1.2019, 12.01.00] Jane Doe: is this chat end-to-end encrypted?\n"
        "[1.1.2019, 12.02.00] Jane Doe: \u200eYour security code with John Doe changed.\n"
    )
    msgs = messages(run_parser(P, p))
    assert [(m.kind, m.sender_name) for m in msgs] == [("system", None), ("text", "Jane Doe"), ("system", None)]
    assert [m.extra.get("event") for m in msgs] == ["encryption-notice", None, "security-code-changed"]
    assert msgs[0].extra["shown_as"] == "Jane Doe"


def test_bad_utf16_is_noted_by_line(tmp_path):
    p = tmp_path / "chat.txt"
    good = "12/03/2024, 14:23 - Kasun: ok\n".encode("utf-16-le")
    p.write_bytes(b"\xff\xfe" + good + "13/03/2024, 14:23 - Nuwan: x".encode("utf-16-le") + b"\x00\xd8" + "\n".encode("utf-16-le"))
    recs = run_parser(P, p)
    assert [m.sender_name for m in messages(recs)] == ["Kasun", "Nuwan"]
    assert [i.prov.locator for i in issues(recs, "warning") if "UTF-16" in i.message] == ["line:2"]


def test_four_digit_years_in_two_places_are_flagged(tmp_path):
    p = tmp_path / "chat.txt"
    p.write_text("2024-03-12 10:00 - a: iso\n13/03/2024, 10:00 - b: day first\n")
    recs = run_parser(P, p)
    (err,) = issues(recs, "error")
    assert "mixes date layouts" in err.message and "line 2 has 13/03/2024" in err.message
    assert any(w.prov.locator == "line:2" for w in issues(recs, "warning"))
    assert [m.ts for m in messages(recs)] == [datetime(2024, 3, 12, 10), datetime(2024, 3, 13, 10)]  # each by its own layout


@pytest.mark.parametrize(
    "text",
    [
        # sigtop's short text format (tbvdm/sigtop: "date time name: text")
        "2024-05-02 21:10 Rizwan: Passport eka gennanna.\n2024-05-02 21:11 You: hari\n",
        # an IRC-style Signal text export: "[Mon DD, YYYY HH:MM:SS] <name> text"
        "[May 02, 2024 21:10:03] <Rizwan> Passport eka gennanna.\n[May 02, 2024 21:11:40] <Nuwan> hari\n",
        # sigexport's Markdown with a reply quote
        "[2024-05-02 21:10:03] Rizwan: Passport eka  \n\n[2024-05-02 21:12:00] Rizwan: \n\n> hari\n\nGood  \n",
    ],
)
def test_other_signal_text_shapes_are_not_whatsapp(tmp_path, text):
    p = tmp_path / "Rizwan.txt"
    p.write_text(text)
    assert sniff(P, p) == 0


def _by_type(recs):
    out: dict = {}
    for r in recs:
        out.setdefault(type(r).__name__, []).append(r)
    return out


@pytest.mark.parametrize("block", [64, 150, 333, 450])
def test_chunked_and_parallel_reading_give_the_records_of_one_block(fixtures, monkeypatch, block):
    """Blocks of a few bytes cut the file inside multi-line messages (and inside CRLFs); the runs
    are then prepared in threads or in line: the records must be those of one single block."""
    import functools

    import casegraph.parsers.whatsapp.parser as wp
    from casegraph.parsers.base import decide_encoding
    from casegraph.parsers.whatsapp import records, text

    path = fixtures / "whatsapp/de_ios_multiline.txt"
    redone = []
    classify = records._classify
    monkeypatch.setattr(records, "_classify", lambda m, before: redone.append(bool(before)) or classify(m, before))

    def read(size, load):
        monkeypatch.setattr(wp, "blocks", functools.partial(text.blocks, block=size))
        monkeypatch.setattr(wp.os, "getloadavg", lambda: (load, load, load))
        return run_parser(P, path)

    whole = read(1 << 30, 99.0)
    inline, threaded = read(block, 99.0), read(block, 0.0)
    assert threaded == inline
    assert _by_type(inline) == _by_type(whole)  # batches split differently, so compare per record type
    msgs = messages(whole)
    assert len(msgs) == 18
    # the two header-shaped lines pasted into Nimal's message (01.08.21, in their own order) are both his text
    assert msgs[6].text.endswith("[01.08.21, 09:05:00] Abflug nach Dubai") and msgs[6].prov.locator == "line:10-13"
    assert msgs[3].text == "Die Agentur will die Gebühr vorher:\n250.000 LKR bar\nder Rest nach dem Visum\nNummer vom Agenten 077 123 4567"
    assert [m.kind for m in msgs].count("media") == 6 and sum(m.kind == "deleted" for m in msgs) == 1
    # the cuts really fall inside multi-line messages
    data = path.read_bytes()
    firsts = [first for first, _, _ in text.blocks(io.BytesIO(data), decide_encoding(data), block=block)]
    spans = [tuple(map(int, m.prov.locator[5:].split("-"))) for m in msgs if "-" in m.prov.locator]
    assert any(a < f <= b for f in firsts for a, b in spans)
    if block <= 150:
        assert any(redone)  # a U+200E line of a name that wrote in an earlier run was reclassified in order


@pytest.mark.parametrize("block", [40, 1 << 20])
def test_a_pasted_block_of_header_shaped_lines_stays_in_its_message(tmp_path, block, monkeypatch):
    """A forwarded note pasted into a message, itself made of header-shaped lines with no author and
    in their own (earlier) order, is one message's text: none of its lines becomes a system event
    dated when the pasted text was. The line shapes are Android's ("15/03/2024, 10:15 - ") as in
    lucasrodes/whatstk's header_format_support.json; a genuine author-less line later than the last
    message stays a line of its own."""
    import functools

    import casegraph.parsers.whatsapp.parser as wp
    from casegraph.parsers.whatsapp import text

    monkeypatch.setattr(wp, "blocks", functools.partial(text.blocks, block=block))
    chat = (
        "15/03/2024, 10:15 - Nimal: Agent sent this, read it\n"
        "13/03/2024, 09:00 - පාස්පෝට් එක ඒජන්සියට දෙන්න\n"
        "13/03/2024, 09:05 - கட்டணம் 250000 ரூபாய்\n"
        "13/03/2024, 09:10 - Flight on Friday\n"
        "15/03/2024, 10:16 - Kasun: ok\n"
        "15/03/2024, 10:20 - Some unknown notice without an author\n"
        "15/03/2024, 10:21 - Kasun: 👍\n"
    )
    path = tmp_path / "WhatsApp Chat with Nimal.txt"
    path.write_text(chat, encoding="utf-8")
    msgs = messages(run_parser(P, path))
    assert [m.text.split("\n")[0] for m in msgs] == [
        "Agent sent this, read it",
        "ok",
        "Some unknown notice without an author",
        "👍",
    ]
    assert msgs[0].text.count("\n") == 3 and msgs[0].text.endswith("13/03/2024, 09:10 - Flight on Friday")
    assert msgs[0].prov.locator == "line:1-4"
    assert all(m.ts.date().isoformat() == "2024-03-15" for m in msgs)
