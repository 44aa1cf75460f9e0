"""Dates stay dates; DST folds and gaps are flagged with both readings; one way of showing a time."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from casegraph.model import Batch, Message, Provenance, Transaction, constant
from casegraph.store import CaseStore, TimeNormaliser
from casegraph.times import show_row, show_time, time_sql

SHA = "ab" * 32


def _store(tmp_path, zone):
    return CaseStore(tmp_path / f"{zone.replace('/', '_')}.duckdb", TimeNormaliser(ZoneInfo(zone), zone))


def _tx(locator, ts, seq=None):
    return Transaction(prov=Provenance(SHA, "test-parser", "1", locator), rail="bank", ts=ts, amount=Decimal(1), currency="LKR", seq=seq)


def _batch(ts: pa.Array) -> Batch:
    n = len(ts)
    return Batch(
        "transactions",
        pa.table(
            {
                "rail": constant("bank", n),
                "ts": ts,
                "amount": pa.array([Decimal(1)] * n, pa.decimal128(38, 18)),
                "seq": pa.array(range(1, n + 1), pa.int64()),
                "exhibit_sha256": constant(SHA, n),
                "parser": constant("bulk-parser", n),
                "parser_version": constant("1", n),
                "locator": pa.array([f"row:{i + 1}" for i in range(n)]),
            }
        ),
    )


TIMES = "locator, ts_local, ts_utc, utc_offset, tz_basis, ts_precision, seq"


@pytest.mark.parametrize("bulk", [False, True])
def test_a_date_without_a_time_is_kept_as_a_date(tmp_path, bulk):
    s = _store(tmp_path, "Asia/Colombo")
    if bulk:
        s.write([_batch(pa.array([date(2024, 3, 3), None], pa.date32()))])
    else:
        s.write([_tx("row:1", date(2024, 3, 3), 1), _tx("row:2", None, 2)])
    rows = {r["locator"]: r for r in s.rows(f"SELECT {TIMES}, {time_sql()} AS shown FROM transactions")}
    r = rows["row:1"]
    assert r["ts_precision"] == "day" and r["ts_local"] == datetime(2024, 3, 3) and r["seq"] == 1
    # the start of the local day, for ordering only: 2024-03-02 18:30 UTC is never shown
    assert r["ts_utc"] == datetime(2024, 3, 2, 18, 30, tzinfo=UTC)
    assert show_row(r) == r["shown"] == "2024-03-03 (date only)"
    assert rows["row:2"]["ts_precision"] is None and rows["row:2"]["shown"] == "no time"


def test_times_show_local_with_offset_beside_utc(tmp_path):
    s = _store(tmp_path, "Asia/Colombo")
    s.write(
        [
            Message(prov=Provenance(SHA, "p", "1", f"line:{i}"), platform="x", ts=ts)
            for i, ts in enumerate([datetime(2024, 4, 15, 9, 14), datetime(2024, 4, 15, 3, 44, tzinfo=UTC), datetime(2024, 4, 15, 2, 0)])
        ]
    )
    shown = {
        r["locator"]: (r["shown"], show_row(r))
        for r in s.rows(f"SELECT locator, ts_local, ts_utc, utc_offset, tz_basis, ts_precision, {time_sql()} AS shown FROM messages")
    }
    assert shown["line:0"] == ("2024-04-15 09:14 +05:30 (03:44 UTC)",) * 2
    assert shown["line:1"] == ("2024-04-15 03:44 UTC",) * 2
    assert shown["line:2"] == ("2024-04-15 02:00 +05:30 (2024-04-14 20:30 UTC)",) * 2
    assert show_time(datetime(2024, 4, 15, 9, 14)) == "2024-04-15 09:14 (local; zone unknown)"


# (zone, wall time, kind, chosen offset, other offset, UTC stored)
DST = [
    ("Europe/London", datetime(2024, 3, 31, 1, 30), "nonexistent", "+00:00", "+01:00", datetime(2024, 3, 31, 1, 30)),
    ("Europe/London", datetime(2024, 10, 27, 1, 30), "ambiguous", "+01:00", "+00:00", datetime(2024, 10, 27, 0, 30)),
    ("Europe/Berlin", datetime(2024, 3, 31, 2, 15), "nonexistent", "+01:00", "+02:00", datetime(2024, 3, 31, 1, 15)),
    ("Europe/Berlin", datetime(2024, 10, 27, 2, 45), "ambiguous", "+02:00", "+01:00", datetime(2024, 10, 27, 0, 45)),
]


@pytest.mark.parametrize("bulk", [False, True])
@pytest.mark.parametrize("zone,wall,kind,chosen,other,utc", DST)
def test_dst_fold_and_gap_are_flagged_with_both_candidates(tmp_path, bulk, zone, wall, kind, chosen, other, utc):
    s = _store(tmp_path, zone)
    ordinary = datetime(2024, 6, 1, 12, 0)
    if bulk:
        s.write([_batch(pa.array([ordinary, wall], pa.timestamp("us")))])
    else:
        s.write([_tx("row:1", ordinary), _tx("row:2", wall)])
    rows = {r["locator"]: r for r in s.rows(f"SELECT {TIMES}, {time_sql()} AS shown FROM transactions")}
    r = rows["row:2"]
    assert r["tz_basis"] == f"case-timezone:{zone};{kind}:{chosen}|{other}"
    assert r["utc_offset"] == chosen and r["ts_utc"] == utc.replace(tzinfo=UTC) and r["ts_local"] == wall
    assert rows["row:1"]["tz_basis"] == f"case-timezone:{zone}"
    assert show_row(r) == r["shown"] and f"or {other}: DST {'fold' if kind == 'ambiguous' else 'gap'}" in r["shown"]
    issues = s.rows("SELECT locator, severity, message FROM parse_issues")
    assert [(i["locator"], i["severity"]) for i in issues] == [("row:2", "warning")]
    assert chosen in issues[0]["message"] and other in issues[0]["message"] and zone in issues[0]["message"]
    assert s.time_issues == 1


@pytest.mark.parametrize("bulk", [False, True])
def test_a_zone_without_dst_flags_nothing(tmp_path, bulk):
    s = _store(tmp_path, "Asia/Dubai")
    walls = [datetime(2024, 3, 31, 1, 30), datetime(2024, 10, 27, 1, 30), datetime(2024, 3, 10, 2, 30)]
    s.write([_batch(pa.array(walls, pa.timestamp("us")))] if bulk else [_tx(f"row:{i + 1}", w) for i, w in enumerate(walls)])
    assert {r[0] for r in s.con.execute("SELECT DISTINCT tz_basis FROM transactions").fetchall()} == {"case-timezone:Asia/Dubai"}
    assert s.count("parse_issues") == 0


def test_many_dst_times_are_counted_not_listed_without_bound(tmp_path):
    s = _store(tmp_path, "Europe/London")
    s.write([_batch(pa.array([datetime(2024, 10, 27, 1, m % 60) for m in range(250)] + [datetime(2024, 6, 1)], pa.timestamp("us")))])
    issues = s.rows("SELECT locator, message FROM parse_issues ORDER BY message")
    assert len(issues) == 101 and any(i["message"].startswith("150 more local time(s)") for i in issues)
    assert s.count("transactions", "WHERE tz_basis LIKE '%;ambiguous:%'") == 250


def test_old_segments_without_the_new_columns_still_read(tmp_path):
    """A case written before ts_precision and seq existed: its segments read them as NULL."""
    import pyarrow.parquet as pq

    s = _store(tmp_path, "Asia/Colombo")
    with s.transaction():
        s.write([_batch(pa.array([datetime(2024, 4, 1, 9, 0)], pa.timestamp("us")))])
    (name,) = s.one("SELECT file FROM segments")
    path = s.segments_dir / name
    old = pq.read_table(path)
    pq.write_table(old.drop_columns(["ts_precision", "seq"]), path)
    s.close()
    s = CaseStore(tmp_path / "Asia_Colombo.duckdb")
    assert s.rows("SELECT ts_precision, seq, amount FROM transactions") == [{"ts_precision": None, "seq": None, "amount": Decimal(1)}]


@pytest.mark.parametrize("bulk", [False, True])
def test_a_date_whose_midnight_falls_in_a_dst_gap_is_not_flagged_as_a_time(tmp_path, bulk):
    # Chile moved its clocks at midnight: 2024-09-08 00:00 did not exist in America/Santiago
    s = _store(tmp_path, "America/Santiago")
    days = [date(2024, 6, 1), date(2024, 9, 8)]
    s.write([_batch(pa.array(days, pa.date32()))] if bulk else [_tx(f"row:{i + 1}", d) for i, d in enumerate(days)])
    assert s.count("parse_issues") == 0
    assert {r[0] for r in s.con.execute("SELECT DISTINCT tz_basis FROM transactions").fetchall()} == {"case-timezone:America/Santiago"}
    assert s.rows(f"SELECT {time_sql()} AS t FROM transactions WHERE locator = 'row:2'") == [{"t": "2024-09-08 (date only)"}]


def test_report_evidence_shows_the_statement_date(tmp_path):
    from casegraph.reports.content import _records

    s = _store(tmp_path, "Asia/Colombo")
    t = _tx("row:27", date(2024, 4, 15), 27)
    s.write([t])
    shown = _records(s, [{"table": "transactions", "record": t.id}])[t.id]
    assert shown["time"] == "2024-04-15 (date only)"
    assert shown["ts"] == "2024-04-15T12:00:00+00:00"  # on its own date on the report's UTC timeline


def test_ftm_payment_date_is_the_statement_date(tmp_path):
    from casegraph.graph.export import _ftm_date

    assert _ftm_date({"ts_precision": "day", "ts_local": datetime(2024, 3, 3), "ts_utc": datetime(2024, 3, 2, 18, 30)}) == "2024-03-03"
    assert (
        _ftm_date({"ts_precision": None, "ts_local": datetime(2024, 4, 15, 9, 14), "ts_utc": datetime(2024, 4, 15, 3, 44, tzinfo=UTC)})
        == "2024-04-15T03:44:00"
    )
