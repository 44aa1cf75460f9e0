"""parties.load builds the same party graph as before it was made cheaper: the same parties in the same
numbering (ids, labels, names, listing rank), the same ties (ends, counts) and the same details of every
tie (kinds, times, dates, exhibits, evidence), on the demo case, a small resolved case and a generated
phone graph. `_reference_load` is parties.load as it was (commit ece6ed9), kept here to compare against."""

import itertools
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from graph_helpers import resolved, small_case

from casegraph.case import Case
from casegraph.errors import CaseGraphError
from casegraph.graph import analysis, build, keys, parties, resolve
from casegraph.graph.parties import PartyGraph

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
import graph_scale

_serial = itertools.count()


def _reference_load(store, ties_sql: str) -> PartyGraph:
    t = f"_party_ref_{next(_serial)}"
    con = store.con
    with store.unordered():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {t}_raw AS {ties_sql}")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_nodes AS
                        SELECT (row_number() OVER (ORDER BY id) - 1)::BIGINT AS v, id, n.label, n.name
                        FROM (SELECT a AS id FROM {t}_raw UNION SELECT b FROM {t}_raw) p
                        LEFT JOIN (SELECT id, any_value(label) AS label, any_value(name) AS name FROM nodes GROUP BY id) n USING (id)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_ties AS
                        SELECT na.v AS va, nb.v AS vb, r.kind, r.ts_utc, r.record_id, r.locator, r.exhibit_sha256, r.day
                        FROM {t}_raw r JOIN {t}_nodes na ON na.id = r.a JOIN {t}_nodes nb ON nb.id = r.b""")
        con.execute(f"DROP TABLE {t}_raw")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t} AS
                        SELECT (row_number() OVER (ORDER BY va, vb) - 1)::BIGINT AS e, *
                        FROM (SELECT va, vb, list(DISTINCT kind ORDER BY kind) AS kinds, count(*) AS n,
                                     min(ts_utc) AS first, max(ts_utc) AS last,
                                     arg_min(day, ts_utc) AS first_day, arg_max(day, ts_utc) AS last_day,
                                     list(DISTINCT exhibit_sha256 ORDER BY exhibit_sha256) AS exhibits
                              FROM {t}_ties GROUP BY va, vb)""")
    nodes = con.sql(f"""SELECT id, label, name,
                               row_number() OVER (ORDER BY coalesce(label, '') <> 'Person', coalesce(name, 'None'), id) - 1 AS rank
                        FROM {t}_nodes ORDER BY v""").to_arrow_table()
    con.execute(f"DROP TABLE {t}_nodes")
    edges = con.sql(f"SELECT va, vb, n FROM {t} ORDER BY e").to_arrow_table()
    return PartyGraph(
        store,
        t,
        nodes.column("id").combine_chunks(),
        nodes.column("label").combine_chunks(),
        nodes.column("name").combine_chunks(),
        nodes.column("rank").to_numpy().astype(np.int64),
        edges.column("va").to_numpy().astype(np.int64),
        edges.column("vb").to_numpy().astype(np.int64),
        edges.column("n").to_numpy().astype(np.int64),
    )


def assert_same_graph(store) -> int:
    """The string route (parties.load over analysis._TIES) and the numbered one the analyses use (party_arrays)."""
    # the deferred route (analysis.analyse): the names made on another thread while the arrays are used; the same after ready()
    for new in (parties.load(store, analysis._TIES), analysis.party_arrays(store), analysis.party_arrays(store, defer=True).ready()):
        n = _assert_same(store, _reference_load(store, analysis._TIES), new)
    return n


