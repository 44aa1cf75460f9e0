"""Questions about one or two parties, on the array party graph (igraph): "how is A connected to B"
(`shortest_path`) and "who is within k ties of A" (`neighbourhood`). Both take the store (and, to
answer several questions on one graph, the PartyGraph from analysis.party_arrays) and return plain
records, each tie with the records it rests on; the CLI, the notebook API and the workspace print them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from ..store import CaseStore
from . import keys
from .identifiers import normalise
from .parties import PartyGraph

NEIGHBOURHOOD_LIMIT = 500  # parties returned at most (nearest first); the answer says when it was cut


@dataclass
class Hop:
    a: str
    b: str
    kinds: list[str]
    count: int
    evidence: list[dict]


def _graph(store: CaseStore, g: PartyGraph | None) -> PartyGraph:
    if g is not None:
        return g
    from .analysis import party_arrays  # the tie rules live with the analyses

    return party_arrays(store)


def find_node(store: CaseStore, g: PartyGraph, text: str) -> str:
    """A party from what a user types: a node id, an identifier as written (any kind; the person using
    it when resolution joined it to one), or a name (exact, else the one name containing it)."""
    if text in g:
        return text
    for kind in keys.LABELS:
        n = normalise(kind, text)
        if n.valid:
            node = keys.node_key(n.kind, n.value)
            owner = store.one("SELECT min(src) FROM edges WHERE kind = 'USES' AND dst = ?", [node])
            party = owner[0] if owner and owner[0] else node
            if party in g:
                return party
    wanted = text.casefold()
    names = [str(x or "").casefold() for x in g.names.to_pylist()]
    hits = [v for v, x in enumerate(names) if x == wanted] or [v for v, x in enumerate(names) if wanted in x]
    if len(hits) == 1:
        return g.id(hits[0])
    raise KeyError(
        f"{text!r}: "
        + (
            f"several matches: {', '.join(g.display(h) for h in hits[:8])}"
            if hits
            else "no such party in the graph (try a phone, account, wallet or name)"
        )
    )


def shortest_path(store: CaseStore, a: str, b: str, g: PartyGraph | None = None) -> tuple[PartyGraph, list[Hop]]:
    """The fewest ties from A to B (A and B as `find_node` reads them), each hop with its records;
    no hops when they are not connected."""
    g = _graph(store, g)
    src, dst = g.index[find_node(store, g, a)], g.index[find_node(store, g, b)]
    ig_graph = g.igraph()
    nodes = ig_graph.get_shortest_path(src, dst, output="vpath") if src != dst else [src]
    if len(nodes) < 2:
        return g, []
    ties = [ig_graph.get_eid(x, y) for x, y in pairwise(nodes)]
    details = g.ties(ties, "kinds, n, evidence")
    return g, [
        Hop(g.id(x), g.id(y), details[e]["kinds"], details[e]["n"], details[e]["evidence"])
        for (x, y), e in zip(pairwise(nodes), ties, strict=True)
    ]


def neighbourhood(
    store: CaseStore, node: str, hops: int = 2, g: PartyGraph | None = None, limit: int = NEIGHBOURHOOD_LIMIT
) -> dict[str, Any]:
    """The parties within `hops` ties of a party (nearest first, at most `limit`) and the ties among them:
    {"centre", "hops", "parties": [{id, label, name, display, distance}], "ties": [{a, b, kinds, count,
    first, last, evidence}], "truncated": parties left out}."""
    g = _graph(store, g)
    v = g.index[find_node(store, g, node)]
    ig_graph = g.igraph()
    reached = np.asarray(ig_graph.neighborhood(v, order=hops), dtype=np.int64)  # v first, then by distance
    dist = np.asarray(ig_graph.distances(source=v, target=reached.tolist())[0])
    order = np.lexsort((reached, dist))
    kept = reached[order][:limit]
    inside = np.zeros(g.number_of_nodes(), dtype=bool)
    inside[kept] = True
    ties = np.flatnonzero(inside[g.a] & inside[g.b])
    details = g.ties(ties, "kinds, n, first, last, evidence")
    by_v = dict(zip(reached.tolist(), dist.tolist(), strict=True))
    return {
        "centre": g.id(v),
        "hops": hops,
        "parties": [
            {"id": g.id(x), "label": g.label(x), "name": g.name(x), "display": g.display(x), "distance": int(by_v[int(x)])} for x in kept
        ],
        "ties": [
            {
                "a": g.id(g.a[e]),
                "b": g.id(g.b[e]),
                "kinds": details[int(e)]["kinds"],
                "count": details[int(e)]["n"],
                "first": details[int(e)]["first"],
                "last": details[int(e)]["last"],
                "evidence": details[int(e)]["evidence"],
            }
            for e in ties
        ],
        "truncated": int(len(reached) - len(kept)),
    }
