"""Link analysis on a compiled graph library (igraph): who is connected to whom, and through whom.

The property graph is collapsed to *parties* first: an identifier a resolved person uses becomes
that person, and records become the ties between parties, each tie keeping its kinds, count,
first and last time, and the records it rests on:

- message: sender → the chat it was posted in (a group chat is a real hub), sender → recipient;
- mentioned: sender → an identifier written in the message (a number, an account, a wallet);
- in image: an identifier read from a screenshot → the exhibit that holds it;
- call: the other party → the device (exhibit) whose log holds the call;
- payment: payer → payee.

DuckDB builds the ties and numbers the parties; the arrays go to igraph in bulk (graph/parties.py).
Analyses (each result is a finding with those records as evidence):
- connected groups (igraph components), largest first;
- communities inside the three largest groups: Leiden optimising modularity at resolution 1.0, seeded;
- brokers: betweenness, exact up to EXACT_BETWEENNESS parties (and EXACT_WORK parties × ties); above, estimated from a seeded sample
  of source parties in four batches, the finding stating the sample and the estimate's standard error;
- most-contacted parties (records per party), parties seen on several seized exhibits, contact
  timelines of the busiest ties.
Every kind is ranked and capped, so a million-party case gives a readable list: the first `top` are
reported (several-exhibits at least MULTI_EXHIBIT, communities MAX_COMMUNITIES per group), the first
STORED are stored; a capped finding says its rank, of how many, and by what, and carries them in attrs
(rank, of, ranked_by, listed: false past the reported ones, which reports leave out and
`casegraph findings list --all` lists).
`analyse(..., engine="networkx")` runs today's networkx code (analysis_nx) for comparison;
paths.py answers "how is A connected to B" and k-hop neighbourhoods.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np
import pyarrow as pa

from ..findings import Finding
from ..model import DIRECTED_TIES as DIRECTED_TIES  # declared in model; here for analysis' callers
from ..ranges import flat_ranges
from ..store import CaseStore
from ..ties import TIES as _TIES  # noqa: F401  (the rules with named ends: parties.load, the tests)
from ..ties import display as _display_nx
from ..ties import numbered_ties
from ..ties import party_graph as party_graph  # the store's ties as networkx (casegraph/ties.py); here for analysis' callers
from ..wording import plural
from . import parties
from .parties import PartyGraph

VERSION = "2.0.0"
DETECTOR = "link-analysis"
EXACT_BETWEENNESS = 10_000  # parties; igraph's exact betweenness of 5,000 well-connected parties took 6 s here
EXACT_WORK = 60_000_000  # and parties × ties at most: exact costs a search from every party (9,919 × 23,439 took 34 s CPU)
EXACT_BETWEENNESS_NX = 5000  # today's networkx limit (analysis_nx)
SOURCE_BUDGET = 20_000_000  # tie visits for estimated betweenness: sources = budget / ties, between 8 and 256
BATCHES = 4  # the sampled sources are split in batches; their spread gives the estimate's standard error
LOUVAIN_MAX_EDGES = 500_000  # networkx path: above this, label propagation instead of Louvain
RESOLUTION = 1.0  # modularity resolution of the communities
LEIDEN_STABLE_EDGES = 50_000  # up to this many ties Leiden iterates until no party moves; above, 2 iterations
LEIDEN_ITERATIONS = 2
MAX_COMMUNITIES = 50  # per connected group
MULTI_EXHIBIT = 100  # several-exhibit findings reported at least (ranked)
STORED = 1000  # findings stored per kind (per group for communities), ranked; those past the reported ones are listed with --all


def _parties(n: Any) -> str:
    return plural(int(n), "party", "parties")


def display(g: nx.Graph | PartyGraph, node: str) -> str:
    if isinstance(g, PartyGraph):
        return g.display(g.index[node])
    return _display_nx(g, node)


def _when(ts, day: str | None) -> str:
    """A tie's first or last time: a statement's date when it gave no time (never an invented midnight)."""
    return f"{day} (date only)" if day else f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def party_arrays(store: CaseStore, defer: bool = False) -> PartyGraph:
    """The party graph as arrays (igraph on demand): what the analyses and paths run on. `defer`: the parties'
    names are made while the caller works on the arrays (parties.load_numbered; PartyGraph.ready() waits)."""
    return parties.load_numbered(store, numbered_ties, defer)


def _pct(x: float) -> str:
    """A share as a percentage, with two significant digits when it is below 0.1% (never a bare 0.0%)."""
    return f"{x:.1%}" if x >= 0.001 or x == 0 else f"{x * 100:.2g}%"


def _ranked(i: int, total: int, shown: int, stored: int, by: str, kind: str) -> str:
    """What a capped list says about its rank (nothing when every result is reported)."""
    if total <= shown:
        return ""
    kept = f"all {total:,} are stored" if total <= stored else f"the first {stored:,} are stored"
    return (
        f" Rank {i + 1:,} of {total:,} by {by}; the first {shown:,} are reported (casegraph analyze --top N reports more), "
        f"{kept} (casegraph findings list CASE --kind {kind} --all)."
    )


def _rank_attrs(i: int, total: int, shown: int, by: str) -> dict[str, Any]:
    """A capped finding's rank in its attrs; `listed` false: stored and listed with --all, left out of reports."""
    return {} if total <= shown else {"rank": i + 1, "of": total, "ranked_by": by, "listed": i < shown}


