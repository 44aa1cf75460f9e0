"""Follow-the-money on a hand-built flow; expected amounts are worked out in the comments."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from casegraph.finance.trace import trace
from casegraph.model import Provenance, Transaction
from casegraph.store import CaseStore

T0 = datetime(2024, 4, 1, tzinfo=timezone.utc)


def tx(i, frm, to, amount, hours):
    return Transaction(prov=Provenance("ab" * 32, "test", "1", f"row:{i}"), rail="bank", from_account=frm, to_account=to,
                       amount=Decimal(amount), currency="LKR", ts=T0 + timedelta(hours=hours))


@pytest.fixture
def store(tmp_path):
    s = CaseStore(tmp_path / "t.duckdb")
    s.write([
        tx(1, "V1", "R", 100, 1), tx(2, "V2", "R", 100, 2),   # victims pay the recruiter
        tx(3, "X", "M", 50, 2.5),                              # clean money already in the mule account
        tx(4, "R", "M", 150, 3),                               # recruiter → mule
        tx(5, "M", "Y", 10, 0),                                # before any of it: not part of a path
        tx(6, "M", "H", 180, 4),                               # mule → handler
        tx(7, "H", "Z", 20, 5),
        Transaction(prov=Provenance("ab" * 32, "test", "1", "row:8"), rail="bank", from_account="R", to_account="Q",
                    amount=Decimal(5), currency="LKR"),        # no time: cannot be placed
    ])
    yield s
    s.close()


def by_account(result):
    return {r.account: r for r in result.reached}


def test_paths_respect_time(store):
    r = by_account(trace(store, "R"))
    assert set(r) == {"M", "H", "Z"}  # Y was paid before the money arrived; Q has no time
    assert [h.locator for h in r["Z"].hops] == ["row:4", "row:6", "row:7"]
    assert [h.amount for h in r["H"].hops] == [Decimal(150), Decimal(180)]
    assert [(h.src, h.dst) for h in r["H"].hops] == [("R", "M"), ("M", "H")] and r["H"].hops[0].ts == T0 + timedelta(hours=3)


def test_hop_limit_and_minimum(store):
    assert set(by_account(trace(store, "R", hops=2))) == {"M", "H"}
    assert set(by_account(trace(store, "R", min_amount=Decimal(100)))) == {"M", "H"}  # H→Z is 20


def test_poison(store):
    r = by_account(trace(store, "R", model="poison"))
    assert (r["M"].tainted, r["H"].tainted, r["Z"].tainted) == ({"LKR": 150}, {"LKR": 180}, {"LKR": 20})


def test_haircut(store):
    r = by_account(trace(store, "R", model="haircut"))
    assert r["H"].tainted == {"LKR": Decimal(135)}  # M held 50 clean + 150 tainted: 180 × 150/200
    assert r["Z"].tainted == {"LKR": Decimal(15)}   # H held 135/180 tainted: 20 × 135/180
    assert r["H"].received == {"LKR": Decimal(180)}


def test_fifo(store):
    r = by_account(trace(store, "R", model="fifo"))
    assert r["H"].tainted == {"LKR": Decimal(130)}  # the 50 clean left first, then 130 of the 150
    assert r["Z"].tainted["LKR"].quantize(Decimal("0.0001")) == Decimal("14.4444")  # 20 of a lot 130/180 tainted


def test_backward_finds_the_sources(store):
    r = by_account(trace(store, "H", backward=True))
    assert set(r) == {"M", "R", "X", "V1", "V2"}
    assert [h.locator for h in r["V1"].hops] == ["row:6", "row:4", "row:1"]
    assert [(h.src, h.dst) for h in r["V1"].hops] == [("M", "H"), ("R", "M"), ("V1", "R")]  # as the transfers were made
    assert r["V1"].hops[0].ts == T0 + timedelta(hours=4)


def test_window_and_unknown_account(store):
    assert set(by_account(trace(store, "R", until=T0 + timedelta(hours=4)))) == {"M", "H"}
    with pytest.raises(KeyError, match="NOBODY"):
        trace(store, "NOBODY")
    left = trace(store, "R").skipped
    assert list(left) == ["transfer(s) with no time"] and left["transfer(s) with no time"].count == 1
    assert left["transfer(s) with no time"].totals == {"LKR": Decimal(5)}


def test_unknown_ends_dilute_and_end_trails_but_join_nothing(store):
    store.write([
        Transaction(prov=Provenance("ab" * 32, "test", "1", "row:9"), rail="bank", from_account=None, to_account="M",
                    amount=Decimal(200), currency="LKR", ts=T0 + timedelta(hours=3.5)),  # a cash deposit into the mule
        Transaction(prov=Provenance("ab" * 32, "test", "1", "row:10"), rail="bank", from_account="H", to_account=None,
                    amount=Decimal(30), currency="LKR", ts=T0 + timedelta(hours=6)),     # cash taken out by the handler
        Transaction(prov=Provenance("ab" * 32, "test", "1", "row:11"), rail="bank", from_account=None, to_account="W",
                    amount=Decimal(1), ts=T0 + timedelta(hours=7))])            # an unrelated cash deposit
    r = by_account(trace(store, "R", model="haircut"))
    assert r["H"].tainted == {"LKR": Decimal(67.5)}  # M held 50 + 150 tainted + 200 cash: 180 × 150/400
    cash_out = [a for a in r if a.startswith("?unknown:")]
    assert len(cash_out) == 1 and r[cash_out[0]].hops[-1].locator == "row:10"
    assert "W" not in r  # the unknown ends are not one node


def test_paths_cross_between_ends_resolution_joined(tmp_path):
    """A bank account and a TRON wallet that entity resolution put in one person: the trace crosses."""
    from casegraph.graph import keys
    from casegraph.graph.resolve import transaction_links
    wallet, other = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"
    s = CaseStore(tmp_path / "x.duckdb")
    s.write([tx(1, "V1", "8001234501", 450000, 1),
             Transaction(prov=Provenance("cd" * 32, "test", "1", "row:1"), rail="tron", from_account=wallet,
                         to_account=other, amount=Decimal(1200), currency="USDT", ts=T0 + timedelta(hours=30))])
    keys.refresh(s)
    nodes = dict(s.con.execute("SELECT value, node FROM identifier_keys").fetchall())
    s.con.execute("INSERT INTO entity_members VALUES ('person:recruiter', ?), ('person:recruiter', ?)",
                  ["id:" + nodes["8001234501"], "id:" + nodes[wallet]])
    links = transaction_links(s)
    assert links == {"8001234501": "person:recruiter", wallet: "person:recruiter"}
    assert set(by_account(trace(s, "V1"))) == {"8001234501"}  # unlinked, the bank account is a dead end
    r = by_account(trace(s, "V1", links=links))
    assert [(h.src, h.dst) for h in r[other].hops] == [("V1", "8001234501"), (wallet, other)]  # as each record wrote them
    assert set(by_account(trace(s, "8001234501", links=links))) == {other}  # the origin may be a linked end
    s.close()
