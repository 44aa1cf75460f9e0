"""The link analyses through Neo4j Graph Data Science, for a case pushed to Neo4j (`casegraph graph push`):
`casegraph analyze CASE --engine neo4j`.

The party graph is projected inside Neo4j by a Cypher aggregation that applies the same tie rules as
analysis.TIES to the pushed property graph (a person's identifiers become the person; records become
ties between parties, counted per pair). Components (gds.wcc), communities (gds.leiden, modularity at
analysis.RESOLUTION, seeded, one thread so the seed holds) and betweenness (gds.betweenness: every
source up to analysis.EXACT_BETWEENNESS parties, else a seeded sample) run in GDS; the findings are
then made by analysis.findings_from from those results, with the records each tie rests on read from
the case store, so both routes write the same kinds of findings with the same evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import igraph as ig
import numpy as np

from ..errors import CaseGraphError
from ..findings import Finding
from ..store import CaseStore
from . import analysis

Run = Callable[[str, dict[str, Any]], list[dict[str, Any]]]
GRAPH = "casegraph_parties"


class GdsUnavailable(CaseGraphError, RuntimeError):
    """The Neo4j server has no Graph Data Science library, or the case is not pushed."""

    code = 1  # an operation or check that failed


VERSION = "RETURN gds.version() AS version"
DROP = "CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName"
# The ties of analysis._TIE_ROWS on the pushed graph; a party is the person using an identifier (the
# smallest key, as the store's party table takes min(src)), else the node itself.
PROJECT = """
CALL () {
  MATCH (s)-[:SENT]->(:Message)-[:IN]->(c:Chat) RETURN s AS x, c AS y
  UNION ALL
  MATCH (s)-[:SENT]->(:Message)-[:TO]->(t) RETURN s AS x, t AS y
  UNION ALL
  MATCH (s)-[:SENT]->(:Message)-[:MENTIONS]->(t) RETURN s AS x, t AS y
  UNION ALL
  MATCH (:OcrText)-[r:MENTIONS]->(t) MATCH (e:Exhibit {key: 'Exhibit:' + r.exhibit_sha256}) RETURN t AS x, e AS y
  UNION ALL
  MATCH (t)-[r:IN_CALL]->(:Call) MATCH (e:Exhibit {key: 'Exhibit:' + r.exhibit_sha256}) RETURN t AS x, e AS y
  UNION ALL
  MATCH (f)-[:PAID]->(:Transaction)-[:PAID_TO]->(t) RETURN f AS x, t AS y
}
CALL (x) { OPTIONAL MATCH (p:Person)-[:USES]->(x) WITH p ORDER BY p.key LIMIT 1 RETURN p AS px }
CALL (y) { OPTIONAL MATCH (p:Person)-[:USES]->(y) WITH p ORDER BY p.key LIMIT 1 RETURN p AS py }
WITH coalesce(px, x) AS a, coalesce(py, y) AS b
WHERE a <> b
WITH CASE WHEN a.key < b.key THEN a ELSE b END AS lo, CASE WHEN a.key < b.key THEN b ELSE a END AS hi, count(*) AS n
WITH gds.graph.project($name, lo, hi, {relationshipProperties: {weight: toFloat(n)}}, {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.nodeCount AS nodes, g.relationshipCount AS ties
"""
WCC = "CALL gds.wcc.stream($name) YIELD nodeId, componentId RETURN gds.util.asNode(nodeId).key AS key, componentId AS c"
LEIDEN = """CALL gds.leiden.stream($name, {relationshipWeightProperty: 'weight', gamma: $gamma, randomSeed: $seed, concurrency: 1,
                                         maxLevels: 10, includeIntermediateCommunities: false})
YIELD nodeId, communityId RETURN gds.util.asNode(nodeId).key AS key, communityId AS c"""
BETWEENNESS = """CALL gds.betweenness.stream($name, $config) YIELD nodeId, score
RETURN gds.util.asNode(nodeId).key AS key, score"""
STATEMENTS = (VERSION, DROP, PROJECT, WCC, LEIDEN, BETWEENNESS)


def check(run: Run) -> str:
    """The GDS version, or GdsUnavailable with one line saying why."""
    try:
        rows = run(VERSION, {})
    except Exception as e:  # the driver's ClientError names the unknown function
        raise GdsUnavailable(
            f"this Neo4j server has no Graph Data Science library (gds.version() failed: {str(e).splitlines()[0][:200]})"
        ) from None
    return str(rows[0]["version"]) if rows else "?"


def _by_party(pg, rows: list[dict[str, Any]], column: str, fill: float) -> np.ndarray:
    out = np.full(pg.number_of_nodes(), fill, dtype=np.float64)
    for r in rows:
        v = pg.index.get(r["key"])
        if v is not None:
            out[v] = r[column]
    return out


def analyse(store: CaseStore, run: Run, top: int = 10, seed: int = 42) -> tuple[Any, list[Finding]]:
    """The analyses in GDS on the pushed case; (party graph, findings) as analysis.analyse returns them."""
    version = check(run)
    pg = analysis.party_arrays(store)
    run(DROP, {"name": GRAPH})
    projected = run(PROJECT, {"name": GRAPH})
    try:
        n_gds = int(projected[0]["nodes"]) if projected else 0
        if n_gds != pg.number_of_nodes():
            raise GdsUnavailable(
                f"Neo4j holds {n_gds:,} parties, the case {pg.number_of_nodes():,}: push the case again (casegraph graph push)"
            )
        component = _by_party(pg, run(WCC, {"name": GRAPH}), "c", -1).astype(np.int64)
        _, component = np.unique(component, return_inverse=True)  # 0..k-1, as findings_from counts them
        leiden = _by_party(pg, run(LEIDEN, {"name": GRAPH, "gamma": analysis.RESOLUTION, "seed": seed}), "c", -1).astype(np.int64)
        n = pg.number_of_nodes()
        exact = n <= analysis.EXACT_BETWEENNESS
        config: dict[str, Any] = {} if exact else {"samplingSize": _sources(pg), "samplingSeed": seed}
        raw = _by_party(pg, run(BETWEENNESS, {"name": GRAPH, "config": config}), "score", 0.0)
    finally:
        run(DROP, {"name": GRAPH})
    # GDS's exact scores on an undirected graph count each pair from both ends, like networkx before it
    # normalises; a sample is drawn by degree (not uniformly), so no share is estimated from it: those
    # brokers are ranked only, and say so.
    between = raw / ((n - 1) * (n - 2)) if exact and n > 2 else raw
    method = f"Leiden in Neo4j GDS {version}, modularity at resolution {analysis.RESOLUTION:g}, seed {seed}"

    def detect(sub: ig.Graph, members: np.ndarray) -> tuple[list[int], str]:
        _, labels = np.unique(leiden[members], return_inverse=True)
        return labels.tolist(), method

    sampled = None if exact else int(config["samplingSize"])
    note = None if exact else f"Neo4j GDS, {sampled} source parties drawn by degree, seed {seed}; no share of paths is estimated from them"
    found = analysis.findings_from(store, pg, component, detect, (between, None, sampled), top, ranked_only=note)
    return pg, found


def _sources(pg) -> int:
    m = pg.number_of_edges()
    return int(max(8, min(256, analysis.SOURCE_BUDGET // max(m, 1))))


def driver_runner(uri: str, user: str, password: str, database: str | None) -> tuple[Run, Callable[[], None]]:
    """A runner on the official neo4j driver that returns the rows (GDS procedures read and project)."""
    from neo4j import GraphDatabase

    try:
        driver = GraphDatabase.driver(uri, auth=(user, password))
        driver.verify_connectivity()
    except Exception as e:  # the driver's errors: unreachable server, bad credentials
        raise GdsUnavailable(f"cannot connect to {uri}: {str(e).splitlines()[0][:200]}") from None

    def run(cypher: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with driver.session(database=database) as session:
            return [r.data() for r in session.run(cypher, params)]

    return run, driver.close
