"""The compiled link analysis (igraph) agrees with today's networkx code on small cases, ranks and caps
its findings saying so, states the error of estimated betweenness, and answers path and neighbourhood
questions with the records behind every tie. Entity resolution in columns gives the entities the
one-by-one union-find gave (see test_graph for its rules)."""

import json
import os

import igraph as ig
import networkx as nx
import numpy as np
import pytest
from graph_helpers import contact, message, resolved, small_case

from casegraph.graph import analysis, analysis_nx, gds, paths, resolve

PHONE = "e" * 64
GIVEN = (
    "Amal Bandula Chaminda Dilshan Eranga Fathima Gayan Hasini Isuru Janaki "
    "Kamal Lahiru Madhavi Nalin Oshadi Pradeep Rukshan Sajith Tharaka Upul"
).split()
SURNAMES = "Silva Fernando Perera Rajapaksa Wickramasinghe Jayasuriya Dissanayake Gunawardena Herath Ratnayake".split()


def ring_case(store, people=12):
    """Contacts on one phone, each writing in two chats of a ring, so parties join through the chats."""
    records = []
    for i in range(people):
        records += contact(PHONE, f"line:{i}", f"{GIVEN[i]} {SURNAMES[i % len(SURNAMES)]}", [f"+9477{i:07d}"])
    minute = 0
    for i in range(people):
        for chat in (f"ring {i}", f"ring {(i + 1) % people}"):
            minute += 1
            records += message(PHONE, f"line:{100 + minute}", minute % 60, "hi", sender_phone=f"+9477{i:07d}", chat=chat)
    store.write(records)


def by_kind(findings, everything=False):
    """The findings per kind: the reported ones (everything: with those stored past the cap too)."""
    out = {}
    for f in findings:
        if everything or f.attrs.get("listed", True):
            out.setdefault(f.kind, []).append(f)
    return out


def test_igraph_and_networkx_give_the_same_groups_brokers_and_contacts(store):
    small_case(store)
    ring_case(store)
    resolved(store)
    _, new = analysis.analyse(store)
    _, old = analysis_nx.analyse(store)
    new_k, old_k = by_kind(new), by_kind(old)
    for kind in ("connected-group", "broker", "most-contacted", "multi-exhibit"):
        assert [f.title for f in new_k.get(kind, [])] == [f.title for f in old_k.get(kind, [])], kind
        for a, b in zip(new_k.get(kind, []), old_k.get(kind, []), strict=True):
            assert a.score == pytest.approx(b.score)
            assert {e["record"] for e in a.evidence} == {e["record"] for e in b.evidence}
    # modularity of the communities is no lower than networkx Louvain's on the same graph
    g = analysis.party_graph(store)
    membership, method = analysis.communities(analysis.party_arrays(store).igraph(), 42)
    assert "Leiden" in method and "resolution 1" in method and "seed 42" in method
    pg = analysis.party_arrays(store)
    ours = [set() for _ in range(max(membership) + 1)]
    for v, c in enumerate(membership):
        ours[c].add(pg.id(v))
    weight = "weight"
    louvain = nx.community.louvain_communities(g, weight=weight, seed=42)
    assert nx.community.modularity(g, ours, weight=weight) >= nx.community.modularity(g, louvain, weight=weight) - 1e-9


def test_every_finding_cites_records_and_a_capped_kind_says_its_rank(store):
    small_case(store)
    ring_case(store)
    resolved(store)
    _, found = analysis.analyse(store, top=2)
    kinds, stored = by_kind(found), by_kind(found, everything=True)
    for f in found:
        assert f.evidence and all({"record", "table", "locator", "exhibit_sha256"} <= set(e) for e in f.evidence)
    assert len(kinds["most-contacted"]) == 2 and len(kinds["contact-timeline"]) == 2
    assert "Rank 1 of" in kinds["most-contacted"][0].summary and "by recorded contacts" in kinds["most-contacted"][0].summary
    assert "casegraph analyze --top N" in kinds["broker"][0].summary and "by betweenness" in kinds["broker"][0].summary
    # the rest is stored, ranked, and says so (a finding flood is capped in reports, not lost)
    rest = stored["most-contacted"][2:]
    assert rest and [f.attrs["rank"] for f in stored["most-contacted"]] == list(range(1, len(rest) + 3))
    assert all(f.attrs["listed"] is False and f.attrs["of"] == len(rest) + 2 for f in rest)
    assert "--kind most-contacted --all" in rest[0].summary and rest[0].evidence
    scores = [f.score for f in stored["most-contacted"]]
    assert scores == sorted(scores, reverse=True)


def test_a_stored_cap_keeps_the_first_ranks_and_says_how_many_there_were(store, monkeypatch):
    small_case(store)
    ring_case(store)
    resolved(store)
    monkeypatch.setattr(analysis, "STORED", 4)
    _, found = analysis.analyse(store, top=2)
    contacted = by_kind(found, everything=True)["most-contacted"]
    assert len(contacted) == 4 and contacted[-1].attrs["of"] > 4
    assert "the first 4 are stored" in contacted[0].summary


