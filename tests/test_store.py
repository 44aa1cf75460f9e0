from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from casegraph.model import Identifier, Message, Provenance, Transaction
from casegraph.store import CaseStore, TimeNormaliser


def _msg(locator, **kw):
    return Message(prov=Provenance("ab" * 32, "test-parser", "1", locator), platform="whatsapp", **kw)


@pytest.fixture
def store(tmp_path):
    s = CaseStore(tmp_path / "s.duckdb", TimeNormaliser(ZoneInfo("Asia/Colombo"), "Asia/Colombo"))
    yield s
    s.close()


def test_every_record_table_has_provenance_columns(store):
    for table in ("messages", "calls", "contacts", "transactions", "identifiers", "ocr_text", "parse_issues"):
        cols = {r[0] for r in store.con.execute(f"DESCRIBE {table}").fetchall()}
        assert {"id", "exhibit_sha256", "parser", "parser_version", "locator"} <= cols, table


def test_a_run_replaces_what_it_wrote_before(store):
    recs = [_msg(f"line:{i}", text=f"m{i}") for i in range(10)]
    for _ in range(3):
        with store.transaction():
            store.clear("ab" * 32, "test-parser")
            store.write(recs)
    assert store.count("messages") == 10
    assert store.count("messages", "WHERE id = ?", [recs[3].id]) == 1
    other = Message(prov=Provenance("cd" * 32, "test-parser", "1", "line:1"), platform="sms")
    store.write([other])
    store.clear("ab" * 32, "test-parser")
    assert [r["exhibit_sha256"] for r in store.rows("SELECT exhibit_sha256 FROM messages")] == ["cd" * 32]


def test_interrupted_write_rolls_back(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.write([_msg("line:1", text="a")])
            raise RuntimeError("power cut")
    assert store.count("messages") == 0


def test_times_keep_their_basis(store):
    store.write([
        _msg("line:1", ts=datetime(2024, 3, 14, 9, 12)),  # wall clock, no zone: case zone applied and said so
        _msg("line:2", ts=datetime(2024, 3, 14, 3, 42, tzinfo=timezone.utc)),
        _msg("line:3", ts=datetime(2024, 3, 14, 9, 12, tzinfo=timezone(timedelta(hours=8)))),
        _msg("line:4"),
    ])
    rows = {r["locator"]: r for r in store.rows("SELECT locator, ts_local, ts_utc, utc_offset, tz_basis FROM messages")}
    assert rows["line:1"]["tz_basis"] == "case-timezone:Asia/Colombo" and rows["line:1"]["utc_offset"] == "+05:30"
    assert rows["line:1"]["ts_utc"] == rows["line:2"]["ts_utc"]
    assert rows["line:3"]["utc_offset"] == "+08:00" and rows["line:3"]["tz_basis"] == "source"
    assert rows["line:4"]["ts_utc"] is None and rows["line:4"]["tz_basis"] == "none"


def test_unknown_zone_is_not_guessed(tmp_path):
    s = CaseStore(tmp_path / "n.duckdb")
    s.write([_msg("line:1", ts=datetime(2024, 3, 14, 9, 12))])
    row = s.rows("SELECT ts_local, ts_utc, tz_basis FROM messages")[0]
    assert row["ts_utc"] is None and row["tz_basis"] == "unknown" and row["ts_local"] == datetime(2024, 3, 14, 9, 12)


def test_amounts_are_exact_and_several_identifiers_share_a_locator(store):
    p = Provenance("cd" * 32, "bank", "1", "line:7")
    store.write([Transaction(prov=p, rail="bank", amount=Decimal("999999.99"), currency="LKR"),
                 Identifier(prov=p, kind="phone", value="+94771234567"),
                 Identifier(prov=p, kind="phone", value="+94711234567")])
    assert store.rows("SELECT amount FROM transactions")[0]["amount"] == Decimal("999999.99")
    assert store.count("identifiers") == 2


def test_the_store_derives_the_same_ids_as_the_records(store):
    p = Provenance("ef" * 32, "parser-x", "2", "json:/a/0")
    recs = [_msg("line:9"), Identifier(prov=p, kind="phone", value="+94771234567", role="sender"),
            Transaction(prov=p, rail="bank", amount=Decimal(1))]
    from casegraph.model import ParseIssue
    recs.append(ParseIssue(prov=p, message="a problem"))
    store.write(recs)
    for r in recs:
        assert store.count(r.table, "WHERE id = ?", [r.id]) == 1, r.table
