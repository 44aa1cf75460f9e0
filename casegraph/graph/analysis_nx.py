"""Today's link analysis on networkx, kept as the reference the compiled engine is measured and checked
against (`benchmarks/graph_scale.py --engine networkx`, and `analyse(..., engine="networkx")`).
It gives the same kinds of findings as analysis.analyse; it is pure Python, so use it on small cases only."""

from __future__ import annotations

import networkx as nx

from ..findings import Finding
from ..store import CaseStore
from .analysis import DETECTOR, LOUVAIN_MAX_EDGES, MAX_COMMUNITIES, VERSION, _when, display, party_graph
from .analysis import EXACT_BETWEENNESS_NX as EXACT_BETWEENNESS

SAMPLE = 64  # sampled sources up to 100,000 nodes; 16 above (each source is a full BFS in Python)


def _evidence(g: nx.Graph, edges, cap: int = 50) -> list[dict]:
    out, seen = [], set()
    for a, b in edges:
        for e in g.edges[a, b]["evidence"]:
            if e["record"] not in seen:
                seen.add(e["record"])
                out.append({**e, "table": e["record"].split("/", 1)[0]})
            if len(out) >= cap:
                return out
    return out


def _people_first(g: nx.Graph, nodes) -> list[str]:
    return sorted(nodes, key=lambda n: (g.nodes[n].get("label") != "Person", str(g.nodes[n].get("name")), n))


def analyse(store: CaseStore, top: int = 10, seed: int = 42) -> tuple[nx.Graph, list[Finding]]:
    g = party_graph(store)
    findings: list[Finding] = []

    def finding(kind, subject, title, summary, evidence, score=None, **attrs):
        findings.append(Finding(kind, subject, title, summary, DETECTOR, VERSION, evidence, score, attrs))

    # connected groups
    components = sorted((c for c in nx.connected_components(g) if len(c) >= 3), key=len, reverse=True)
    for comp in components[:top]:
        sub = g.subgraph(comp)
        members = _people_first(g, comp)
        finding(
            "connected-group",
            f"component:{members[0]}",
            f"Connected group of {len(comp)} parties",
            f"{len(comp)} parties joined by {sub.number_of_edges()} ties: "
            + ", ".join(display(g, n) for n in members[:12])
            + (" …" if len(comp) > 12 else ""),
            _evidence(g, sub.edges()),
            float(len(comp)),
            members=members[:500],
            size=len(comp),
        )

    # communities inside the largest groups
    for comp in components[:3]:
        if len(comp) < 6:
            continue
        sub = g.subgraph(comp)
        if sub.number_of_edges() <= LOUVAIN_MAX_EDGES:
            method, communities = "Louvain", nx.community.louvain_communities(sub, weight="weight", seed=seed)
        else:
            method, communities = "label propagation", nx.community.fast_label_propagation_communities(sub, weight="weight", seed=seed)
        # the largest communities become findings (a million-party graph has tens of thousands)
        for com in sorted((c for c in communities if len(c) >= 3), key=lambda c: (-len(c), min(c)))[:MAX_COMMUNITIES]:
            members = _people_first(g, com)
            finding(
                "community",
                f"community:{members[0]}",
                f"Community of {len(com)}: {display(g, members[0])} …",
                f"Parties more tied to each other than to the rest ({method}): " + ", ".join(display(g, n) for n in members[:12]),
                _evidence(g, g.subgraph(com).edges()),
                float(len(com)),
                members=members[:500],
            )

    # brokers: on many shortest paths between others
    n_nodes = g.number_of_nodes()
    k = None if n_nodes <= EXACT_BETWEENNESS else SAMPLE if n_nodes <= 100_000 else 16
    between = nx.betweenness_centrality(g, k=k, seed=seed, normalized=True)
    parties = [n for n in g if g.nodes[n].get("label") not in ("Chat", "Exhibit")]
    for n in sorted(parties, key=lambda n: (-between[n], n))[:top]:
        if between[n] <= 0:
            break
        finding(
            "broker",
            f"broker:{n}",
            f"Broker: {display(g, n)}",
            f"On {between[n]:.1%} of shortest paths between other parties"
            + (f" (estimated from {k} sampled sources)" if k else "")
            + f"; ties to {g.degree(n)} parties.",
            _evidence(g, g.edges(n)),
            round(between[n], 6),
            betweenness=between[n],
            sampled=k,
        )

    # most contacted
    strength = dict(g.degree(weight="weight"))
    for n in sorted(parties, key=lambda n: (-strength[n], n))[:top]:
        finding(
            "most-contacted",
            f"contacted:{n}",
            f"Most contacted: {display(g, n)}",
            f"{strength[n]} recorded contacts with {g.degree(n)} parties.",
            _evidence(g, g.edges(n)),
            float(strength[n]),
            degree=g.degree(n),
            contacts=strength[n],
        )

    # seen on several seized exhibits (devices)
    exhibit_ids = {r["sha256"]: r["exhibit_id"] for r in store.rows("SELECT sha256, exhibit_id FROM exhibits")}
    for n in parties:
        seen = {x for _, _, d in g.edges(n, data=True) for x in d["exhibits"]}
        devices = sorted({exhibit_ids.get(x, x[:12]) for x in seen})
        if len(devices) >= 2:
            finding(
                "multi-exhibit",
                f"exhibits:{n}",
                f"Seen on {len(devices)} exhibits: {display(g, n)}",
                f"Appears in records of exhibits {', '.join(devices)}.",
                _evidence(g, g.edges(n)),
                float(len(devices)),
                exhibits=devices,
            )

    # contact timelines between parties who were in touch directly
    for a, b, d in sorted(g.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))[:top]:
        if d["first"] is None or (g.nodes[a].get("label") in ("Chat", "Exhibit") and g.nodes[b].get("label") in ("Chat", "Exhibit")):
            continue
        finding(
            "contact-timeline",
            f"timeline:{a}|{b}",
            f"Contact: {display(g, a)} — {display(g, b)}",
            f"{d['weight']} contacts ({', '.join(d['kinds'])}) from {_when(d['first'], d['first_day'])} to "
            f"{_when(d['last'], d['last_day'])}.",
            _evidence(g, [(a, b)]),
            float(d["weight"]),
            first=d["first"].isoformat(),
            last=d["last"].isoformat(),
            kinds=d["kinds"],
        )
    return g, findings