def test_findings_list_and_the_report_leave_out_the_stored_rest(tmp_path):
    from click.testing import CliRunner

    from casegraph.case import Case
    from casegraph.cli import main as cli
    from casegraph.findings import write_findings
    from casegraph.reports import content

    case = Case.create(tmp_path / "case", "CID/1", "t", "examiner")
    small_case(case.store)
    ring_case(case.store)
    resolved(case.store)
    _, found = analysis.analyse(case.store, top=2)
    write_findings(case.store, found, analysis.DETECTOR)
    held = sum(f.attrs.get("listed") is False for f in found)
    case.close()
    listed = CliRunner().invoke(cli, ["findings", "list", str(tmp_path / "case"), "--json"])
    everything = CliRunner().invoke(cli, ["findings", "list", str(tmp_path / "case"), "--json", "--all"])
    assert listed.exit_code == everything.exit_code == 0, listed.output
    assert held and len(json.loads(everything.output)) - len(json.loads(listed.output)) == held
    kind = CliRunner().invoke(cli, ["findings", "list", str(tmp_path / "case"), "--json", "--kind", "most-contacted"])
    assert len(json.loads(kind.output)) == len(by_kind(found, everything=True)["most-contacted"])
    with Case(tmp_path / "case") as c:
        shown = content.gather(c)["findings"]
    assert len([f for f in shown if f["kind"] == "most-contacted"]) == 2


def test_estimated_betweenness_states_its_sample_and_error(store, monkeypatch):
    ring_case(store, people=20)
    resolved(store)
    monkeypatch.setattr(analysis, "EXACT_BETWEENNESS", 5)
    monkeypatch.setattr(analysis, "SOURCE_BUDGET", 1)  # the fewest sources: 8
    g = analysis.party_arrays(store).igraph()
    est, err, k = analysis.betweenness(g, 42)
    exact = nx.betweenness_centrality(nx.Graph(g.get_edgelist()), normalized=True)
    assert k and err is not None and len(est) == g.vcount()
    assert np.allclose(analysis.estimate(g, np.arange(g.vcount())), [exact[v] for v in range(g.vcount())])  # every party a source
    _, found = analysis.analyse(store)
    broker = by_kind(found)["broker"][0]
    assert "sampled sources, standard error" in broker.summary and broker.attrs["sampled"] and "standard_error" in broker.attrs


def test_the_estimate_from_sampled_sources_is_igraphs_brandes_sum():
    # the vectorised breadth-first dependencies against igraph's betweenness from the same sources, on a random
    # graph with several components, parties of no tie and ties of many shortest paths
    rng = np.random.default_rng(7)
    g = ig.Graph.Erdos_Renyi(n=400, m=700)
    g.add_vertices(5)
    g = g + ig.Graph.Lattice([6, 6], circular=False)
    for sources in (rng.choice(g.vcount(), 8, replace=False), np.array([400]), np.arange(g.vcount())):
        theirs = 2.0 * np.asarray(g.betweenness(directed=False, sources=sources.tolist())) * g.vcount()
        theirs /= len(sources) * (g.vcount() - 1) * (g.vcount() - 2)
        a, b = np.asarray(g.get_edgelist()).T
        assert np.allclose(analysis.estimate(g, sources, analysis._adjacency(g, (a, b))), theirs, rtol=1e-12, atol=1e-15)
        assert np.allclose(analysis.estimate(g, sources), theirs, rtol=1e-12, atol=1e-15)


def test_shortest_path_and_neighbourhood_return_records(store):
    ids = small_case(store)
    resolved(store)
    g, hops = paths.shortest_path(store, "+94762223344", "0081234567")
    assert hops and any(e["record"] == ids["message_with_account"] for h in hops for e in h.evidence)
    near = paths.neighbourhood(store, "Nuwan Jayawardena", hops=1, g=g)
    assert near["parties"][0]["distance"] == 0 and all(p["distance"] <= 1 for p in near["parties"])
    assert near["ties"] and all(t["evidence"] and t["count"] >= 1 for t in near["ties"])
    cut = paths.neighbourhood(store, "Nuwan Jayawardena", hops=3, g=g, limit=2)
    assert len(cut["parties"]) == 2 and cut["truncated"] > 0


def test_resolution_in_columns_joins_cards_numbers_and_names_like_the_union_find(store):
    small_case(store)
    ring_case(store)
    res = resolve.resolve(store)
    groups = res.entities
    # every contact card joined the phone it lists, and nothing else joined them
    for i in range(12):
        card = [ms for ms in groups.values() if any(m.startswith("record:") and "line:" + str(i) == m.rsplit("/", 1)[-1] for m in ms)]
        assert len(card) == 1 and any(m.endswith(f"+9477{i:07d}") for m in card[0])
    counts = resolve.write(store, res)
    assert counts["people"] == store.rows("SELECT count(DISTINCT entity_id) AS n FROM entity_members")[0]["n"] == store.count("entities")
    assert store.rows("SELECT count(*) AS n FROM entity_links WHERE method = 'identifier'")[0]["n"] >= 12


