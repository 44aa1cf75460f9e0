"""The columnar mention scan (used by the WhatsApp parser) finds exactly what the per-text `find` finds.

Texts in the shapes seen in real chats: Sri Lankan numbers written every way, a Saudi number typed in
Arabic-Indic digits (apps that take phone input convert "٠٥٥١٢٣٤٥٦٧" to Latin digits before
validating it, so people do type it so), Sinhala and Tamil text around identifiers, bank account
numbers after a bank's name, NICs, wallets, emails, usernames.
"""

from __future__ import annotations

import pyarrow as pa
from parse_helpers import identifiers, run_parser

from casegraph.parsers import mentions
from casegraph.parsers.whatsapp_export import WhatsAppExport

TEXTS = [
    "call me 077 123 4567 or +94 (0)71 555 0199",
    "අංකය 0771234567 ට කතා කරන්න",
    "இந்த எண் 0094 77 123 4567 அழைக்கவும்",
    "رقمي +٩٦٦٥٥١٢٣٤٥٦٧ و ٠٧٧١٢٣٤٥٦٧ اتصل",  # Arabic-Indic digits: RE2's \d would skip this row
    "Pay to BOC Acc No 0081234567 today",
    "Commercıal Bank 1234567",  # dotless i: Python's (?i) folds it, RE2's does not
    "Sampath Bank: 1002 3456 7890",
    "NIC 851234567V and 198512304567, bad 199037012345",
    "send USDT to TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t or 0x52908400098527886E0F7030069857D2E4169EE7",
    "btc bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq / 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "mail agent.lk@gmail.com, insta @nuwan_agent, IBAN GB82 WEST 1234 5698 7654 32",
    "LKR 450,000 450,000 account ticket",
    "12/03/2024 10:00 ref 12-34-56",
    "",
    None,
    "nothing here",
]


def test_column_scan_equals_per_text_find():
    found = mentions.find_column(pa.array(TEXTS, pa.string()))
    got = list(zip(found.rows, found.kinds, found.values, found.spans, strict=True))
    want = [(row, *hit) for row, t in enumerate(TEXTS) for hit in mentions.find(t)]
    assert got == want
    assert {(k, v) for r, k, v, _ in got if r == 3} == {("phone", "+٩٦٦٥٥١٢٣٤٥٦٧"), ("phone", "٠٧٧١٢٣٤٥٦٧")}
    assert any(kind == "bank-account" and row == 5 for row, kind, *_ in got)


def test_column_scan_rows_limit():
    found = mentions.find_column(pa.array(TEXTS, pa.string()), rows=[0, 4])
    assert sorted(set(found.rows)) == [0, 4]


def test_whatsapp_mentions_in_arabic_indic_digits(tmp_path):
    chat = tmp_path / "WhatsApp Chat with Agent.txt"
    chat.write_text("12/03/2024, 14:23 - Agent: رقمي +٩٦٦٥٥١٢٣٤٥٦٧ اتصل\n12/03/2024, 14:25 - Agent: ok 077 123 4567\n", encoding="utf-8")
    ids = {(i.kind, i.value, i.role) for i in identifiers(run_parser(WhatsAppExport(), chat))}
    assert ("phone", "+٩٦٦٥٥١٢٣٤٥٦٧", "mentioned") in ids  # missed before: the prefilter's \d was ASCII in RE2
    assert ("phone", "077 123 4567", "mentioned") in ids
