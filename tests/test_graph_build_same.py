"""The set-based graph build writes the same graph as the build before it (tests/graph_build_old.py):
nodes, edges and the explorer's tie tables row for row (EXCEPT ALL both ways, and their digests), on
the demo case, on a generated telecom case, and on a small case with every edge kind and the edges
that come twice (one sender in two raw forms, a number mentioned twice, a record id holding '|')."""

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import graph_build_old
from graph_helpers import GROUP_EX, PHONE_EX, mention, message, small_case

from casegraph.graph import build, keys, resolve
from casegraph.ingest.digest import state_digests
from casegraph.model import Call, Identifier, Provenance, TextBlock, Transaction

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from graph_scale import generate

TABLES = ("nodes", "edges", "graph_parties", "graph_tie_rows")


def same_as_before(store) -> dict[str, int]:
    """Build the old way, keep its tables, build the new way; the differences per table (all 0 when the same)."""
    con = store.con
    graph_build_old.build(store)
    before = state_digests(con, TABLES)
    for t in TABLES:
        con.execute(f"CREATE OR REPLACE TEMP TABLE old_{t} AS SELECT * FROM {t}")
    build.build(store)
    after = state_digests(con, TABLES)
    diff = {}
    for t in TABLES:
        diff[t] = sum(
            con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})").fetchone()[0]
            for a, b in ((t, f"old_{t}"), (f"old_{t}", t))
        )
        if before[t] != after[t]:
            diff[t] = diff[t] or -1  # same rows, different digest: cannot be, but say so
    assert store.count("edges") and store.count("nodes")
    return diff


def every_kind_case(store) -> None:
    """small_case, and: a sender given twice (its JID and its number), a number mentioned twice in two forms,
    a message whose locator holds '|', a call with its counterpart, text read from an image naming a wallet,
    money paid between two statement accounts."""
    small_case(store)
    for n, ex in enumerate(("a" * 64, "b" * 64, "c" * 64)):  # the exhibits the records come from (FROM_EXHIBIT edges)
        store.con.execute(
            "INSERT INTO exhibits (sha256, md5, size, exhibit_id, original_name, format, added_at, intake_event_hash) "
            "VALUES (?, 'x', 0, ?, 'test', 'test', now(), 'x')",
            [ex, f"E{n}"],
        )
    records = []
    twice = message(GROUP_EX, "line:9", 9, "call 0771234567 or +94771234567", sender_phone="94771234567@s.whatsapp.net")
    msg = twice[0]
    records += twice
    records.append(Identifier(prov=msg.prov, kind="phone", value="+94771234567", role="sender", record_id=msg.id, platform="whatsapp"))
    records += [mention(msg, "phone", "0771234567"), mention(msg, "phone", "+94771234567")]
    piped = message(GROUP_EX, "zip:chat|2.txt/line:1", 10, "pay 0081234567", sender_phone="+94762223344", chat="a|b")
    records += [*piped, mention(piped[0], "bank-account", "0081234567")]
    records += message(PHONE_EX, "line:20", 11, "named only", sender_name="Nuwan Jayawardena", chat="Nuwan")
    prov = Provenance(PHONE_EX, "android-calllog", "1", "sqlite:calls/rowid=7")
    when = datetime(2024, 3, 15, 8, 0, tzinfo=UTC)
    call = Call(prov=prov, platform="phone", ts=when, number="0771234567", direction="incoming", duration_s=42)
    records += [call, Identifier(prov=prov, kind="phone", value="0771234567", role="counterpart", record_id=call.id)]
    ocr = TextBlock(prov=Provenance(PHONE_EX, "ocr", "1", "image:DCIM/1.jpg"), text="send USDT to TXyz")
    records += [ocr, Identifier(prov=ocr.prov, kind="tron", value="TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9", role="mentioned", record_id=ocr.id)]
    records.append(
        Transaction(
            prov=Provenance("c" * 64, "transaction-table", "1", "row:3"),
            rail="bank",
            ts=datetime(2024, 3, 21, tzinfo=UTC),
            from_account="0081234567",
            from_name="N. Jayawardena",
            to_account="1234509876",
            amount=Decimal("1200.50"),
            currency="LKR",
        )
    )
    store.write(records)
    resolve.write(store, resolve.resolve(store))


def test_every_edge_kind_and_the_edges_given_twice(store):
    every_kind_case(store)
    assert same_as_before(store) == dict.fromkeys(TABLES, 0)
    kinds = {r["kind"] for r in store.rows("SELECT DISTINCT kind FROM edges")}
    assert {"USES", "SENT", "IN", "MENTIONS", "IN_CALL", "PAID", "PAID_TO", "FROM_EXHIBIT"} <= kinds
    # the sender given twice is one SENT edge; the number mentioned twice, one MENTIONS edge
    assert store.count("edges", "WHERE kind = 'SENT' AND src = 'Phone:+94771234567' AND dst LIKE '%line:9'") == 1
    assert store.count("edges", "WHERE kind = 'MENTIONS' AND src LIKE '%line:9%' AND dst = 'Phone:+94771234567'") == 1


def test_a_generated_telecom_case(store):
    generate(store, 3000, 8000)
    keys.refresh(store)
    # some messages name their sender twice (as a local and as an international number): one SENT edge each
    store.con.execute("""INSERT INTO identifiers_rows BY NAME SELECT * EXCLUDE (id) REPLACE ('0' || substr(value, 4) AS value,
                         locator || '#local' AS locator) FROM identifiers WHERE role = 'sender' AND record_id LIKE '%rowid=1_'""")
    resolve.write(store, resolve.resolve(store))
    assert same_as_before(store) == dict.fromkeys(TABLES, 0)


def test_the_demo_case(demo):
    from casegraph.case import Case

    with Case(demo) as case:
        assert same_as_before(case.store) == dict.fromkeys(TABLES, 0)


def test_a_store_with_stored_edge_ids_keeps_its_edges(tmp_path):
    """The edge id is computed from kind, src and dst since 2026-12; a store whose edges table stored it is moved to
    the new layout when opened, with the same rows (the ids it stored were kind|src|dst) and the same digest."""
    from casegraph.store import CaseStore

    path = tmp_path / "case.duckdb"
    store = CaseStore(path)
    every_kind_case(store)
    build.build(store)
    before = state_digests(store.con, ("edges",))["edges"]
    cols = "src, dst, kind, ts_utc, weight, record_id, attrs, exhibit_sha256, parser, parser_version, locator"
    store.con.execute(f"""CREATE TABLE old_edges AS SELECT id, {cols} FROM edges; DROP TABLE edges;
                          ALTER TABLE old_edges RENAME TO edges""")  # the layout before: id stored
    assert "GENERATED" not in store.one("SELECT sql FROM duckdb_tables() WHERE table_name = 'edges'")[0]
    store.close()
    store = CaseStore(path)
    assert "GENERATED" in store.one("SELECT sql FROM duckdb_tables() WHERE table_name = 'edges'")[0]
    assert state_digests(store.con, ("edges",))["edges"] == before
    build.build(store)  # and builds again on it
    assert state_digests(store.con, ("edges",))["edges"] == before
    store.close()
