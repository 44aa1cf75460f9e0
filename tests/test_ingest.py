"""Format detection over every fixture, and ingest into the store: provenance, idempotency, rollback."""

import re
from pathlib import Path

import pytest

from casegraph.ingest.detect import scores
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.pipeline import parse_exhibit

FIX = Path(__file__).parent / "fixtures"
EXPECTED = {
    "whatsapp/android_dmy_24h.txt": "whatsapp-export",
    "whatsapp/ios_chat.txt": "whatsapp-export",
    "telegram/result.json": "telegram-json",
    "telegram/single_chat.json": "telegram-json",
    "meta/message_1.json": "meta-dyi",
    "meta/instagram-priya_s-2024-05-01.zip": "meta-dyi",
    "sms/sms-20240420.xml": "sms-backup-xml",
    "sms/calls-20240420.xml": "sms-backup-xml",
    "vcard/contacts.vcf": "vcard",
}


@pytest.mark.parametrize("rel, parser", sorted(EXPECTED.items()))
def test_each_fixture_is_claimed_by_exactly_one_parser(rel, parser):
    claims = [(s, p.name) for s, p in scores(FIX / rel) if s >= 0.5]
    assert [name for _, name in claims] == [parser], claims


def test_ingest_is_idempotent_and_traceable(case):
    sha = add_evidence(case, FIX / "whatsapp/android_dmy_24h.txt", "P1").sha256
    first = parse_exhibit(case, sha)
    assert first.status == "complete" and first.records["messages"] == 12
    assert parse_exhibit(case, sha).status == "skipped"
    again = parse_exhibit(case, sha, force=True)
    assert again.records == first.records
    assert case.store.count("messages") == 12  # forced re-parse replaced, not duplicated
    row = case.store.rows("SELECT * FROM messages WHERE text LIKE 'Hello%'")[0]
    assert (row["exhibit_sha256"], row["parser"], row["locator"]) == (sha, "whatsapp-export", "line:2")
    assert row["tz_basis"] == "case-timezone:Asia/Colombo" and row["utc_offset"] == "+05:30"
    actions = [e["action"] for e in case.custody.events()]
    assert actions.count("parse-start") == 2 and actions.count("parse") == 2
    run = case.store.rows("SELECT * FROM parse_runs")[0]
    parse_event = [e for e in case.custody.events() if e["action"] == "parse"][-1]
    assert run["custody_event_hash"] == parse_event["hash"] and run["output_sha256"] == parse_event["outputs"][0]["sha256"]


def test_parser_options_change_output_and_are_logged(case):
    sha = add_evidence(case, FIX / "whatsapp/ambiguous.txt", "P1").sha256
    parse_exhibit(case, sha)
    assert case.store.count("messages", "WHERE ts_local IS NULL") == 2
    parse_exhibit(case, sha, force=True, options={"date_order": "MDY"})
    assert case.store.count("messages", "WHERE ts_local IS NULL") == 0
    assert case.custody.events()[-1]["details"]["options"] == {"date_order": "MDY"}
    with pytest.raises(ValueError, match="takes no option colour"):
        parse_exhibit(case, sha, force=True, options={"colour": "red"})


def test_interrupted_ingest_leaves_no_rows(case, monkeypatch):
    sha = add_evidence(case, FIX / "whatsapp/android_dmy_24h.txt", "P1").sha256
    from casegraph.ingest import pipeline

    def boom(*a, **k):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(pipeline, "_flush", boom)
    with pytest.raises(KeyboardInterrupt):
        parse_exhibit(case, sha)
    assert case.store.count("messages") == 0 and case.store.count("parse_runs") == 0
    assert case.custody.events()[-1]["action"] == "parse-start"  # the attempt stays on record
    monkeypatch.undo()
    assert parse_exhibit(case, sha).status == "complete"


def test_corrupt_exhibit_is_partial_with_a_clear_issue(case, tmp_path):
    bad = tmp_path / "msgstore.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    sha = add_evidence(case, bad, "P1").sha256
    out = parse_exhibit(case, sha, "whatsapp-msgstore")
    assert out.status == "partial" and out.issues == 1
    msg = case.store.rows("SELECT message FROM parse_issues")[0]["message"]
    assert "msgstore.db" in msg and "not a readable SQLite database" in msg


def test_unknown_format_is_reported(case, tmp_path):
    f = tmp_path / "mystery.bin"
    f.write_bytes(b"\x00\x01\x02 nothing anyone knows")
    sha = add_evidence(case, f, "X1").sha256
    out = parse_exhibit(case, sha)
    assert out.status == "unrecognised" and "mystery.bin" in out.message


