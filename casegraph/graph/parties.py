"""The party graph as arrays, built in DuckDB and handed to igraph in bulk.

Parties get integer ids in DuckDB (row numbers in node-id order, so an edge list sorted by ids is
sorted by the parties' names as strings), ties become three numpy arrays (a, b, count), and the
rest of every tie (kinds, first and last time, the records it rests on, the exhibits) stays in a
DuckDB temp table of this graph, fetched only for the ties a finding cites. No Python object is
made per tie or per party on the way. The tie rules are analysis.TIES (the same as the networkx
party graph's).
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import igraph as ig
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import CaseGraphError
from ..ranges import flat_ranges
from ..store import CaseStore
from .explore import RECORD_LABELS

EVIDENCE_PER_TIE = 5  # records kept per tie; a finding cites up to 50 over its ties
HUBS = ("Chat", "Exhibit")  # nodes that are places, not parties: never brokers or most-contacted
# the order members are listed in: people first, then by name, then id
_RANK = "row_number() OVER (ORDER BY coalesce(label, '') <> 'Person', coalesce(name, 'None'), id) - 1 AS rank"
_serial = itertools.count()


def _drop(con: duckdb.DuckDBPyConnection, table: str) -> None:
    with contextlib.suppress(duckdb.Error):  # the store was closed first: its temp tables went with it
        con.execute(f"DROP TABLE IF EXISTS {table}")


@dataclass
class PartyGraph:
    """Parties 0..n-1 and ties e = 0..m-1 (a[e] < b[e], sorted by (a, b)), with their details in `table`."""

    store: CaseStore
    table: str  # DuckDB temp tables: <table> (e, va, vb, kinds, n, first, last, first_day, last_day, exhibits), <table>_ties
    ids: pa.Array
    labels: pa.Array
    names: pa.Array
    rank: np.ndarray  # people first, then by name, then id: the order members are listed in
    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray  # records per tie
    ends: np.ndarray | None = None  # the number of party v in the tie tables, when it is not v (load_numbered)
    # load_numbered(defer=True): the parties' names and `table` still being made on another thread (ready() waits)
    pending: Future | None = field(default=None, repr=False)
    _index: dict[str, int] | None = field(default=None, repr=False)
    _graph: ig.Graph | None = field(default=None, repr=False)
    _incident: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _hubs: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        weakref.finalize(self, _drop, self.store.con, self.table)
        weakref.finalize(self, _drop, self.store.con, f"{self.table}_ties")

    # -- sizes, names ----------------------------------------------------------------------------------
    def ready(self) -> PartyGraph:
        """Wait for the parties' ids, labels, names, ranks and the tie table when they were still being made
        (load_numbered(defer=True)); every use of them and of the store's connection comes after this."""
        if self.pending is not None:
            nodes, self.pending = self.pending.result(), None
            self.ids, self.labels, self.names, self.rank = _node_columns(nodes)
        return self

    def number_of_nodes(self) -> int:
        return len(self.ids) if self.pending is None or self.ends is None else len(self.ends)

    def number_of_edges(self) -> int:
        return len(self.a)

    def __contains__(self, node: object) -> bool:
        return isinstance(node, str) and node in self.index

    @property
    def index(self) -> dict[str, int]:
        """node id → party number (built on first use: only lookups by name or id need it)."""
        if self._index is None:
            self.ready()
            self._index = {s: i for i, s in enumerate(self.ids.to_pylist())}
        return self._index

    def id(self, v: int) -> str:
        self.ready()
        return self.ids[int(v)].as_py()

    def label(self, v: int) -> str | None:
        self.ready()
        return self.labels[int(v)].as_py()

    def name(self, v: int) -> str | None:
        self.ready()
        return self.names[int(v)].as_py()

    def display(self, v: int) -> str:
        label, name = self.label(v) or "?", self.name(v) or self.id(v)
        return {"Chat": f"chat '{name}'", "Exhibit": f"exhibit {name}"}.get(label, f"{name} ({label})")

    def hub_mask(self) -> np.ndarray:
        self.ready()
        if self._hubs is None:  # Arrow's set lookup (numpy's isin on a million Python strings took seconds)
            self._hubs = pc.is_in(self.labels, value_set=pa.array(HUBS)).fill_null(False).to_numpy(zero_copy_only=False)
        return self._hubs

    def people_first(self, members: np.ndarray) -> np.ndarray:
        self.ready()
        return members[np.argsort(self.rank[members], kind="stable")]

    # -- the compiled graph ----------------------------------------------------------------------------
    def igraph(self) -> ig.Graph:
        """Undirected igraph over the same numbering, `weight` = records per tie (edge e is tie e)."""
        if self._graph is None:
            # pairs of Python ints: igraph reads them faster than a numpy array (1.1 s against 2.9 s CPU at 2.35M ties)
            g = ig.Graph(n=self.number_of_nodes(), edges=zip(self.a.tolist(), self.b.tolist(), strict=True), directed=False)
            g.es["weight"] = self.weight.astype(np.float64)
            self._graph = g
        return self._graph

    # -- tie details -----------------------------------------------------------------------------------
    def ties(self, edges: Sequence[int] | np.ndarray, columns: str = "kinds, n, first, last, first_day, last_day") -> dict[int, dict]:
        """Details of the given ties, by tie number (`evidence`: the first EVIDENCE_PER_TIE records, oldest first)."""
        want = np.unique(np.asarray(edges, dtype=np.int64))
        self.ready()
        if not len(want):
            return {}
        cols = [c.strip() for c in columns.split(",")]
        plain = [c for c in cols if c != "evidence"]
        con = self.store.con
        key = (lambda v: v) if self.ends is None else self.ends.take
        con.register("_want", pa.table({"e": want, "va": key(self.a[want]), "vb": key(self.b[want])}))
        try:
            out: dict[int, dict] = {int(e): {} for e in want}
            if plain:
                rows = con.execute(f"SELECT e, {', '.join(plain)} FROM {self.table} SEMI JOIN _want USING (e)").fetchall()
                for r in rows:
                    out[r[0]].update(zip(plain, r[1:], strict=True))
            if "evidence" in cols:
                rec = self._evidence_rows(con, len(want))
                e_of, records = rec.column("e").to_numpy(), _record_dicts(rec)
                for lo, hi in zip(*_runs(e_of), strict=True):
                    out[int(e_of[lo])]["evidence"] = records[lo:hi]
        finally:
            con.unregister("_want")
        return out

    def _evidence_rows(self, con: duckdb.DuckDBPyConnection, wanted: int) -> pa.Table:
        """The first EVIDENCE_PER_TIE records of each wanted tie (_want), oldest first (then by record id), as rows
        (e, record, locator, exhibit_sha256) sorted so. DuckDB gives the rows; Arrow orders and cuts them (DuckDB's
        ordered list per tie and its window per pair took 5.6 s of CPU for the 166,000 ties a million-party case's
        findings cite)."""
        sql = f"SELECT w.e, t.ts_utc, t.record_id, t.locator, t.exhibit_sha256, t.ok FROM {self._records()} t JOIN _want w USING (va, vb)"
        table = con.sql(sql).to_arrow_table()
        if not pc.all(table.column("ok")).as_py() or len(pc.unique(table.column("e"))) < wanted:
            # a row of `edges` no longer holds the record the tie was read from, or a tie's rows are gone (every tie rests on a record)
            raise CaseGraphError("the case's graph was built again since this party graph was loaded: load it again")
        order = pc.sort_indices(
            table, [("e", "ascending", "at_end"), ("ts_utc", "ascending", "at_end"), ("record_id", "ascending", "at_end")]
        )
        table = table.take(order)
        e = table.column("e").to_numpy()
        starts, ends = _runs(e)
        place = np.arange(len(e)) - np.repeat(starts, ends - starts)  # each record's place among its tie's
        table = table.filter(pa.array(place < EVIDENCE_PER_TIE))
        return table.select(["e", "record_id", "locator", "exhibit_sha256"]).rename_columns(["e", "record", "locator", "exhibit_sha256"])

    def _records(self) -> str:
        """The records of the wanted ties (_want): read from `edges` by their row when the ties keep only that."""
        if self.ends is None:
            return f"(SELECT *, true AS ok FROM {self.table}_ties SEMI JOIN _want USING (va, vb))"
        return f"""(SELECT t.va, t.vb, t.ts_utc, e.record_id, e.locator, t.exhibit_sha256, hash(e.record_id) = t.h AS ok
                    FROM {self.table}_ties t SEMI JOIN _want USING (va, vb) JOIN edges e ON e.rowid = t.r)"""

    def evidence_many(self, requests: Sequence[np.ndarray], cap: int = 50) -> list[list[dict[str, Any]]]:
        """For each request (ties, in order), the first `cap` distinct records of its ties, each tie's own
        records oldest first, as a finding cites them. One query for all requests: a record is on at most
        a few ties, so 3 × cap ties are fetched per request, and more only where those fell short. The
        choice is made on arrays (request, place, record number); a dict is made only for a record cited."""
        reqs = [np.asarray(r, dtype=np.int64) for r in requests]
        first = [r[: 3 * cap] for r in reqs]
        out = _cited(first, self._fetch_evidence(np.concatenate(first or [np.zeros(0, np.int64)])), cap)
        short = [i for i, r in enumerate(reqs) if len(out[i]) < cap and len(r) > 3 * cap]  # rare: many ties sharing records
        if short:
            more = _cited([reqs[i] for i in short], self._fetch_evidence(np.concatenate([reqs[i] for i in short])), cap)
            for i, records in zip(short, more, strict=True):
                out[i] = records
        return out

    def _fetch_evidence(self, edges: np.ndarray) -> pa.Table:
        """_evidence_rows for these ties (any order, repeats allowed)."""
        want = np.unique(edges)
        self.ready()
        con = self.store.con
        key = (lambda v: v) if self.ends is None else self.ends.take
        con.register("_want", pa.table({"e": want, "va": key(self.a[want]), "vb": key(self.b[want])}))
        try:
            if not len(want):
                return pa.table(
                    {"e": pa.array([], pa.int64()), **{c: pa.array([], pa.string()) for c in ("record", "locator", "exhibit_sha256")}}
                )
            return self._evidence_rows(con, len(want))
        finally:
            con.unregister("_want")

    def evidence(self, edges: Sequence[int] | np.ndarray, cap: int = 50) -> list[dict[str, Any]]:
        return self.evidence_many([np.asarray(edges, dtype=np.int64)], cap)[0]

    def incident(self, v: int) -> np.ndarray:
        """The ties of party v, in tie order (the order the networkx graph listed them)."""
        if self._incident is None:  # ties grouped by party once (a scan of every tie per party is slow at millions)
            order, starts = by_party(self.a, self.b, self.number_of_nodes())
            self._incident = order % len(self.a) if len(self.a) else order, starts
        ties, starts = self._incident
        return np.sort(ties[starts[v] : starts[v + 1]])

    def close(self) -> None:
        with contextlib.suppress(Exception):  # its error, if any, was the caller's to see through ready()
            self.ready()
        _drop(self.store.con, self.table)
        _drop(self.store.con, f"{self.table}_ties")


