"""The ties between parties as the case store holds them, as a networkx graph: parties (nodes with a
label and a name) and their ties (weighted by count, with kinds, first and last time, the first records
and the exhibits). It reads only the store, so the report draws it (reports.pictures) and the graph
analyses rank it (graph.analysis, graph.analysis_nx) without either importing the other. The tie rules
are model.TIE_ROWS.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from .model import TIE_ROWS as _TIE_ROWS
from .model import tie_rows
from .store import CaseStore

EVIDENCE_PER_TIE = 5

# each pair once (its ends in order), no tie of a party with itself
UNDIRECTED = """
SELECT least(a, b) AS a, greatest(a, b) AS b, kind, ts_utc, record_id, locator, exhibit_sha256, day FROM ties WHERE a <> b
"""
TIES = _TIE_ROWS + UNDIRECTED


def numbered_ties(party: str, places: str | None, kinds: Iterable[str] | None = None) -> str:
    """TIES over the party CTEs and places given (model.tie_rows), each record by its row of `edges` (r) and the
    hash of its id (h) instead of its id and locator: graph.parties numbers the ends first, and reads the records
    only for the ties a finding cites."""
    return tie_rows(party, places, by_row=True, kinds=kinds) + UNDIRECTED.replace("record_id, locator", "r, h")


# Two passes over the materialised ties, so that no aggregate holds whole lists of a 5M-tie graph:
# the counts per pair, then the first few records per pair (a window that spills to disk).
PAIRS = (
    """
WITH counts AS (
    SELECT a, b, list(DISTINCT kind ORDER BY kind) AS kinds, count(*) AS n, min(ts_utc) AS first, max(ts_utc) AS last,
           arg_min(day, ts_utc) AS first_day, arg_max(day, ts_utc) AS last_day,  -- set when that end is a date without a time
           list(DISTINCT exhibit_sha256 ORDER BY exhibit_sha256) AS exhibits
    FROM {ties} GROUP BY a, b),
firsts AS (
    SELECT a, b, list({'record': record_id, 'locator': locator, 'exhibit_sha256': exhibit_sha256} ORDER BY ts_utc NULLS LAST, record_id) AS evidence
    FROM (SELECT * FROM {ties} QUALIFY row_number() OVER (PARTITION BY a, b ORDER BY ts_utc NULLS LAST, record_id) <= %d)
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
        con.execute(f"CREATE OR REPLACE TEMP TABLE _ties AS {TIES}")
        ties = con.sql(PAIRS.replace("{ties}", "_ties")).to_arrow_table()
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
    """A party as findings and pictures name it: "chat 'Recruits'", "exhibit E1", "Nuwan (Person)"."""
    d = g.nodes[node]
    label, name = d.get("label", "?"), d.get("name") or node
    return {"Chat": f"chat '{name}'", "Exhibit": f"exhibit {name}"}.get(label, f"{name} ({label})")