# A bank's listing of transfers with both ends and a currency on every row. Shape: PrasantiNalla/SupportBank
# TransactionJson.cs (Date, FromAccount, ToAccount, Narrative, Amount per transfer) and jsmitrah/bai2-parser
# models/bai2-flat-transaction.model.ts (Currency and BankReference per transaction); written here in the
# bank-ledger profile's headers, with a UTF-8 BOM, narrations in Sinhala, Tamil and English, cells padded
# with spaces, a tab, no-break and ideographic spaces, a thousands separator, a bracketed negative, an
# 18-place amount and an empty narration.
LEDGER = FIX / "finance/bank_ledger_multicurrency_si_ta.csv"


def _plain_path(m: pytest.MonkeyPatch) -> None:
    """The conversion and segment writing without the speed-ups: every column joined and trimmed by the
    kernel, locators cast and joined, each batch encoded before write() returns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from casegraph import segments
    from casegraph.parsers import transaction_table
    from casegraph.parsers.tables import convert

    m.setattr(convert, "_trim", lambda a, ascii: (pc.ascii_trim_whitespace if ascii else pc.utf8_trim_whitespace)(a))
    m.setattr(convert, "_one_array", lambda column: column.combine_chunks())
    m.setattr(
        transaction_table,
        "numbered",
        lambda prefix, start, n: pc.binary_join_element_wise(prefix, pa.array(range(start, start + n), pa.int64()).cast(pa.string()), ""),
    )
    m.setattr(segments, "WRITE_AHEAD", 0)


def _ingested(folder: Path, source: Path):
    from casegraph.case import Case

    with Case.create(folder, "HTS/TEST/2", "IP Test Examiner") as c:
        sha = add_evidence(c, source, "B1").sha256
        first = parse_exhibit(c, sha)
        assert first.status == "complete"
        tx = c.store.con.sql("SELECT * REPLACE (CAST(extra AS VARCHAR) AS extra) FROM transactions").to_arrow_table()
        issues = c.store.con.sql("SELECT severity, message, locator FROM parse_issues").to_arrow_table()
        segment = c.store.one("SELECT sha256 FROM segments")[0]
        assert parse_exhibit(c, sha).status == "skipped"
        again = parse_exhibit(c, sha, force=True)  # a re-run replaces its segment with the same bytes
        assert again.records == first.records and c.store.count("transactions") == tx.num_rows
        assert c.store.one("SELECT sha256 FROM segments")[0] == segment
        return tx, issues, segment


@pytest.mark.parametrize("ascii", [False, True], ids=["utf8-si-ta", "ascii"])
def test_fast_ingest_stores_exactly_what_the_plain_path_stores(tmp_path, monkeypatch, ascii):
    import duckdb

    source = LEDGER
    if ascii:  # the same ledger in ASCII (Unicode spaces as spaces, other letters as x): the ASCII kernels' path
        text = LEDGER.read_text(encoding="utf-8-sig").replace("\u00a0", " ").replace("\u3000", " ")
        source = tmp_path / "ledger_ascii.csv"
        source.write_text(re.sub(r"[^\x00-\x7f]+", "x", text), encoding="ascii")
    fast, fast_issues, fast_segment = _ingested(tmp_path / "fast", source)
    with monkeypatch.context() as m:
        _plain_path(m)
        plain, plain_issues, plain_segment = _ingested(tmp_path / "plain", source)
    con = duckdb.connect()
    for a, b in ((fast, plain), (plain, fast), (fast_issues, plain_issues), (plain_issues, fast_issues)):
        con.register("a", a)
        con.register("b", b)
        assert con.execute("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchall() == [(0,)]
    assert fast.num_rows == plain.num_rows == 10
    assert fast_segment == plain_segment  # the same bytes, too
    assert set(fast.column("currency").to_pylist()) == {"LKR", "USD", "EUR", "JPY", "ETH"}
    narrations = dict(zip(fast.column("reference").to_pylist(), fast.column("description").to_pylist(), strict=True))
    assert narrations["FT24063005"] == "SEPA credit" and narrations["FT24063006"] == "" and narrations["FT24063009"] == ""
    if not ascii:
        assert narrations["FT24063002"] == "ගෙවීම - මව්ට" and narrations["FT24063003"] == "வீட்டு வாடகை, மார்ச்"
