"""Follow-the-money on a hand-built flow; expected amounts are worked out in the comments."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from casegraph.finance.trace import trace
from casegraph.model import Provenance, Transaction
from casegraph.store import CaseStore

T0 = datetime(2024, 4, 1, tzinfo=UTC)


def tx(i, frm, to, amount, hours):
    return Transaction(
        prov=Provenance("ab" * 32, "test", "1", f"row:{i}"),
        rail="bank",
        from_account=frm,
        to_account=to,
        amount=Decimal(amount),
        currency="LKR",
        ts=T0 + timedelta(hours=hours),
    )


@pytest.fixture
def store(tmp_path):
    s = CaseStore(tmp_path / "t.duckdb")
    s.write(
        [
            tx(1, "V1", "R", 100, 1),
            tx(2, "V2", "R", 100, 2),  # victims pay the recruiter
            tx(3, "X", "M", 50, 2.5),  # clean money already in the mule account
            tx(4, "R", "M", 150, 3),  # recruiter → mule
            tx(5, "M", "Y", 10, 0),  # before any of it: not part of a path
            tx(6, "M", "H", 180, 4),  # mule → handler
            tx(7, "H", "Z", 20, 5),
            Transaction(
                prov=Provenance("ab" * 32, "test", "1", "row:8"),
                rail="bank",
                from_account="R",
                to_account="Q",
                amount=Decimal(5),
                currency="LKR",
            ),  # no time: cannot be placed
        ]
    )
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
    assert r["Z"].tainted == {"LKR": Decimal(15)}  # H held 135/180 tainted: 20 × 135/180
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
    store.write(
        [
            Transaction(
                prov=Provenance("ab" * 32, "test", "1", "row:9"),
                rail="bank",
                from_account=None,
                to_account="M",
                amount=Decimal(200),
                currency="LKR",
                ts=T0 + timedelta(hours=3.5),
            ),  # a cash deposit into the mule
            Transaction(
                prov=Provenance("ab" * 32, "test", "1", "row:10"),
                rail="bank",
                from_account="H",
                to_account=None,
                amount=Decimal(30),
                currency="LKR",
                ts=T0 + timedelta(hours=6),
            ),  # cash taken out by the handler
            Transaction(
                prov=Provenance("ab" * 32, "test", "1", "row:11"),
                rail="bank",
                from_account=None,
                to_account="W",
                amount=Decimal(1),
                ts=T0 + timedelta(hours=7),
            ),
        ]
    )  # an unrelated cash deposit
    r = by_account(trace(store, "R", model="haircut"))
    assert r["H"].tainted == {"LKR": Decimal(67.5)}  # M held 50 + 150 tainted + 200 cash: 180 × 150/400  # noqa: RUF032
    cash_out = [a for a in r if a.startswith("?unknown:")]
    assert len(cash_out) == 1 and r[cash_out[0]].hops[-1].locator == "row:10"
    assert "W" not in r  # the unknown ends are not one node


def test_paths_cross_between_ends_resolution_joined(tmp_path):
    """A bank account and a TRON wallet that entity resolution put in one person: the trace crosses."""
    from casegraph.graph import keys
    from casegraph.graph.resolve import transaction_links

    wallet, other = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"
    s = CaseStore(tmp_path / "x.duckdb")
    s.write(
        [
            tx(1, "V1", "8001234501", 450000, 1),
            Transaction(
                prov=Provenance("cd" * 32, "test", "1", "row:1"),
                rail="tron",
                from_account=wallet,
                to_account=other,
                amount=Decimal(1200),
                currency="USDT",
                ts=T0 + timedelta(hours=30),
            ),
        ]
    )
    keys.refresh(s)
    nodes = dict(s.con.execute("SELECT value, node FROM identifier_keys").fetchall())
    s.con.execute(
        "INSERT INTO entity_members VALUES ('person:recruiter', ?), ('person:recruiter', ?)",
        ["id:" + nodes["8001234501"], "id:" + nodes[wallet]],
    )
    links = transaction_links(s)
    assert links == {"8001234501": "person:recruiter", wallet: "person:recruiter"}
    assert set(by_account(trace(s, "V1"))) == {"8001234501"}  # unlinked, the bank account is a dead end
    r = by_account(trace(s, "V1", links=links))
    assert [(h.src, h.dst) for h in r[other].hops] == [("V1", "8001234501"), (wallet, other)]  # as each record wrote them
    assert set(by_account(trace(s, "8001234501", links=links))) == {other}  # the origin may be a linked end
    s.close()


# Date-only statements (ts_precision 'day'): the order within a day comes from the statement's own rows.
def _colombo(path):
    from zoneinfo import ZoneInfo

    from casegraph.store import TimeNormaliser

    return CaseStore(path, TimeNormaliser(ZoneInfo("Asia/Colombo"), "Asia/Colombo"))


def day_tx(i, frm, to, amount, day, exhibit="ab", timed=None):
    from datetime import date

    return Transaction(
        prov=Provenance(exhibit * 32, "test", "1", f"row:{i}"),
        rail="bank",
        from_account=frm,
        to_account=to,
        amount=Decimal(amount),
        currency="LKR",
        seq=i,
        ts=timed if timed is not None else date(2024, 3, day),
    )


def test_same_day_rows_of_one_statement_follow_its_row_order(tmp_path):
    s = _colombo(tmp_path / "d.duckdb")
    s.write(
        [
            day_tx(2, "M", "EARLY", 10, 3),  # row 2: before the money came in on row 3 (same day): not on a path
            day_tx(3, "R", "M", 100, 3),
            day_tx(4, "M", "H", 90, 3),  # row 4: after it, same day
            day_tx(5, "M", "PREV", 5, 2),
        ]
    )  # the day before: never
    r = by_account(trace(s, "R"))
    assert set(r) == {"M", "H"}
    assert not any(h.order_assumed for h in r["H"].hops)
    assert [h.when for h in r["H"].hops] == ["2024-03-03 (date only)"] * 2


def test_same_day_rows_of_different_statements_are_assumed_and_said(tmp_path):
    from casegraph.finance.trace import to_findings

    s = _colombo(tmp_path / "e.duckdb")
    s.write(
        [
            day_tx(7, "R", "M", 100, 3, exhibit="ab"),
            day_tx(1, "M", "H", 90, 3, exhibit="cd"),  # another bank's statement, same day: order unknown
            day_tx(2, "H", "Z", 80, 4, exhibit="cd"),
        ]
    )
    result = trace(s, "R")
    r = by_account(result)
    assert set(r) == {"M", "H", "Z"}
    assert [h.order_assumed for h in r["Z"].hops] == [False, True, False]
    _, findings = to_findings(result, s)
    z = next(f for f in findings if f.subject == "Z")
    assert "order within the day assumed for hop 2" in z.summary and z.attrs["order_assumed"] == [2]
    assert "on 2024-03-03 (date only)" in z.summary and "on 2024-03-04 (date only)" in z.summary and "18:30" not in z.summary


def test_a_timed_transfer_on_the_day_of_a_dated_one_is_assumed_not_dropped(tmp_path):
    s = _colombo(tmp_path / "f.duckdb")
    s.write(
        [
            day_tx(1, "R", "M", 100, 3),  # dated 2024-03-03, no time
            day_tx(1, "M", "W", 60, 3, exhibit="cd", timed=datetime(2024, 3, 3, 0, 5, tzinfo=UTC)),
        ]
    )
    r = by_account(trace(s, "R"))
    assert set(r) == {"M", "W"} and r["W"].hops[1].order_assumed
    assert r["W"].hops[1].when == "2024-03-03 00:05 UTC"


def test_backward_trace_follows_row_order_backwards(tmp_path):
    s = _colombo(tmp_path / "g.duckdb")
    s.write([day_tx(2, "A", "M", 10, 3), day_tx(3, "M", "H", 100, 3), day_tx(4, "B", "M", 7, 3)])
    r = by_account(trace(s, "H", backward=True))
    assert set(r) == {"M", "A"}  # B paid M after (row 4) the money left for H (row 3)


def test_clean_money_into_a_reached_account_is_not_tainted_on_dated_statements(tmp_path):
    s = _colombo(tmp_path / "h.duckdb")
    s.write([day_tx(1, "R", "M", 100, 3), day_tx(2, "X", "M", 50, 4), day_tx(3, "M", "H", 120, 5)])
    r = by_account(trace(s, "R", model="poison"))
    assert r["M"].received == {"LKR": 150} and r["M"].tainted == {"LKR": 100}  # X's 50 is clean: X was never reached
    assert r["H"].tainted == {"LKR": 120}


def _reference_taint(f, used, origin, model):
    """The replay as it was written first: every transfer, in time order, with decimals (the shortcuts of
    trace._taint must give exactly this)."""
    from collections import defaultdict, deque
    from decimal import localcontext

    import numpy as np

    order = used[np.lexsort((f.seq[used] * (-1 if f.backwards else 1), f.t[used]))]
    ncur = len(f.currencies) + 1
    srcs, dsts = (f.src[order] * ncur + f.cur[order] + 1).tolist(), (f.dst[order] * ncur + f.cur[order] + 1).tolist()
    origins = {origin * ncur + c for c in range(ncur)}
    held, dirty, lots = defaultdict(Decimal), defaultdict(Decimal), defaultdict(deque)
    got_t, got_a = defaultdict(Decimal), defaultdict(Decimal)
    for a, b, amt in zip(srcs, dsts, f.exact.take(order).to_pylist(), strict=True):
        if a in origins:
            t_amt = amt
        elif model == "fifo":
            t_amt, need, q = Decimal(0), amt, lots[a]
            while need > 0 and q:
                lot = q[0]
                take = min(need, lot[0])
                share = lot[1] * take / lot[0]
                t_amt, lot[0], lot[1], need = t_amt + share, lot[0] - take, lot[1] - share, need - take
                if lot[0] <= 0:
                    q.popleft()
        else:
            h, d = held[a], dirty[a]
            t_amt = min(amt * d / h, amt, d) if h > 0 and d > 0 else Decimal(0)
            held[a], dirty[a] = (h - amt if h > amt else Decimal(0)), (d - t_amt if d > t_amt else Decimal(0))
        if model == "fifo":
            lots[b].append([amt, t_amt])
        else:
            held[b] += amt
            dirty[b] += t_amt
        got_t[b] += t_amt
        got_a[b] += amt
    with localcontext() as ctx:
        ctx.prec = 60  # as trace quantises: room for 20 integer digits and 18 decimals
        return {(k // ncur, k % ncur - 1): (got_t[k].quantize(Decimal("1e-18")), got_a[k]) for k in got_a}


def _random_amount(rng, shape):
    """An amount and its currency: cents (two currencies); mixed places (LKR cents, KWD fils, JPY without minor
    units); the same with ETH to 18 places (token); or huge (some beyond 2**63 cents, so the replay cannot count in 64 bits)."""
    if shape == "cents":
        return f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}", "LKR" if rng.random() < 0.8 else "USDT"
    if shape in ("mixed", "token"):
        cur = rng.choice(["LKR", "KWD", "JPY"] + (["ETH"] if shape == "token" else []))
        places = {"LKR": 2, "KWD": 3, "ETH": 18, "JPY": 0}[cur]
        whole = rng.randint(0, 40) if cur == "ETH" else rng.randint(1, 5000)
        frac = f".{rng.randint(1 if not whole else 0, 10**places - 1):0{places}d}" if places else ""
        return f"{whole}{frac}", cur
    big = rng.random() < 0.3
    return f"{rng.randint(10**17, 10**18) if big else rng.randint(1, 5000)}.{rng.randint(0, 99):02d}", "LKR"


@pytest.mark.parametrize("shape", ["cents", "mixed", "token", "huge"])
@pytest.mark.parametrize("backward", [False, True])
def test_indexed_replay_gives_what_a_pass_over_every_transfer_gives(tmp_path, backward, shape):
    # trace gathers the reached accounts' transfers from the graph's by-sender and by-receiver indexes and
    # replays with decimals only the transfers that move taint or change a followed pool, counting in the
    # fewest decimal places that hold every amount; on a random multi-currency graph with many cycles, with
    # amounts to 0, 2, 3 and 18 places and beyond 64 bits, it must give exactly what a pass over every transfer
    # (and a decimal replay of all of them) gives
    import random

    import numpy as np

    from casegraph.finance.flows import Flows
    from casegraph.finance.trace import _search

    rng = random.Random(7)
    rows = []
    for i in range(1500):
        a, b = rng.sample(range(150), 2)
        amount, currency = _random_amount(rng, shape)
        rows.append(tx(i, f"A{a}", f"A{b}", amount, rng.randint(0, 300) / 4))
        rows[-1].currency = currency
    s = CaseStore(tmp_path / "r.duckdb")
    s.write(rows)
    flows = Flows.load(s)
    for model in ("poison", "haircut", "fifo"):
        for hops in (2, 6):
            result = trace(s, "A0", hops=hops, model=model, backward=backward, flows=flows)
            f = result.flows
            origin = f.index["A0"]
            _, parent, used, _ = _search(f, origin, hops, None, None, 0.0)
            reached = parent >= 0
            reached[origin] = True
            replay = np.flatnonzero((reached[f.src] | reached[f.dst]) & (f.src != origin) | np.isin(np.arange(len(f.t)), used))
            assert len(result.reached) > 3
            want = _reference_taint(f, replay, origin, model) if model != "poison" else {}
            for r in result.reached:
                code = f.index[r.account]
                assert r.inflow.tolist() == replay[f.dst[replay] == code].tolist()
                if model != "poison":
                    got = {(code, f.currencies.index(c) if c is not None else -1): (t, r.received[c]) for c, t in r.tainted.items()}
                    assert got == {k: v for k, v in want.items() if k[0] == code}, (model, hops, r.account)
    s.close()