# -- the Neo4j GDS route -----------------------------------------------------------------------------
class FakeGds:
    """Answers the GDS statements from igraph on the same party graph, as a server with GDS would."""

    def __init__(self, store, version=True):
        self.pg, self.version, self.calls = analysis.party_arrays(store), version, []

    def __call__(self, cypher, params):
        self.calls.append(cypher)
        g, keys = self.pg.igraph(), self.pg.ids.to_pylist()
        if cypher == gds.VERSION:
            if not self.version:
                raise RuntimeError("Unknown function 'gds.version'\nmore detail")
            return [{"version": "2.13.0"}]
        if cypher == gds.PROJECT:
            return [{"nodes": g.vcount(), "ties": g.ecount()}]
        if cypher == gds.WCC:
            return [{"key": k, "c": c} for k, c in zip(keys, g.connected_components().membership, strict=True)]
        if cypher == gds.LEIDEN:
            membership, _ = analysis.communities(g, params["seed"])
            return [{"key": k, "c": c} for k, c in zip(keys, membership, strict=True)]
        if cypher == gds.BETWEENNESS:  # ordered pairs, as Brandes from every source counts them
            return [{"key": k, "score": 2 * s} for k, s in zip(keys, g.betweenness(directed=False), strict=True)]
        return []


def test_the_gds_route_writes_the_same_findings(store):
    small_case(store)
    ring_case(store)
    resolved(store)
    _, ours = analysis.analyse(store)
    fake = FakeGds(store)
    _, theirs = gds.analyse(store, fake)
    assert gds.DROP in fake.calls[-1:]  # the projection is dropped again
    key = lambda f: (f.kind, f.title, round(f.score or 0, 6), tuple(e["record"] for e in f.evidence))  # noqa: E731
    # the same groups, brokers, contacts, exhibits and timelines; communities come from one Leiden run over
    # the whole graph in GDS (here, igraph's over the whole graph), not one per group, so they may differ
    same = [f for f in ours if f.kind != "community"], [f for f in theirs if f.kind != "community"]
    assert sorted(map(key, same[0])) == sorted(map(key, same[1]))
    communities = [f for f in theirs if f.kind == "community"]
    assert communities and all("Neo4j GDS" in f.summary and f.evidence for f in communities)


def test_the_gds_route_says_in_one_line_when_the_server_has_no_gds(store):
    small_case(store)
    resolved(store)
    with pytest.raises(gds.GdsUnavailable) as e:
        gds.analyse(store, FakeGds(store, version=False))
    assert "no Graph Data Science" in str(e.value) and "\n" not in str(e.value)


def test_gds_cypher_passes_neo4js_own_parser():
    from test_graph import _lint

    assert _lint(list(gds.STATEMENTS)) == [[] for _ in gds.STATEMENTS]


@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="live Neo4j GDS tests run when NEO4J_URI (and NEO4J_PASSWORD) are set")
def test_live_gds_route(store):
    from casegraph.graph import neo4j_push

    small_case(store)
    resolved(store)
    uri, pw = os.environ["NEO4J_URI"], os.environ.get("NEO4J_PASSWORD", "")
    push_run, close = neo4j_push.driver_runner(uri, os.environ.get("NEO4J_USER", "neo4j"), pw, None)
    try:
        neo4j_push.push(store, uri, push_run)
    finally:
        close()
    run, close = gds.driver_runner(uri, os.environ.get("NEO4J_USER", "neo4j"), pw, None)
    try:
        try:
            gds.check(run)
        except gds.GdsUnavailable:
            pytest.skip("the server has no GDS")
        _, theirs = gds.analyse(store, run)
    finally:
        close()
    _, ours = analysis.analyse(store)
    for kind in ("connected-group", "broker", "most-contacted"):
        assert [f.title for f in theirs if f.kind == kind] == [f.title for f in ours if f.kind == kind]


def test_cli_analyze_engines_and_a_clear_error_without_a_server(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from casegraph.case import Case
    from casegraph.cli import main

    monkeypatch.delenv("NEO4J_URI", raising=False)
    with Case.create(tmp_path / "c", "HTS/T/3", "IP Test") as c:
        small_case(c.store)
    r = CliRunner()
    for engine in ("igraph", "networkx"):
        res = r.invoke(main, ["analyze", str(tmp_path / "c"), "--engine", engine])
        assert res.exit_code == 0 and "findings written" in res.output, res.output
    res = r.invoke(main, ["analyze", str(tmp_path / "c"), "--engine", "neo4j"])
    assert res.exit_code == 1 and "needs a Neo4j server" in res.output and "Traceback" not in res.output
    res = r.invoke(main, ["analyze", str(tmp_path / "c"), "--engine", "neo4j", "--uri", "bolt://127.0.0.1:1", "--password", "x"])
    assert res.exit_code == 1 and "cannot connect" in res.output and "Traceback" not in res.output
    assert '"engine": "networkx"' in (tmp_path / "c" / "custody.jsonl").read_text()
