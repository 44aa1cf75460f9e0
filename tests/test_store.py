import threading
from datetime import UTC, datetime, timedelta, timezone
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
    with pytest.raises(RuntimeError), store.transaction():
        store.write([_msg("line:1", text="a")])
        raise RuntimeError("power cut")
    assert store.count("messages") == 0


def test_times_keep_their_basis(store):
    store.write(
        [
            _msg("line:1", ts=datetime(2024, 3, 14, 9, 12)),  # wall clock, no zone: case zone applied and said so
            _msg("line:2", ts=datetime(2024, 3, 14, 3, 42, tzinfo=UTC)),
            _msg("line:3", ts=datetime(2024, 3, 14, 9, 12, tzinfo=timezone(timedelta(hours=8)))),
            _msg("line:4"),
        ]
    )
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
    store.write(
        [
            Transaction(prov=p, rail="bank", amount=Decimal("999999.99"), currency="LKR"),
            Identifier(prov=p, kind="phone", value="+94771234567"),
            Identifier(prov=p, kind="phone", value="+94711234567"),
        ]
    )
    assert store.rows("SELECT amount FROM transactions")[0]["amount"] == Decimal("999999.99")
    assert store.count("identifiers") == 2


def test_the_store_derives_the_same_ids_as_the_records(store):
    p = Provenance("ef" * 32, "parser-x", "2", "json:/a/0")
    recs = [
        _msg("line:9"),
        Identifier(prov=p, kind="phone", value="+94771234567", role="sender"),
        Transaction(prov=p, rail="bank", amount=Decimal(1)),
    ]
    from casegraph.model import ParseIssue

    recs.append(ParseIssue(prov=p, message="a problem"))
    store.write(recs)
    for r in recs:
        assert store.count(r.table, "WHERE id = ?", [r.id]) == 1, r.table


# -- columnar batches in Parquet segments ------------------------------------------------------


def _batch(sha, n, parser="bulk-parser", start=0):
    import pyarrow as pa

    from casegraph.model import Batch, constant, numbered

    return Batch(
        "transactions",
        pa.table(
            {
                "rail": constant("bank", n),
                "from_account": pa.array([f"A{i % 7}" for i in range(start, start + n)]),
                "to_account": pa.array([f"B{i % 5}" for i in range(start, start + n)]),
                "amount": pa.array([Decimal(i) / 100 for i in range(start, start + n)], pa.decimal128(38, 18)),
                "ts": pa.array([datetime(2024, 3, 1) + timedelta(minutes=i) for i in range(start, start + n)], pa.timestamp("us")),
                "exhibit_sha256": constant(sha, n),
                "parser": constant(parser, n),
                "parser_version": constant("1", n),
                "locator": numbered("row:", start + 1, n),
            }
        ),
    )


def _segment_files(store):
    return sorted(p.relative_to(store.segments_dir).as_posix() for p in store.segments_dir.rglob("*.parquet*"))


def test_batches_go_to_one_hashed_segment_per_run_and_read_back_exactly(store):
    from casegraph.ingest.hashing import sha256_file

    with store.transaction():
        store.clear("ab" * 32, "bulk-parser")
        store.write([_batch("ab" * 32, 1000), _batch("ab" * 32, 500, start=1000)])
        store.write([Transaction(prov=Provenance("ab" * 32, "row-parser", "1", "row:1"), rail="goaml", amount=Decimal("1.5"))])
    files = _segment_files(store)
    assert len(files) == 1 and files[0].startswith(f"transactions/exhibit_sha256={'ab' * 32}/parser=bulk-parser/parser_version=1/")
    reg = store.rows("SELECT * FROM segments")
    assert reg[0]["rows"] == 1500 and reg[0]["sha256"] == sha256_file(store.segments_dir / files[0])  # hashed as written
    assert store.count("transactions") == 1501
    row = store.rows("SELECT * FROM transactions WHERE locator = 'row:1234'")[0]
    assert row["id"] == f"transactions/{'ab' * 16}/bulk-parser/row:1234" and row["amount"] == Decimal("12.33")
    assert row["ts_utc"] == datetime(2024, 3, 1, 20, 33, tzinfo=UTC) - timedelta(hours=5, minutes=30)
    assert row["utc_offset"] == "+05:30" and row["parser_version"] == "1" and row["exhibit_sha256"] == "ab" * 32
    types = {r[0]: r[1] for r in store.con.execute("DESCRIBE transactions").fetchall()}
    assert types["amount"] == "DECIMAL(38,18)" and types["ts_utc"] == "TIMESTAMP WITH TIME ZONE" and types["extra"] == "JSON"