def _order(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Indices sorted by the keys, the first key most significant (np.lexsort takes them last first)."""
    return np.lexsort(tuple(reversed(keys)))


def _groups(labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, starts): order lists the positions of each label 0..size-1 together, in position order."""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(size + 1))
    return order, starts


def betweenness(
    g: ig.Graph, seed: int, ends: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray | None, int | None]:
    """Normalised betweenness as networkx defines it (share of the shortest paths between other parties):
    (values, standard errors or None, sampled sources or None). Exact up to EXACT_BETWEENNESS parties and EXACT_WORK;
    above, from k seeded source parties (Brandes–Pich) in BATCHES batches, the spread of the batch
    estimates giving each value's standard error. `ends`: g's ties as arrays (a, b), when the caller has them."""
    n, m = g.vcount(), g.ecount()
    if n < 3:
        return np.zeros(n), None, None
    scale = 2.0 / ((n - 1) * (n - 2))  # igraph counts each unordered pair once
    if n <= EXACT_BETWEENNESS and n * m <= EXACT_WORK:
        return np.asarray(g.betweenness(directed=False)) * scale, None, None
    per = max(8 // BATCHES, min(256, SOURCE_BUDGET // max(m, 1)) // BATCHES)
    if per * BATCHES >= n:  # as many sources as parties: exact is no dearer
        return np.asarray(g.betweenness(directed=False)) * scale, None, None
    sources = np.random.default_rng(seed).choice(n, per * BATCHES, replace=False)
    adjacency = _adjacency(g, ends)
    estimates = np.array([estimate(g, s, adjacency) for s in np.split(sources, BATCHES)])
    return estimates.mean(axis=0), estimates.std(axis=0, ddof=1) / np.sqrt(BATCHES), per * BATCHES


def estimate(g: ig.Graph, sources: np.ndarray, adjacency: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Betweenness estimated from these sources (Brandes–Pich), normalised as networkx's `k` estimate:
    the dependencies of the sources summed, times n / |sources|, over (n - 1)(n - 2). `adjacency`: g's
    (indptr, neighbours), when the caller has it."""
    n = g.vcount()
    indptr, nbrs = adjacency if adjacency is not None else _adjacency(g)
    total = np.zeros(n)
    for s in np.asarray(sources, dtype=np.int64):
        total += _dependencies(indptr, nbrs, int(s))
    return total * n / len(sources) / ((n - 1) * (n - 2))


def _adjacency(g: ig.Graph, ends: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, neighbours) of the undirected graph, each party's neighbours in one run (CSR)."""
    a, b = ends if ends is not None else np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2).T
    order, starts = parties.by_party(a, b, g.vcount())
    return starts, np.concatenate([b, a])[order]  # each end's party's neighbour: the tie's other end


def _dependencies(indptr: np.ndarray, nbrs: np.ndarray, s: int) -> np.ndarray:
    """Brandes' dependencies of every party on source s (unweighted): a breadth-first search level by level, each
    level's ties to the next (the shortest-path DAG) kept, the path counts summed forwards and the dependencies
    backwards over them. Vectorised per level: igraph's betweenness with `sources` took 1.5 s per source at a million
    parties, most of the estimate's time; this takes a fraction of it (the same values: tests/test_graph_scale.py)."""
    n = len(indptr) - 1
    dist = np.full(n, -1, dtype=np.int32)
    sigma, slot = np.zeros(n), np.zeros(n, dtype=np.int64)
    dist[s], sigma[s] = 0, 1.0
    frontier, level, dag = np.array([s], dtype=np.int64), 0, []
    while len(frontier):
        starts, counts = indptr[frontier], indptr[frontier + 1] - indptr[frontier]
        u = np.repeat(frontier, counts)  # every tie of the frontier, as (u, v)
        v = nbrs[flat_ranges(starts, counts)]
        new = v[dist[v] == -1]
        slot[new] = np.arange(len(new))  # the next frontier: each new party once (the first of its repeats)
        frontier = new[slot[new] == np.arange(len(new))]
        dist[frontier] = level + 1
        down = dist[v] == level + 1  # ties into the next level: on shortest paths
        u, v = u[down], v[down]
        np.add.at(sigma, v, sigma[u])
        dag.append((u, v))
        level += 1
    delta = np.zeros(n)
    for u, v in reversed(dag):
        np.add.at(delta, u, sigma[u] / sigma[v] * (1.0 + delta[v]))
    delta[s] = 0.0
    return delta


def communities(sub: ig.Graph, seed: int) -> tuple[list[int], str]:
    """Leiden communities (modularity, RESOLUTION), seeded: igraph draws from the random module given."""
    stable = sub.ecount() <= LEIDEN_STABLE_EDGES
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = sub.community_leiden(
            objective_function="modularity", weights="weight", resolution=RESOLUTION, n_iterations=-1 if stable else LEIDEN_ITERATIONS
        )
    finally:
        ig.set_random_number_generator(random)
    method = f"Leiden, modularity at resolution {RESOLUTION:g}, seed {seed}" + ("" if stable else f", {LEIDEN_ITERATIONS} iterations")
    return part.membership, method


def analyse(store: CaseStore, top: int = 10, seed: int = 42, engine: str = "igraph") -> tuple[Any, list[Finding]]:
    """Every analysis, as findings: (the party graph, findings). engine "networkx" runs today's code."""
    if engine == "networkx":
        from . import analysis_nx

        return analysis_nx.analyse(store, top=top, seed=seed)
    # DuckDB names the parties on its own thread while igraph builds and searches the graph (no store use until ready())
    pg = party_arrays(store, defer=True)
    g = pg.igraph()
    component = np.asarray(g.connected_components().membership, dtype=np.int64)
    between, error, sampled = betweenness(g, seed, (pg.a, pg.b))
    pg.ready()
    return pg, findings_from(store, pg, component, lambda sub, _members: communities(sub, seed), (between, error, sampled), top)


def findings_from(
    store: CaseStore,
    pg: PartyGraph,
    component: np.ndarray,
    detect: Callable[[ig.Graph, np.ndarray], tuple[list[int], str]],
    brokers: tuple[np.ndarray, np.ndarray | None, int | None],
    top: int = 10,
    ranked_only: str | None = None,
    stored: int | None = None,
) -> list[Finding]:
    """The findings of the analyses from their results per party (component labels, a community
    detector for a group's subgraph and its members, betweenness): shared by the igraph and the Neo4j
    GDS routes. `ranked_only`: the betweenness values rank the brokers but are no share of paths
    (a sample GDS drew by degree); the text says how they were ranked instead of a percentage."""
    pg.ready()
    hub = pg.hub_mask()  # made here, before the thread below starts: it caches on pg
    # The DuckDB queries that need neither communities nor brokers run on a thread of their own while the
    # community detection (GIL-held Python callbacks) and the ranking run here; this thread keeps off the store's
    # connection (its temp tables are per connection, so no cursor can share them) until the join.
    ahead = parties.on_own_thread("findings-sql", _queries_ahead, store, pg)
    try:
        return _findings(store, pg, component, detect, brokers, top, ranked_only, stored, hub, ahead)
    finally:
        with contextlib.suppress(Exception):  # never leave the thread on the connection; its error is raised at the join
            ahead.result()


def _queries_ahead(store: CaseStore, pg: PartyGraph) -> tuple[pa.Table, np.ndarray]:
    """The parties seen on several exhibits (v, devices) and the ties with a time (tie numbers): findings_from's
    queries that depend on no community or broker, run ahead on another thread."""
    seen = store.con.sql(f"""
        WITH x AS (SELECT va AS v, unnest(exhibits) AS sha FROM {pg.table} UNION ALL SELECT vb, unnest(exhibits) FROM {pg.table}),
        d AS (SELECT DISTINCT x.v, coalesce(e.exhibit_id, left(x.sha, 12)) AS device FROM x LEFT JOIN exhibits e ON e.sha256 = x.sha)
        SELECT v, list(device ORDER BY device) AS devices FROM d GROUP BY v HAVING count(*) >= 2""").to_arrow_table()
    timed = store.con.sql(f"SELECT e FROM {pg.table} WHERE first IS NOT NULL").fetchnumpy()["e"].astype(np.int64)
    return seen, timed


def _findings(
    store: CaseStore,
    pg: PartyGraph,
    component: np.ndarray,
    detect: Callable[[ig.Graph, np.ndarray], tuple[list[int], str]],
    brokers: tuple[np.ndarray, np.ndarray | None, int | None],
    top: int,
    ranked_only: str | None,
    stored: int | None,
    hub: np.ndarray,
    ahead: Future,
) -> list[Finding]:
    """findings_from's body: `hub` the hub mask, `ahead` the future of _queries_ahead (joined before any store use)."""
    findings: list[Finding] = []
    n, a, b = pg.number_of_nodes(), pg.a, pg.b
    v_all = np.arange(n)
    stored = max(STORED if stored is None else stored, top)

    cited: list[np.ndarray] = []  # per finding, the ties whose records it cites: fetched in one query at the end

    def finding(kind, subject, title, summary, ties, score=None, **attrs):
        findings.append(Finding(kind, subject, title, summary, DETECTOR, VERSION, [], score, attrs))
        cited.append(np.asarray(ties, dtype=np.int64))

    def names(members: np.ndarray, k: int = 12) -> str:
        return ", ".join(pg.display(v) for v in members[:k])

    def ranked(kind: str, i: int, total: int, shown: int, by: str) -> tuple[str, dict[str, Any]]:
        return _ranked(i, total, shown, stored, by, kind), _rank_attrs(i, total, shown, by)

    # connected groups, largest first (ties broken by the first party id)
    n_comp = int(component.max()) + 1 if n else 0
    size = np.bincount(component, minlength=n_comp)
    first = np.full(n_comp, n, dtype=np.int64)
    np.minimum.at(first, component, v_all)
    big = np.flatnonzero(size >= 3)
    big = big[_order((-size[big], first[big]))]
    v_order, v_starts = _groups(component, n_comp)
    e_order, e_starts = _groups(component[a], n_comp)
    ties_in = np.bincount(component[a], minlength=n_comp)
    for i, c in enumerate(big[:stored]):
        members = pg.people_first(v_order[v_starts[c] : v_starts[c + 1]])
        ids = pg.ids.take(members[:500]).to_pylist()
        rank, rank_attrs = ranked("connected-group", i, len(big), top, "size")
        finding(
            "connected-group",
            f"component:{ids[0]}",
            f"Connected group of {_parties(size[c])}",
            f"{_parties(size[c])} joined by {plural(int(ties_in[c]), 'tie')}: {names(members)}" + (" …" if size[c] > 12 else "") + rank,
            e_order[e_starts[c] : e_starts[c + 1]],
            float(size[c]),
            members=ids,
            size=int(size[c]),
            **rank_attrs,
        )

    # communities inside the largest groups
    g = pg.igraph()
    for c in big[:3]:
        if size[c] < 6:
            continue
        members = v_order[v_starts[c] : v_starts[c + 1]]  # ascending: the subgraph numbers them in this order
        sub = g if len(members) == n else g.induced_subgraph(members.tolist())
        membership, method = detect(sub, members)
        label = np.full(n, -1, dtype=np.int64)
        label[members] = membership
        n_com = int(label.max()) + 1
        com_size = np.bincount(label[members], minlength=n_com)
        com_first = np.full(n_com, n, dtype=np.int64)
        np.minimum.at(com_first, label[members], members)
        keep = np.flatnonzero(com_size >= 3)
        keep = keep[_order((-com_size[keep], com_first[keep]))]
        inside = np.where(label[a] == label[b], label[a], -1)
        cv_order, cv_starts = _groups(np.where(label >= 0, label, n_com), n_com + 1)
        ce_order, ce_starts = _groups(np.where(inside >= 0, inside, n_com), n_com + 1)
        for i, k in enumerate(keep[: max(stored, MAX_COMMUNITIES)]):
            com = pg.people_first(cv_order[cv_starts[k] : cv_starts[k + 1]])
            rank, rank_attrs = ranked("community", i, len(keep), MAX_COMMUNITIES, "size")
            finding(
                "community",
                f"community:{pg.id(com[0])}",
                f"Community of {com_size[k]}: {pg.display(com[0])} …",
                f"Parties more tied to each other than to the rest ({method}): {names(com)}" + rank,
                ce_order[ce_starts[k] : ce_starts[k + 1]],
                float(com_size[k]),
                members=pg.ids.take(com[:500]).to_pylist(),
                **rank_attrs,
            )

    # brokers: on many shortest paths between others
    between, error, sampled = brokers
    party = np.flatnonzero(~hub)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    positive = party[between[party] > 0]
    for i, v in enumerate(positive[_order((-between[positive], positive))][:stored]):
        how = f" (estimated from {sampled} sampled sources, standard error {_pct(float(error[v]))})" if error is not None else ""
        rank, rank_attrs = ranked("broker", i, len(positive), top, "betweenness")
        finding(
            "broker",
            f"broker:{pg.id(v)}",
            f"Broker: {pg.display(v)}",
            (
                f"Ranked by betweenness ({ranked_only}); ties to {_parties(degree[v])}."
                if ranked_only
                else f"On {_pct(float(between[v]))} of shortest paths between other parties{how}; ties to {_parties(degree[v])}."
            )
            + rank,
            pg.incident(v),
            round(float(between[v]), 6),
            betweenness=float(between[v]),
            sampled=sampled,
            **({"standard_error": float(error[v])} if error is not None else {}),
            **rank_attrs,
        )

    # most contacted
    strength = np.bincount(a, weights=pg.weight, minlength=n) + np.bincount(b, weights=pg.weight, minlength=n)
    for i, v in enumerate(party[_order((-strength[party], party))][:stored]):
        contacts = int(strength[v])
        rank, rank_attrs = ranked("most-contacted", i, len(party), top, "recorded contacts")
        finding(
            "most-contacted",
            f"contacted:{pg.id(v)}",
            f"Most contacted: {pg.display(v)}",
            f"{plural(contacts, 'recorded contact')} with {_parties(degree[v])}." + rank,
            pg.incident(v),
            float(contacts),
            degree=int(degree[v]),
            contacts=contacts,
            **rank_attrs,
        )

    # seen on several seized exhibits (devices), most exhibits first, then most contacts
    seen, timed_ties = ahead.result()  # the join: the store's connection is this thread's again from here
    sv = seen.column("v").to_numpy().astype(np.int64)
    n_dev = np.asarray(seen.column("devices").combine_chunks().value_lengths(), dtype=np.int64)
    keep = np.flatnonzero(~hub[sv])
    keep = keep[_order((-n_dev[keep], -strength[sv[keep]], sv[keep]))]
    shown = max(top, MULTI_EXHIBIT)
    devices_of = seen.column("devices")
    for i, row in enumerate(keep[: max(stored, shown)]):
        v, devices = sv[row], devices_of[int(row)].as_py()
        rank, rank_attrs = ranked("multi-exhibit", i, len(keep), shown, "exhibits, then recorded contacts")
        finding(
            "multi-exhibit",
            f"exhibits:{pg.id(v)}",
            f"Seen on {plural(len(devices), 'exhibit')}: {pg.display(v)}",
            f"Appears in records of exhibits {', '.join(devices)}." + rank,
            pg.incident(v),
            float(len(devices)),
            exhibits=devices,
            **rank_attrs,
        )

    # contact timelines of the busiest ties that have a time and are not between two places (chats, exhibits);
    # each pair is written party first, place last, else in id order, and ranked by count, then those ids
    timed = np.zeros(len(a), dtype=bool)
    timed[timed_ties] = True
    swap = hub[a] & ~hub[b]
    x, y = np.where(swap, b, a), np.where(swap, a, b)
    candidates = np.flatnonzero(timed & ~(hub[a] & hub[b]))
    busiest = candidates[_order((-pg.weight[candidates], x[candidates], y[candidates]))][:stored]
    details = pg.ties(busiest)
    for i, e in enumerate(busiest):
        d = details[int(e)]
        rank, rank_attrs = ranked("contact-timeline", i, len(candidates), top, "recorded contacts")
        finding(
            "contact-timeline",
            f"timeline:{pg.id(x[e])}|{pg.id(y[e])}",
            f"Contact: {pg.display(x[e])} — {pg.display(y[e])}",
            f"{plural(int(d['n']), 'contact')} ({', '.join(d['kinds'])}) from {_when(d['first'], d['first_day'])} to "
            f"{_when(d['last'], d['last_day'])}." + rank,
            [int(e)],
            float(d["n"]),
            first=d["first"].isoformat(),
            last=d["last"].isoformat(),
            kinds=d["kinds"],
            **rank_attrs,
        )
    for f, evidence in zip(findings, pg.evidence_many(cited), strict=True):
        f.evidence = evidence
    return findings


def shortest_path(store: CaseStore, a: str, b: str, g: PartyGraph | None = None) -> tuple[PartyGraph, list[Any]]:
    """How is A connected to B: see paths.shortest_path (kept here for the CLI and the notebook API)."""
    from . import paths

    return paths.shortest_path(store, a, b, g)
