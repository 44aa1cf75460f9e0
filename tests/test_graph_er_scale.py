"""Identifier keys, entity resolution and the graph build in bulk give what they gave one by one: the same
edges on every build, the same people and the same possible-same-person pairs on a case written in the
spellings real exhibits use."""

import pytest
from graph_helpers import small_case

from casegraph.graph import build, resolve
from casegraph.store import CaseStore


@pytest.fixture
def store(tmp_path):
    s = CaseStore(tmp_path / "case.duckdb")
    yield s
    s.close()


def test_an_edge_given_by_two_routes_keeps_one_wording_on_every_build(store):
    """A contact card's phone gives USES twice (the identifier stated on the card, and the card): one record,
    one exhibit, one locator. Which wording stayed used to depend on DuckDB's row order (at 100,000 cards,
    about half each way); it is now always the card's."""
    small_case(store)
    resolve.write(store, resolve.resolve(store))
    seen = []
    for _ in range(3):
        build.build(store)
        seen.append(store.con.execute("SELECT id, CAST(attrs AS VARCHAR) FROM edges WHERE kind = 'USES' ORDER BY id").fetchall())
    assert seen[0] == seen[1] == seen[2]
    cards = [a for i, a in seen[0] if "Phone:" in i]
    assert cards and all(a == '{"role":"listed on contact card"}' for a in cards)
