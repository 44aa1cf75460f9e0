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


def _old_single_order_by(store, ts):
    """The order the index used before (issue #19): one DuckDB ORDER BY over every text, by the UTC
    time as text (on a host in UTC), which ran out of memory at 11M documents."""
    names = ", ".join(f"c{i}" for i in range(len(ts.COLUMNS) + 1))
    union = " UNION ALL ".join(f"SELECT {i} AS _source, * FROM ({sql})" for i, sql in enumerate(ts.SOURCES.values()))
    store.con.execute("SET TimeZone = 'UTC'")
    return [
        r[0]
        for r in store.con.execute(
            f"SELECT s.c0 FROM ({union}) AS s(_source, {names}) ORDER BY s.c6 IS NULL, s.c6 DESC, s._source, s.c0"
        ).fetchall()
    ]


def test_search_index_numbers_documents_in_the_old_single_order_by_order(demo_copy):
    """Undated rows, ties in time within and across sources, fractional seconds, several sources."""
    import sqlite3

    from casegraph import textsearch as ts

    with Case(demo_copy).acquire("test") as case:
        con = case.store.con
        tie = con.execute("SELECT max(ts_utc) FROM transactions").fetchone()[0]  # a message at a transaction's time
        for i, (utc, text) in enumerate(
            [(tie, "tie with a transfer"), (tie, "tie with a transfer too"), (None, "undated one"), (None, "undated two"),
             ("2024-03-01 10:00:00.5+00", "half a second"), ("2024-03-01 10:00:00.25+00", "a quarter"),
             ("2024-03-01 10:00:00+00", "whole second")]
        ):  # fmt: skip
            con.execute(
                """INSERT INTO messages_rows (platform, chat_id, ts_local, ts_utc, tz_basis, sender_id, direction, kind, text,
                                              edited, extra, exhibit_sha256, parser, parser_version, locator)
                   SELECT platform, chat_id, CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP), CAST(? AS TIMESTAMPTZ), 'source', sender_id,
                          direction, 'text', ?, false, '{}', exhibit_sha256, parser, parser_version, 'line:extra' || ?
                   FROM messages_rows LIMIT 1""",
                [utc, utc, text, i],
            )
        ts.build(case, actor="test")
        old = _old_single_order_by(case.store, ts)
    db = sqlite3.connect(demo_copy / ts.INDEX_FILE)
    new = [r[0] for r in db.execute("SELECT record_id FROM docs ORDER BY id")]
    db.close()
    assert len(new) == len(old) > 80 and new == old


def _fail_after(monkeypatch, ts, calls, exc):
    real, n = ts.sound, [0]

    def sound(text):
        n[0] += 1
        if n[0] > calls:
            raise exc
        return real(text)

    monkeypatch.setattr(ts, "sound", sound)


def test_a_failed_or_interrupted_search_index_build_leaves_the_old_index_and_says_why(demo_copy, monkeypatch):
    import duckdb
    import pytest
    from click.testing import CliRunner

    from casegraph import textsearch as ts
    from casegraph.cli import main

    with Case(demo_copy).acquire("test") as case:
        ts.build(case, actor="test")
    index = demo_copy / ts.INDEX_FILE
    before, events = index.read_bytes(), len(Case(demo_copy).custody.events())

    def untouched():
        assert index.read_bytes() == before and len(Case(demo_copy).custody.events()) == events
        assert sorted(p.name for p in demo_copy.glob("search-index*")) == [ts.INDEX_FILE]  # no .building, no .staging

    with Case(demo_copy).acquire("test") as case:
        _fail_after(monkeypatch, ts, 10, sqlite3_full())  # mid-way through the FTS pass
        with pytest.raises(ts.IndexBuildError, match=r"could not be built.*database or disk is full.*previous index is left"):
            ts.build(case)
        untouched()
        monkeypatch.undo()
        _fail_after(monkeypatch, ts, 10, KeyboardInterrupt())  # an interrupt removes its files too
        with pytest.raises(KeyboardInterrupt):
            ts.build(case)
        untouched()
        monkeypatch.undo()

        def oom(*a, **k):  # DuckDB out of memory while the records stream out
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

        monkeypatch.setattr(ts, "_sources", oom)
        with pytest.raises(ts.IndexBuildError, match="OutOfMemoryException: Out of Memory Error"):
            ts.build(case)
        untouched()
    r = CliRunner().invoke(main, ["search-index", str(demo_copy), "--force"])
    assert r.exit_code != 0 and "Traceback" not in r.output, r.output
    assert "full-text index could not be built (OutOfMemoryException" in r.output
    untouched()
    with Case(demo_copy).acquire("test") as case:  # the workspace builds a stale index before a search
        case.store.con.execute("UPDATE parse_runs SET output_sha256 = 'changed' WHERE parser = 'vcard'")
    with client(demo_copy) as (c, _ws, _):
        page = c.get("/search?q=passport")
        assert page.status_code == 200 and "full-text index could not be built (OutOfMemoryException" in page.text
    untouched()


def sqlite3_full():
    import sqlite3

    return sqlite3.OperationalError("database or disk is full")