def by_party(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every tie end grouped by party (CSR): (order, starts), where order[starts[v]:starts[v + 1]] are the
    positions in concat(a, b) of party v's ends, in tie order (position mod len(a) is the tie)."""
    ends = np.concatenate([a, b])
    order = np.argsort(ends, kind="stable")
    return order, np.searchsorted(ends[order], np.arange(n + 1))


def _runs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the runs of equal values of a sorted array."""
    if not len(x):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    return starts, np.append(starts[1:], len(x))


def _record_dicts(rec: pa.Table) -> list[dict[str, Any]]:
    cols = [rec.column(c).to_pylist() for c in ("record", "locator", "exhibit_sha256")]
    return [{"record": r, "locator": loc, "exhibit_sha256": x} for r, loc, x in zip(*cols, strict=True)]


def _cited(requests: Sequence[np.ndarray], rec: pa.Table, cap: int) -> list[list[dict[str, Any]]]:
    """Per request (ties in order), the first `cap` distinct records of its ties' records (`rec`: rows e, record, …
    sorted by e, each tie's own in order): every (request, tie, record) in order, each record kept at its first
    place in its request, the first `cap` of those."""
    e_of = rec.column("e").to_numpy()
    code = pc.dictionary_encode(rec.column("record").combine_chunks()).indices.to_numpy().astype(np.int64)
    ties = np.concatenate(list(requests) or [np.zeros(0, np.int64)])
    req = np.repeat(np.arange(len(requests)), [len(r) for r in requests])
    lo, hi = np.searchsorted(e_of, ties), np.searchsorted(e_of, ties, side="right")
    counts = hi - lo
    row = flat_ranges(lo, counts)  # each tie's record rows, in order
    req = np.repeat(req, counts)
    _, first = np.unique(req * (int(code.max(initial=0)) + 1) + code[row], return_index=True)
    first.sort()  # each request's distinct records at their first place, in order
    row, req = row[first], req[first]
    starts = np.searchsorted(req, np.arange(len(requests) + 1))
    keep = np.arange(len(req)) - starts[req] < cap
    row, req = row[keep], req[keep]
    dicts = _record_dicts(rec.take(pa.array(row)))
    for d in dicts:
        d["table"] = d["record"].split("/", 1)[0]
    bounds = np.searchsorted(req, np.arange(len(requests) + 1))
    return [dicts[bounds[i] : bounds[i + 1]] for i in range(len(requests))]


def load(store: CaseStore, ties_sql: str) -> PartyGraph:
    """Run the tie rules (columns a, b, kind, ts_utc, record_id, locator, exhibit_sha256, day; a < b) in
    DuckDB and return the arrays. Two temp tables stay: the ties with party numbers (the records, read
    only for the ties a finding cites) and one row per pair (kinds, count, first and last, exhibits)."""
    t = f"_party_{next(_serial)}"
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
    nodes = con.sql(f"SELECT id, label, name, {_RANK} FROM {t}_nodes ORDER BY v").to_arrow_table()
    con.execute(f"DROP TABLE {t}_nodes")
    return _pairs(store, t, nodes, None)


def load_numbered(store: CaseStore, rules: Callable[[str, str, list[str]], str], defer: bool = False) -> PartyGraph:
    """The same graph as `load(store, rules(TIE_PARTY, None))`, cheaper: every node id a tie can end on is
    numbered first (in id order), the rules run on those numbers (`rules(party CTEs, table numbering places)`), and
    no tie carries a name; the parties that have ties are numbered densely after, in the same order. `defer`: the
    ties come back as soon as they are numbered; the parties' names and the tie table are made on another thread,
    which DuckDB runs while the caller builds and searches the graph (the caller uses neither the store's connection
    nor the names before PartyGraph.ready())."""
    t = f"_party_{next(_serial)}"
    con = store.con
    # the ids an end can be: a node's party (itself or the person using it), a chat, an exhibit (numbered though
    # no node names it, as `load` keeps an end the nodes table lacks)
    party = f"""owner AS (SELECT dst AS node, min(src) AS person FROM edges WHERE kind = 'USES' GROUP BY dst),
                named AS (SELECT n.id, coalesce(o.person, n.id) AS p FROM nodes n LEFT JOIN owner o ON o.node = n.id
                          WHERE n.label NOT IN ({", ".join(f"'{x}'" for x in RECORD_LABELS)}))"""
    kinds = [k for (k,) in con.execute("SELECT DISTINCT kind FROM edges").fetchall()]  # the rules of absent kinds are left out
    with store.unordered():
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_names AS
                        WITH {party} SELECT row_number() OVER (ORDER BY id) AS u, id FROM (
                            SELECT p AS id FROM named UNION SELECT dst FROM edges WHERE kind = 'IN' UNION
                            SELECT 'Exhibit:' || exhibit_sha256 FROM edges
                            WHERE kind = 'IN_CALL' OR (kind = 'MENTIONS' AND starts_with(src, 'ocr_text/')))""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_party AS
                        WITH {party} SELECT named.id, u AS p FROM named JOIN {t}_names x ON x.id = named.p""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_ties AS
                        SELECT a AS va, b AS vb, kind, ts_utc, r, h, exhibit_sha256, day
                        FROM ({rules(f"party AS (SELECT * FROM {t}_party)", f"{t}_names", kinds)})""")
        con.execute(f"DROP TABLE {t}_party")
    return _pairs(store, t, None, f"{t}_names", defer)