def _assert_same(store, old, new) -> int:
    assert new.number_of_nodes() == old.number_of_nodes() > 0
    for col in ("ids", "labels", "names"):
        assert getattr(new, col).type == getattr(old, col).type
        assert getattr(new, col).to_pylist() == getattr(old, col).to_pylist(), col
    for col in ("rank", "a", "b", "weight"):
        assert getattr(new, col).dtype == getattr(old, col).dtype == np.int64
        assert np.array_equal(getattr(new, col), getattr(old, col)), col
    everything = np.arange(old.number_of_edges())
    details = "kinds, n, first, last, first_day, last_day, exhibits, evidence"
    assert new.ties(everything, details) == old.ties(everything, details)
    # the detail table as the analyses read it (SQL over pg.table): the same rows, column for column
    cols = "e, va, vb, kinds, n, first, last, first_day, last_day, exhibits"
    assert (
        store.con.sql(f"SELECT {cols} FROM {new.table} ORDER BY e").fetchall()
        == store.con.sql(f"SELECT {cols} FROM {old.table} ORDER BY e").fetchall()
    )
    assert [new.display(v) for v in range(new.number_of_nodes())] == [old.display(v) for v in range(old.number_of_nodes())]
    assert np.array_equal(new.hub_mask(), old.hub_mask())
    return old.number_of_edges()


def test_the_demo_case_loads_the_same_party_graph(demo, tmp_path):
    with Case(demo) as c:
        assert assert_same_graph(c.store) > 0


def test_a_small_resolved_case_loads_the_same_party_graph(store):
    small_case(store)
    resolved(store)
    assert assert_same_graph(store) > 0


def test_a_generated_phone_graph_loads_the_same_party_graph(store):
    graph_scale.generate(store, 2_000, 6_000)
    keys.refresh(store)
    resolve.write(store, resolve.resolve(store))
    build.build(store)
    assert assert_same_graph(store) > 1_000


def test_an_empty_case_loads_an_empty_graph(store):
    g = parties.load(store, analysis._TIES)
    assert g.number_of_nodes() == g.number_of_edges() == 0
    assert isinstance(g.ids, pa.Array) and g.a.dtype == np.int64


# Ties as the tie rules give them, made to hit every branch: pairs with one kind and exhibit, several
# kinds, several exhibits, a missing exhibit (alone and beside one), no time (a date only), and parties
# the nodes table does not name.
ODD_TIES = """
SELECT * FROM (VALUES
    ('A', 'B', 'message', TIMESTAMPTZ '2024-01-01 10:00+00', 'messages/1', 'line:1', 'e1', NULL),
    ('A', 'B', 'message', TIMESTAMPTZ '2024-01-02 10:00+00', 'messages/2', 'line:2', 'e1', NULL),
    ('A', 'C', 'message', TIMESTAMPTZ '2024-01-01 11:00+00', 'messages/3', 'line:3', 'e2', NULL),
    ('A', 'C', 'mentioned', TIMESTAMPTZ '2024-01-01 09:00+00', 'messages/3', 'line:3', 'e1', NULL),
    ('B', 'C', 'payment', NULL, 'transactions/1', 'row:1', NULL, '2024-02-01'),
    ('B', 'D', 'payment', NULL, 'transactions/2', 'row:2', NULL, '2024-02-03'),
    ('B', 'D', 'payment', TIMESTAMPTZ '2024-02-02 08:00+00', 'transactions/3', 'row:3', 'e3', NULL),
    ('C', 'Exhibit:e1', 'in image', NULL, 'ocr_text/1', 'img:1', 'e1', NULL),
    ('C', 'Exhibit:e1', 'call', TIMESTAMPTZ '2024-03-01 08:00+00', 'calls/1', 'row:9', 'e1', NULL)
) t(a, b, kind, ts_utc, record_id, locator, exhibit_sha256, day)
"""