def test_rerun_replaces_its_segment_and_an_interrupted_one_leaves_nothing(store):
    for _ in range(2):
        with store.transaction():
            store.clear("ab" * 32, "bulk-parser")
            store.write([_batch("ab" * 32, 100)])
    assert store.count("transactions") == 100 and len(_segment_files(store)) == 1
    before = _segment_files(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.clear("ab" * 32, "bulk-parser")
        store.write([_batch("ab" * 32, 300)])
        raise RuntimeError("power cut mid-ingest")
    assert store.count("transactions") == 100 and _segment_files(store) == before  # the old run stands, no debris


def test_batches_encoded_on_the_writer_thread_give_the_bytes_of_a_serial_write(tmp_path, monkeypatch):
    from casegraph import segments

    digests = []
    for ahead in (0, segments.WRITE_AHEAD):  # 0: each batch encoded before write() returns, as before the thread
        monkeypatch.setattr(segments, "WRITE_AHEAD", ahead)
        s = CaseStore(tmp_path / f"s{ahead}.duckdb", TimeNormaliser(ZoneInfo("Asia/Colombo"), "Asia/Colombo"))
        with s.transaction():
            s.write([_batch("ab" * 32, 300 + i, start=1000 * i) for i in range(7)])  # more batches than wait at once
        digests.append(s.rows("SELECT sha256, rows FROM segments"))
        s.close()
    assert digests[0] == digests[1] and digests[0][0]["rows"] == sum(300 + i for i in range(7))


def test_a_write_that_fails_on_the_writer_thread_rolls_back_and_leaves_no_file(store, monkeypatch):
    from casegraph import segments

    real, written, failed_in = segments._Hashing.write, [], []

    def full_disk(self, data):
        if sum(written) + len(data) > 20_000:
            failed_in.append(threading.current_thread().name)
            raise OSError(28, "No space left on device")
        written.append(len(data))
        return real(self, data)

    monkeypatch.setattr(segments._Hashing, "write", full_disk)
    monkeypatch.setattr(segments, "SINK_BUFFER", 4096)  # bytes reach the file while batches are encoded on the thread
    with pytest.raises(OSError, match="No space left"), store.transaction():
        store.clear("ab" * 32, "bulk-parser")
        store.write([_batch("ab" * 32, 2000, start=2000 * i) for i in range(5)])
    assert store.count("segments") == 0 and _segment_files(store) == []
    assert store.count("transactions") == 0 and failed_in[0].startswith("casegraph-segment")


def test_files_no_commit_registered_are_swept_and_a_moved_case_still_reads(tmp_path):
    import shutil

    (tmp_path / "a").mkdir()
    s = CaseStore(tmp_path / "a" / "case.duckdb")
    s.write([_batch("cd" * 32, 50)])
    stray = s.segments_dir / "transactions" / "left-by-a-crash.parquet.tmp"
    stray.write_bytes(b"half a file")
    s.close()
    shutil.move(tmp_path / "a", tmp_path / "b")  # the case directory copied elsewhere: segment paths are relative
    with pytest.warns(UserWarning, match="removed 1 segment file"):
        s = CaseStore(tmp_path / "b" / "case.duckdb")
    assert s.count("transactions") == 50 and not stray.exists()
    s.close()
    ro = CaseStore(tmp_path / "b" / "case.duckdb", read_only=True)
    assert ro.count("transactions") == 50
    ro.close()


def test_a_store_from_before_segments_is_migrated(tmp_path):
    import duckdb

    from casegraph.store import RECORD_COLUMNS

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # the layout before segments: each record table a plain table
    ddl = [f"{c} VARCHAR GENERATED ALWAYS AS ({t}) VIRTUAL" if c == "id" else f"{c} {t}" for c, t, _ in RECORD_COLUMNS["messages"]]
    con.execute(f"CREATE TABLE messages ({', '.join(ddl)})")
    con.execute(
        f"INSERT INTO messages (locator, exhibit_sha256, parser, parser_version, platform, text) "
        f"VALUES ('line:1', '{'ab' * 32}', 'p', '1', 'sms', 'kept')"
    )
    con.close()
    s = CaseStore(path)
    assert s.rows("SELECT id, text FROM messages") == [{"id": f"messages/{'ab' * 16}/p/line:1", "text": "kept"}]
    s.close()
