"""The workspace's large-case paths (issue #19, benchmarks/serve_latency.py) give the answers of the
plain queries they replace: the full-text index numbered in display order (a page read off the
index in rowid order, the count capped), and the graph explorer's per-party tie table."""

from __future__ import annotations

import json

import serve_helpers as sh
from serve_helpers import client

from casegraph.case import Case

demo_case, demo_copy = sh.demo_case, sh.demo_copy  # fixtures


def _order_key(h):
    return (h.how != "exact", h.ts_utc is None, "" if h.ts_utc is None else "".join(chr(0x10FFFF - ord(c)) for c in h.ts_utc))


def test_search_pages_are_the_full_order_cut_into_pages_and_the_count_stops_at_the_cap(demo_copy, monkeypatch):
    from casegraph import textsearch as ts

    with Case(demo_copy).acquire("test") as case:
        ts.build(case, actor="test")
        for q in ("passport", "பாஸ்போர்ட்", "salli", "LKR", "visa"):
            every = ts.search(case, q, limit=1000)
            assert every.hits and every.total == len(every.hits) and not every.more
            assert [_order_key(h) for h in every.hits] == sorted(_order_key(h) for h in every.hits)  # exact first, newest first
            paged = [h for off in range(0, every.total, 2) for h in ts.search(case, q, offset=off, limit=2).hits]
            assert paged == every.hits  # the exact / by-sound boundary falls inside a page too
        monkeypatch.setattr(ts, "COUNT_CAP", 3)
        capped = ts.search(case, "passport", limit=2)
        assert capped.total == 3 and capped.more and len(capped.hits) == 2
    with client(demo_copy) as (c, _ws, _):
        page = c.get("/search?q=passport").text
        assert "more than 3 records with “passport”" in page and "next →" in page


def test_graph_expansion_is_the_same_from_the_tie_table_and_without_it(demo_copy):
    from casegraph.graph import explore

    def answers(store):
        explore._party(store, "")
        ids = [r[0] for r in store.con.execute(f"SELECT id FROM {explore.PARTIES} ORDER BY id").fetchall()]
        return json.dumps(
            [explore.neighbourhood(store, n) for n in ids] + [explore.neighbourhood(store, n, kinds=("money",), since=None) for n in ids],
            default=str,
        )

    with Case(demo_copy).acquire("test") as case:
        before = answers(case.store)
        assert '"kind": "money"' in before and '"kind": "message"' in before and '"kind": "uses"' in before
        # a graph built before the tie table (no such tables): a temporary one gives the same answers
        case.store.con.execute(f"DROP TABLE {explore.PARTIES}; DROP TABLE {explore.TIE_ROWS}")
        assert answers(case.store) == before
        msg = case.store.one("SELECT id FROM nodes WHERE label = 'Message' LIMIT 1")[0]
        got = explore.neighbourhood(case.store, msg)  # a record node: found, with no ties of its own
        assert got["edges"] == [] and [n["id"] for n in got["nodes"]] == [msg]


def test_verify_detects_an_altered_tie_table(demo_copy):
    """The explorer answers from graph_tie_rows: an amount changed there after the graph was built (and
    logged) shows in the workspace, so verify must name the table."""
    from casegraph.ingest.integrity import verify_case

    with Case(demo_copy) as case:
        assert not verify_case(case).problems
    with Case(demo_copy).acquire("test") as case:
        assert case.store.one("SELECT count(*) FROM graph_tie_rows WHERE kind = 'money'")[0] > 0
        case.store.con.execute("UPDATE graph_tie_rows SET amount = amount * 10 WHERE kind = 'money'")
    with Case(demo_copy) as case:
        problems = "\n".join(map(str, verify_case(case).problems))
    assert "graph_tie_rows" in problems and "altered" in problems