def test_pairs_with_several_kinds_exhibits_or_none_load_as_before(store):
    old, new = _reference_load(store, ODD_TIES), parties.load(store, ODD_TIES)
    assert new.ids.to_pylist() == old.ids.to_pylist() == ["A", "B", "C", "D", "Exhibit:e1"]
    assert np.array_equal(new.a, old.a) and np.array_equal(new.b, old.b) and np.array_equal(new.weight, old.weight)
    everything = np.arange(old.number_of_edges())
    details = "kinds, n, first, last, first_day, last_day, exhibits, evidence"
    got = new.ties(everything, details)
    assert got == old.ties(everything, details)
    by_pair = {(new.id(new.a[e]), new.id(new.b[e])): got[e] for e in everything}
    assert by_pair[("A", "C")]["kinds"] == ["mentioned", "message"] and by_pair[("A", "C")]["exhibits"] == ["e1", "e2"]
    assert by_pair[("B", "C")]["exhibits"] == [None] and by_pair[("B", "D")]["exhibits"] == ["e3", None]
    assert by_pair[("C", "Exhibit:e1")]["kinds"] == ["call", "in image"]


def test_evidence_from_a_graph_built_again_since_is_refused(store):
    """The numbered load reads a tie's records from their rows of `edges` when a finding cites them: after the
    graph is built again those rows hold other records (or none), so the old party graph refuses, never cites them."""
    small_case(store)
    resolved(store)
    g = analysis.party_arrays(store)
    everything = np.arange(g.number_of_edges())
    assert len(g.evidence(everything)) > 0
    build.build(store)
    with pytest.raises(CaseGraphError, match="built again"):
        g.ties(everything, "evidence")


def _reference_evidence(g: PartyGraph, requests, cap: int) -> list[list[dict]]:
    """evidence_many as it was (commit e1209bf): each tie's first EVIDENCE_PER_TIE records by DuckDB's ordered list,
    then per request its ties in order, each record once, the first `cap`."""
    per_tie = {
        (va, vb): ev[: parties.EVIDENCE_PER_TIE]
        for va, vb, ev in g.store.con.sql(f"""
            SELECT va, vb, list({{'record': record_id, 'locator': locator, 'exhibit_sha256': exhibit_sha256}}
                                ORDER BY ts_utc NULLS LAST, record_id)
            FROM {g.table}_ties GROUP BY va, vb""").fetchall()
    }
    out = []
    for req in requests:
        seen, records = set(), []
        for e in req:
            for r in per_tie[(int(g.a[e]), int(g.b[e]))]:
                if r["record"] not in seen and len(records) < cap:
                    seen.add(r["record"])
                    records.append({**r, "table": r["record"].split("/", 1)[0]})
        out.append(records)
    return out


# One record on many ties (a message naming twenty parties), a tie of eight records whose times and ids disagree
# in order (two without a time), so that a request's first 3 × cap ties can give fewer than cap distinct records.
SHARED_TIES = """
SELECT 'P00' AS a, 'P' || lpad(i::VARCHAR, 2, '0') AS b, 'mentioned' AS kind, NULL::TIMESTAMPTZ AS ts_utc,
       'messages/shared' AS record_id, 'line:0' AS locator, 'e1' AS exhibit_sha256, NULL::VARCHAR AS day FROM range(1, 21) t(i)
UNION ALL
SELECT 'P00', 'P21', 'message', CASE WHEN i < 6 THEN TIMESTAMPTZ '2024-01-01 00:00+00' + INTERVAL (10 - i) HOUR END,
       'messages/m' || i, 'line:' || i, 'e' || (i % 2), NULL FROM range(8) t(i)
"""


def test_evidence_cites_each_record_once_in_tie_order_as_before(store):
    g = parties.load(store, SHARED_TIES)
    everything = np.arange(g.number_of_edges())
    requests = [everything, everything[::-1], everything[:3], np.zeros(0, dtype=np.int64), everything[-1:]]
    for cap in (1, 2, 3, 50):
        assert g.evidence_many(requests, cap) == _reference_evidence(g, requests, cap)
    assert [r["record"] for r in g.evidence(everything, 3)] == ["messages/shared", "messages/m5", "messages/m4"]
    assert [r["record"] for r in g.ties(everything[-1:], "evidence")[int(everything[-1])]["evidence"]] == [
        "messages/m5",
        "messages/m4",
        "messages/m3",
        "messages/m2",
        "messages/m1",
    ]