def _pairs(store: CaseStore, t: str, nodes: pa.Table | None, names: str | None, defer: bool = False) -> PartyGraph:
    """From the ties of {t}_ties (va, vb numbered, va < vb): one row per pair in {t}, and the arrays. `names`:
    the ends are numbers of that table (u, id), not yet dense; their parties are named and numbered here (and
    the table dropped). `defer`: that naming and {t} are made on another thread (see load_numbered)."""
    con = store.con
    with store.unordered():
        # One row per pair, in no order. The lists of distinct kinds and exhibits were most of the cost
        # (DuckDB groups a second time for each DISTINCT list), yet nearly every pair has one kind and one
        # exhibit: those come from min = max, and only the other pairs are grouped for their lists. The kinds and
        # exhibits are compared as numbers (few distinct values, numbered in their order): min and max of the
        # strings took 7 of the grouping's 9.5 s of CPU at a million parties.
        for col, code in (("kind", "k"), ("exhibit_sha256", "x")):
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_{code} AS SELECT row_number() OVER (ORDER BY {col}) AS {code}, {col}
                            FROM (SELECT DISTINCT {col} FROM {t}_ties WHERE {col} IS NOT NULL)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_pairs AS
                        SELECT va, vb, count(*) AS n, min(ts_utc) AS first, max(ts_utc) AS last,
                               arg_min(day, ts_utc) AS first_day, arg_max(day, ts_utc) AS last_day,  -- a date without a time
                               CASE WHEN count(k) = count(*) AND min(k) = max(k) THEN min(k) END AS k,
                               CASE WHEN count(x) = count(*) AND min(x) = max(x) THEN min(x) END AS x
                        FROM {t}_ties LEFT JOIN {t}_k USING (kind) LEFT JOIN {t}_x USING (exhibit_sha256) GROUP BY va, vb""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {t}_mixed AS
                        SELECT va, vb, list(DISTINCT kind ORDER BY kind) AS kinds,
                               list(DISTINCT exhibit_sha256 ORDER BY exhibit_sha256) AS exhibits
                        FROM {t}_ties SEMI JOIN (SELECT va, vb FROM {t}_pairs WHERE k IS NULL OR x IS NULL) USING (va, vb)
                        GROUP BY va, vb""")
    pairs = con.execute(f"SELECT va, vb, n FROM {t}_pairs").fetchnumpy()
    ua, ub, n = (np.asarray(pairs[c], dtype=np.int64) for c in ("va", "vb", "n"))
    ends = None
    if names is not None:  # the parties with ties, in id order (their numbers are), named from the nodes table
        # the numbers that occur, and each one's rank among them: a mask over 0..max (np.unique and searchsorted sort 4.7M
        # numbers, seconds at a million parties; the numbers are row numbers, dense)
        seen = np.zeros(int(max(ua.max(initial=0), ub.max(initial=0))) + 1, dtype=bool)
        seen[ua] = True
        seen[ub] = True
        ends = np.flatnonzero(seen)
        rank_of = np.cumsum(seen, dtype=np.int64) - 1
        va, vb = rank_of[ua], rank_of[ub]
    else:
        va, vb = ua, ub
    count = len(ends) if ends is not None else len(nodes) if nodes is not None else 0
    order = np.argsort(va * max(count, 1) + vb, kind="stable")  # by (va, vb): vb < number of parties
    e = np.empty(len(order), dtype=np.int64)
    e[order] = np.arange(len(order), dtype=np.int64)

    def finish() -> pa.Table:
        """The parties' ids, labels, names and ranks (from `names` when given), and the tie table {t}."""
        out = nodes
        if names is not None and ends is not None:
            con.register("_ends", pa.table({"u": ends, "v": np.arange(len(ends), dtype=np.int64)}))
            try:
                out = con.sql(f"""WITH x AS (SELECT v, id FROM _ends JOIN {names} USING (u))
                                  SELECT id, n.label, n.name, {_RANK} FROM x LEFT JOIN (
                                      SELECT id, any_value(label) AS label, any_value(name) AS name FROM nodes SEMI JOIN x USING (id)
                                      GROUP BY id) n USING (id) ORDER BY v""").to_arrow_table()
            finally:
                con.unregister("_ends")
            con.execute(f"DROP TABLE {names}")
        con.register("_pair_numbers", pa.table({"ua": ua, "ub": ub, "e": e, "va": va, "vb": vb}))
        try:
            with store.unordered():
                con.execute(f"""CREATE OR REPLACE TEMP TABLE {t} AS
                                SELECT k.e, k.va, k.vb, coalesce(CASE WHEN p.k IS NOT NULL THEN [pk.kind] END, m.kinds) AS kinds,
                                       p.n, p.first, p.last, p.first_day, p.last_day,
                                       coalesce(CASE WHEN p.x IS NOT NULL THEN [px.exhibit_sha256] END, m.exhibits) AS exhibits
                                FROM {t}_pairs p JOIN _pair_numbers k ON k.ua = p.va AND k.ub = p.vb
                                LEFT JOIN {t}_k pk ON pk.k = p.k LEFT JOIN {t}_x px ON px.x = p.x
                                LEFT JOIN {t}_mixed m ON m.va = p.va AND m.vb = p.vb""")
        finally:
            con.unregister("_pair_numbers")
        for part in ("pairs", "mixed", "k", "x"):
            con.execute(f"DROP TABLE {t}_{part}")
        assert out is not None
        return out

    if defer:
        empty = pa.array([], pa.string())
        pending = on_own_thread("party-names", finish)
        return PartyGraph(store, t, empty, empty, empty, np.zeros(0, np.int64), va[order], vb[order], n[order], ends, pending)
    return PartyGraph(store, t, *_node_columns(finish()), va[order], vb[order], n[order], ends=ends)


def on_own_thread(name: str, fn: Callable[..., Any], *args: Any) -> Future:
    """fn(*args) started on a thread of its own, which ends when it returns; its result (or error) is the future's.
    DuckDB releases the GIL, so a query run this way goes on while the caller's igraph work holds it."""
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    try:
        return pool.submit(fn, *args)
    finally:
        pool.shutdown(wait=False)


def _node_columns(nodes: pa.Table) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    """ids, labels, names and ranks of a nodes table (id, label, name, rank)."""
    return (
        nodes.column("id").combine_chunks(),
        nodes.column("label").combine_chunks(),
        nodes.column("name").combine_chunks(),
        nodes.column("rank").combine_chunks().to_numpy(zero_copy_only=False).astype(np.int64),  # (a chunked to_numpy imports pandas)
    )
