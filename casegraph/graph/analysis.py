"""Link analysis on the embedded graph (networkx): who is connected to whom, and through whom.

The property graph is collapsed to *parties* first: an identifier a resolved person uses becomes
that person, and records become the ties between parties, each tie keeping its kinds, count,
first and last time, and the records it rests on:

- message: sender → the chat it was posted in (a group chat is a real hub), sender → recipient;
- mentioned: sender → an identifier written in the message (a number, an account, a wallet);
- in image: an identifier read from a screenshot → the exhibit that holds it;
- call: the other party → the device (exhibit) whose log holds the call;
- payment: payer → payee.

Analyses (each result is a finding with those records as evidence): connected groups,
communities (Louvain; label propagation on very large groups), brokers (betweenness; sampled on large graphs), most-contacted parties
(weighted degree), parties seen on several seized exhibits, and contact timelines per pair.
`shortest_path` answers "how is A connected to B", with the records behind every hop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from itertools import pairwise

import networkx as nx

from ..findings import Finding
from ..store import CaseStore
from . import keys
from .identifiers import normalise

VERSION = "1.0.0"
DETECTOR = "link-analysis"
EXACT_BETWEENNESS = 5000  # nodes; above this betweenness is estimated from a seeded sample of sources
SAMPLE = 64  # sampled sources up to 100,000 nodes; 16 above (each source is a full BFS in Python)
LOUVAIN_MAX_EDGES = 500_000  # above this, communities by (fast, seeded) label propagation instead of Louvain
EVIDENCE_PER_TIE = 5
MAX_COMMUNITIES = 50  # per connected group

_TIE_ROWS = """
WITH owner AS (SELECT dst AS node, min(src) AS person FROM edges WHERE kind = 'USES' GROUP BY dst),
party AS (SELECT n.id, coalesce(o.person, n.id) AS p FROM nodes n LEFT JOIN owner o ON o.node = n.id),
ties AS (
    SELECT ps.p AS a, c.dst AS b, 'message' AS kind, s.ts_utc, s.record_id, s.locator, s.exhibit_sha256, 1.0 AS w,
           NULL::VARCHAR AS day
    FROM edges s JOIN edges c ON c.src = s.dst AND c.kind = 'IN' JOIN party ps ON ps.id = s.src WHERE s.kind = 'SENT'
    UNION ALL
    SELECT ps.p, pt.p, 'message', s.ts_utc, s.record_id, s.locator, s.exhibit_sha256, 1.0, NULL
    FROM edges s JOIN edges t ON t.src = s.dst AND t.kind = 'TO' JOIN party ps ON ps.id = s.src JOIN party pt ON pt.id = t.dst
    WHERE s.kind = 'SENT'
    UNION ALL
    SELECT ps.p, pm.p, 'mentioned', s.ts_utc, m.record_id, m.locator, m.exhibit_sha256, 1.0, NULL
    FROM edges s JOIN edges m ON m.src = s.dst AND m.kind = 'MENTIONS' JOIN party ps ON ps.id = s.src JOIN party pm ON pm.id = m.dst
    WHERE s.kind = 'SENT'
    UNION ALL
    SELECT pm.p, 'Exhibit:' || m.exhibit_sha256, 'in image', NULL, m.record_id, m.locator, m.exhibit_sha256, 1.0, NULL
    FROM edges m JOIN party pm ON pm.id = m.dst WHERE m.kind = 'MENTIONS' AND starts_with(m.src, 'ocr_text/')
    UNION ALL
    SELECT pc.p, 'Exhibit:' || c.exhibit_sha256, 'call', c.ts_utc, c.record_id, c.locator, c.exhibit_sha256, 1.0, NULL
    FROM edges c JOIN party pc ON pc.id = c.src WHERE c.kind = 'IN_CALL'
    UNION ALL
    SELECT pf.p, pt.p, 'payment', f.ts_utc, f.record_id, f.locator, f.exhibit_sha256, 1.0, f.attrs->>'date'
    FROM edges f JOIN edges t ON t.src = f.dst AND t.kind = 'PAID_TO' JOIN party pf ON pf.id = f.src JOIN party pt ON pt.id = t.dst
    WHERE f.kind = 'PAID')
"""
# The same ties with their direction (sender → chat, payer → payee), for pictures that draw arrows.
DIRECTED_TIES = _TIE_ROWS + "SELECT a, b, kind, ts_utc, record_id FROM ties WHERE a <> b"
_TIES = (
    _TIE_ROWS
    + """
SELECT least(a, b) AS a, greatest(a, b) AS b, kind, ts_utc, record_id, locator, exhibit_sha256, day FROM ties WHERE a <> b
"""
)
# Two passes over the materialised ties, so that no aggregate holds whole lists of a 5M-tie graph:
# the counts per pair, then the first few records per pair (a window that spills to disk).
_PAIRS = (
    """
