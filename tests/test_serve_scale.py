"""The large-case query paths of issue #19 (benchmarks/serve_latency.py) give the answers of the plain
queries they replace: records joined on their locator (store.record_join) are the records joined on
their computed id, and a chat's pages read against a looked-up pivot are slices of the chat's order."""

from __future__ import annotations

import duckdb
import pytest
import serve_helpers as sh

from casegraph import browse
from casegraph.case import Case
from casegraph.parsers import load_all
from casegraph.store import record_join

demo_case = sh.demo_case  # fixture


def test_no_parser_name_holds_a_slash():
    # record_join finds the locator after the id's third '/': table/exhibit/parser/locator
    assert all("/" not in p.name for p in load_all())


def test_record_join_is_the_join_on_the_computed_id(tmp_path):
    con = duckdb.connect()
    con.execute("""CREATE TABLE t (exhibit_sha256 VARCHAR, parser VARCHAR, locator VARCHAR,
                   id VARCHAR GENERATED ALWAYS AS ('transactions/' || left(exhibit_sha256, 32) || '/' || parser || '/' || locator))""")
    ex_a, ex_b = "a" * 64, "b" * 64
    # locators with '/', '#' and the same locator in two exhibits and two parsers
    rows = [(ex, p, loc) for ex in (ex_a, ex_b) for p in ("bank-csv", "goaml-xml") for loc in ("row:1", "json:/a/b/2", "zip:x.csv#row:3")]
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    ids = [
        f"transactions/{ex_a[:32]}/bank-csv/json:/a/b/2",
        f"transactions/{ex_b[:32]}/goaml-xml/zip:x.csv#row:3",
        f"transactions/{ex_a[:32]}/bank-csv/row:1x",  # no such record
        f"messages/{ex_a[:32]}/bank-csv/row:1",  # another table's record
        "transactions/short/row:1",
    ]
    con.execute("CREATE TABLE w AS SELECT unnest(?::VARCHAR[]) AS id", [ids])
    plain = con.execute("SELECT w.id, t.locator FROM w JOIN t ON t.id = w.id ORDER BY 1").fetchall()
    joined = con.execute(f"SELECT w.id, t.locator FROM w JOIN t ON {record_join('t', 'transactions', 'w.id')} ORDER BY 1").fetchall()
    assert joined == plain and len(plain) == 2
    with pytest.raises(ValueError):
        record_join("i", "identifiers", "w.id")  # its ids end with a discriminator


def test_chat_pages_are_slices_of_the_chats_order(demo_case):
    """Every page (first, at, after, before, day, with and without a sender, several sizes) is the slice of the
    chat's whole order that the old queries gave, with the same more-before / more-after flags."""
    with Case(demo_case, read_only=True) as case:
        store = case.store
        pairs = store.con.execute(
            "SELECT chat_id, list(DISTINCT sender_id ORDER BY sender_id) FILTER (WHERE sender_id IS NOT NULL) FROM messages GROUP BY 1"
        ).fetchall()
        for chat_id, senders in pairs:
            for who in [None, *(senders or [])[:2]]:
                where, params = "chat_id = ?", [chat_id]
                if who:
                    where += " AND (sender_id = ? OR (sender_id IS NULL AND sender_name = ?))"
                    params += [who, who]
                order = [
                    r[0] for r in store.con.execute(f"SELECT id FROM messages WHERE {where} ORDER BY {browse.ORDER}", params).fetchall()
                ]
                days = [
                    r[0]
                    for r in store.con.execute(
                        f"SELECT DISTINCT strftime(ts_local, '%Y-%m-%d') FROM messages WHERE {where}", params
                    ).fetchall()
                ]
                for limit in (1, 3, 50):
                    for i, mid in enumerate(order):
                        got = browse.thread(store, chat_id, at=mid, sender=who, limit=limit)
                        lead = min(5, limit // 4, i)
                        assert [m["id"] for m in got["messages"]] == order[i - lead : i - lead + limit]
                        assert got["more_before"] == (i - lead > 0) and got["more_after"] == (i - lead + limit < len(order))
                        got = browse.thread(store, chat_id, after=mid, sender=who, limit=limit)
                        page = order[i + 1 : i + 1 + limit]
                        assert [m["id"] for m in got["messages"]] == page
                        assert got["more_before"] == bool(page) and got["more_after"] == (i + 1 + limit < len(order))
                        got = browse.thread(store, chat_id, before=mid, sender=who, limit=limit)
                        page = order[max(0, i - limit) : i]
                        assert [m["id"] for m in got["messages"]] == page
                        assert got["more_before"] == (i - limit > 0) and got["more_after"] == bool(page)
                    for day in [d for d in days if d] + ["2999-01-01"]:
                        got = browse.thread(store, chat_id, day=day, sender=who, limit=limit)
                        first = store.one(
                            f"SELECT id FROM messages WHERE {where} AND ts_local >= CAST(? AS DATE) ORDER BY {browse.ORDER} LIMIT 1",
                            [*params, day],
                        )
                        i = order.index(first[0]) if first else len(order)
                        assert [m["id"] for m in got["messages"]] == order[i : i + limit]
                        assert got["more_after"] == (i + limit < len(order))
                        assert got["more_before"] == (i > 0)
                with pytest.raises(KeyError):
                    browse.thread(store, chat_id, at="messages/none", sender=who)
                assert browse.thread(store, chat_id, after="messages/none", sender=who)["messages"] == []