def test_evidence_of_a_generated_phone_graph_is_as_before(store):
    graph_scale.generate(store, 2_000, 6_000)
    keys.refresh(store)
    resolve.write(store, resolve.resolve(store))
    build.build(store)
    old, new = parties.load(store, analysis._TIES), analysis.party_arrays(store)
    rng = np.random.default_rng(7)
    requests = [rng.choice(old.number_of_edges(), size=k, replace=False) for k in (1, 5, 40, 200, 1000)]
    requests += [old.incident(v) for v in range(0, old.number_of_nodes(), 97)]
    want = _reference_evidence(old, requests, 50)
    assert old.evidence_many(requests) == want
    assert new.evidence_many(requests) == want


def test_a_deferred_party_graph_gives_its_arrays_at_once_and_its_names_after_ready(store):
    graph_scale.generate(store, 500, 1_500)
    keys.refresh(store)
    resolve.write(store, resolve.resolve(store))
    build.build(store)
    now, later = analysis.party_arrays(store), analysis.party_arrays(store, defer=True)
    assert later.number_of_nodes() == now.number_of_nodes() and later.igraph().ecount() == now.igraph().ecount()
    assert np.array_equal(later.a, now.a) and np.array_equal(later.weight, now.weight)
    assert later.id(0) == now.id(0)  # a name asked for waits for the thread
    assert later.pending is None and later.ids.to_pylist() == now.ids.to_pylist()


def test_a_deferred_party_graph_raises_the_threads_error_at_ready(store, monkeypatch):
    graph_scale.generate(store, 200, 600)
    keys.refresh(store)
    resolve.write(store, resolve.resolve(store))
    build.build(store)
    monkeypatch.setattr(parties, "_RANK", "no_such_column AS rank")
    pg = analysis.party_arrays(store, defer=True)
    with pytest.raises(Exception, match="no_such_column"):
        pg.ready()


class _Inline:
    """A one-worker pool that runs what it is given at once, on the caller's thread: the sequential path."""

    def __init__(self, *_args, **_kw):
        pass

    def submit(self, fn, *args):
        from concurrent.futures import Future

        done: Future = Future()
        try:
            done.set_result(fn(*args))
        except Exception as e:  # handed to the caller at result(), as the pool does
            done.set_exception(e)
        return done

    def shutdown(self, wait=True):
        pass


def _digest(found) -> list:
    return [(f.kind, f.subject, f.title, f.summary, f.score, f.attrs, f.evidence) for f in found]


def test_findings_with_their_queries_run_ahead_on_a_thread_are_the_sequential_ones(store, monkeypatch):
    graph_scale.generate(store, 500, 1_500)
    keys.refresh(store)
    resolve.write(store, resolve.resolve(store))
    build.build(store)
    _, threaded = analysis.analyse(store)
    monkeypatch.setattr(parties, "ThreadPoolExecutor", _Inline)  # both threads start through parties.on_own_thread
    _, sequential = analysis.analyse(store)
    assert any(f.kind == "contact-timeline" for f in threaded)  # (the generated case is one exhibit: no multi-exhibit)
    assert _digest(threaded) == _digest(sequential)


def test_an_error_in_the_findings_query_thread_is_raised_at_the_join(store, monkeypatch):
    graph_scale.generate(store, 200, 600)
    keys.refresh(store)
    resolve.write(store, resolve.resolve(store))
    build.build(store)

    def broken(_store, _pg):
        raise RuntimeError("query thread failed")

    monkeypatch.setattr(analysis, "_queries_ahead", broken)
    with pytest.raises(RuntimeError, match="query thread failed"):
        analysis.analyse(store)