WITH counts AS (
    SELECT a, b, list(DISTINCT kind ORDER BY kind) AS kinds, count(*) AS n, min(ts_utc) AS first, max(ts_utc) AS last,
           arg_min(day, ts_utc) AS first_day, arg_max(day, ts_utc) AS last_day,  -- set when that end is a date without a time
           list(DISTINCT exhibit_sha256 ORDER BY exhibit_sha256) AS exhibits
    FROM _ties GROUP BY a, b),
firsts AS (
    SELECT a, b, list({'record': record_id, 'locator': locator, 'exhibit_sha256': exhibit_sha256} ORDER BY ts_utc NULLS LAST, record_id) AS evidence
    FROM (SELECT * FROM _ties QUALIFY row_number() OVER (PARTITION BY a, b ORDER BY ts_utc NULLS LAST, record_id) <= %d)
    GROUP BY a, b)
SELECT c.a, c.b, c.kinds, c.n, c.first, c.last, f.evidence, c.exhibits, c.first_day, c.last_day FROM counts c JOIN firsts f USING (a, b) ORDER BY c.a, c.b
"""  # noqa: E501, UP031
    % EVIDENCE_PER_TIE
)


def party_graph(store: CaseStore) -> nx.Graph:
    """The collapsed graph: parties as nodes (with label and name), ties as weighted edges."""
    g = nx.Graph()
    names = store.con.sql(
        "SELECT id, label, name FROM nodes WHERE label NOT IN ('Message', 'Call', 'Transaction', 'OcrText')"
    ).to_arrow_table()
    for node, label, name in zip(*(names.column(c).to_pylist() for c in ("id", "label", "name")), strict=True):
        g.add_node(node, label=label, name=name)
    with store.unordered() as con:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ties AS {_TIES}")
        ties = con.sql(_PAIRS).to_arrow_table()
        con.execute("DROP TABLE _ties")
    cols = {c: ties.column(c).to_pylist() for c in ties.column_names}
    for a, b, kinds, n, first, last, evidence, exhibits, first_day, last_day in zip(*cols.values(), strict=True):
        g.add_edge(
            a,
            b,
            weight=n,
            kinds=kinds,
            first=first,
            last=last,
            evidence=evidence,
            exhibits=exhibits,
            first_day=first_day,
            last_day=last_day,
        )
    g.remove_nodes_from([n for n, d in g.degree() if d == 0])
    return g


def display(g: nx.Graph, node: str) -> str:
    d = g.nodes[node]
    label, name = d.get("label", "?"), d.get("name") or node
    return {"Chat": f"chat '{name}'", "Exhibit": f"exhibit {name}"}.get(label, f"{name} ({label})")


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


def _when(ts, day: str | None) -> str:
    """A tie's first or last time: a statement's date when it gave no time (never an invented midnight)."""
    return f"{day} (date only)" if day else f"{ts.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def find_node(store: CaseStore, g: nx.Graph, text: str) -> str:
    """A node from what a user types: a node id, an identifier as written (any kind), or a name."""
    if text in g:
        return text
    owner = {r["dst"]: r["src"] for r in store.rows("SELECT src, dst FROM edges WHERE kind = 'USES'")}
    for kind in keys.LABELS:
        n = normalise(kind, text)
        if n.valid:
            node = keys.node_key(n.kind, n.value)
            if node in g or node in owner:
                return owner.get(node, node)
    wanted = text.casefold()
    hits = [n for n, d in g.nodes(data=True) if str(d.get("name") or "").casefold() == wanted]
    hits = hits or [n for n, d in g.nodes(data=True) if wanted in str(d.get("name") or "").casefold()]
    if len(hits) == 1:
        return hits[0]
    raise KeyError(
        f"{text!r}: "
        + (
            f"several matches: {', '.join(display(g, h) for h in hits[:8])}"
            if hits
            else "no such party in the graph (try a phone, account, wallet or name)"
        )
    )


@dataclass
class Hop:
    a: str
    b: str
    kinds: list[str]
    count: int
    evidence: list[dict]


def shortest_path(store: CaseStore, a: str, b: str, g: nx.Graph | None = None) -> tuple[nx.Graph, list[Hop]]:
    g = g if g is not None else party_graph(store)
    src, dst = find_node(store, g, a), find_node(store, g, b)
    try:
        nodes = nx.shortest_path(g, src, dst)
    except nx.NetworkXNoPath:
        return g, []
    return g, [Hop(x, y, g.edges[x, y]["kinds"], g.edges[x, y]["weight"], g.edges[x, y]["evidence"]) for x, y in pairwise(nodes)]
