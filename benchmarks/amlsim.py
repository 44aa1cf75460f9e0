"""A reimplementation of IBM AMLSim's transaction generation, for evaluating the typology detectors on
data shaped by someone else's generator rather than ours.

Read from IBM/AMLSim (not copied): the alert typologies in src/amlsim/model/aml/*.java (FanIn,
FanOut, Cycle, Bipartite, Stack, ScatterGather, GatherScatter, Random), the normal models in
src/amlsim/model/normal/*.java (one transaction per `transaction_interval` steps, round robin over
the account's neighbours), and the defaults in paramFiles/1K: conf.json (720 steps of one day from
2017-01-01, normal amounts 100-1000, margin_ratio 0.1, transaction_interval 7, degree_threshold 10),
alertPatterns.csv (5-10 accounts, amounts 100-200, periods 5-20 days, schedule_id 2) and
normalModels.csv (single, fan_out, fan_in, forward, mutual, periodical in equal numbers).

What follows AMLSim: the main account of an alert is a hub of the background graph (degree >= 10);
fan-in / fan-out send on a fixed interval spread over the period, one random amount per step; cycle
transfers happen at random steps in no order, the amount shrinking by the margin with each one made;
scatter-gather scatters in the first half and gathers (amount less the margin) in the second;
gather-scatter gathers from the first half of the members, then scatters the total less the margin
in equal parts; bipartite pays all-to-all; stack chains two bipartite layers; random walks the
background graph from the main account. Simplified: the background degree sequence is a Zipf draw
(AMLSim uses a power-law degree.csv), normal amounts are uniform rather than balance-driven, and
bipartite / stack layers are paid at one random step each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from casegraph.model import Batch, constant

BASE = datetime(2017, 1, 1, tzinfo=UTC)
TYPES = ("fan_in", "fan_out", "cycle", "bipartite", "stack", "scatter_gather", "gather_scatter", "random")


@dataclass
class Params:
    accounts: int = 2000
    steps: int = 720
    per_type: int = 20  # alerts of each typology
    seed: int = 0
    min_accounts: int = 5
    max_accounts: int = 10
    min_amount: float = 100.0  # alert amounts
    max_amount: float = 200.0
    min_period: int = 5
    max_period: int = 20
    normal_min: float = 100.0
    normal_max: float = 1000.0
    margin: float = 0.1
    interval: int = 7
    degree_threshold: int = 10


@dataclass
class Sim:
    src: list = field(default_factory=list)
    dst: list = field(default_factory=list)
    step: list = field(default_factory=list)
    amount: list = field(default_factory=list)
    alert: list = field(default_factory=list)  # -1 for normal transactions
    alerts: list = field(default_factory=list)  # (type, member accounts)

    def add(self, s, d, step, amount, alert=-1):
        self.src.append(int(s))
        self.dst.append(int(d))
        self.step.append(int(step))
        self.amount.append(round(float(amount), 2))
        self.alert.append(alert)


def simulate(p: Params) -> Sim:
    rng = np.random.default_rng(p.seed)
    n = p.accounts
    # background graph: Zipf out-degrees, destinations by preferential weight
    out_deg = np.minimum(rng.zipf(2.0, n), 100)
    weight = rng.zipf(2.0, n).astype(float)
    weight /= weight.sum()
    dests = []
    for a in range(n):
        d = rng.choice(n, size=min(out_deg[a] + 1, n), replace=False, p=weight)
        dests.append([int(x) for x in d if x != a][: out_deg[a]] or [int((a + 1) % n)])
    origs = [[] for _ in range(n)]
    for a in range(n):
        for d in dests[a]:
            origs[d].append(a)
    degree = np.array([len(dests[a]) + len(origs[a]) for a in range(n)])
    hubs = np.flatnonzero(degree >= p.degree_threshold)
    sim = Sim()
    amt = lambda: rng.uniform(p.normal_min, p.normal_max)  # noqa: E731
    models = ("single", "fan_out", "fan_in", "forward", "mutual", "periodical")
    for a in range(n):
        model = models[a % len(models)]
        start = int(rng.integers(0, p.interval))
        fires = range(start, p.steps, p.interval)
        if model == "single":
            sim.add(a, dests[a][0], int(rng.integers(0, p.steps)), amt())
            continue
        for k, s in enumerate(fires):
            if model == "fan_out":
                sim.add(a, dests[a][k % len(dests[a])], s, amt())
            elif model == "fan_in":
                if origs[a]:
                    sim.add(origs[a][k % len(origs[a])], a, s, amt())
            elif model == "forward":  # money in from one neighbour, passed to another the next day
                if origs[a] and s + 1 < p.steps:
                    v = amt()
                    sim.add(origs[a][k % len(origs[a])], a, s, v)
                    sim.add(a, dests[a][k % len(dests[a])], s + 1, v)
            elif model == "mutual":  # lend and be repaid
                d = dests[a][0]
                sim.add(a, d, s, amt()) if k % 2 == 0 else sim.add(d, a, s, amt())
            else:  # periodical
                sim.add(a, dests[a][0], s, amt())

    def rand_amount():
        return rng.uniform(p.min_amount, p.max_amount)

    for typ in TYPES:
        for _ in range(p.per_type):
            aid = len(sim.alerts)
            size = int(rng.integers(p.min_accounts, p.max_accounts + 1))
            main = int(rng.choice(hubs)) if len(hubs) else int(rng.integers(0, n))
            others = [int(x) for x in rng.choice(np.delete(np.arange(n), main), size - 1, replace=False)]
            members = [main] + others  # noqa: RUF005
            period = int(rng.integers(p.min_period, p.max_period + 1))
            start = int(rng.integers(0, p.steps - period))
            end = start + period
            used = set(members)
            if typ in ("fan_in", "fan_out"):
                interval = max(period // len(others), 1)
                by_step = {}
                for i, o in enumerate(others):
                    s = min(start + interval * i, end)
                    v = by_step.setdefault(s, rand_amount())  # one amount per step
                    sim.add(o, main, s, v, aid) if typ == "fan_in" else sim.add(main, o, s, v, aid)
            elif typ == "cycle":
                steps = rng.integers(start, end + 1, size)  # unordered
                v = p.max_amount
                for i in np.argsort(steps, kind="stable"):  # the amount shrinks with each transfer made
                    sim.add(members[i], members[(i + 1) % size], steps[i], v, aid)
                    v = max(v - v * p.margin, p.min_amount)
            elif typ == "bipartite":
                half = size // 2
                v = rand_amount()
                for o in members[:half]:
                    s = int(rng.integers(start, end + 1))
                    for d in members[half:]:
                        sim.add(o, d, s, v, aid)
            elif typ == "stack":
                third = size // 3
                orig, mid, dest = members[:third], members[third : 2 * third], members[2 * third :]
                v1 = rand_amount()
                v2 = v1 * len(orig) * len(mid) / (len(mid) * len(dest))
                s1 = int(rng.integers(start, (start + end) // 2 + 1))
                s2 = int(rng.integers(s1, end + 1))
                for o in orig:
                    for d in mid:
                        sim.add(o, d, s1, v1, aid)
                for o in mid:
                    for d in dest:
                        sim.add(o, d, s2, v2, aid)
            elif typ == "scatter_gather":
                bene, mids = others[0], others[1:]
                middle = (start + end) // 2
                for m in mids:
                    sim.add(main, m, int(rng.integers(start, middle + 1)), p.max_amount, aid)
                    sim.add(m, bene, int(rng.integers(middle, end + 1)), max(p.max_amount * (1 - p.margin), p.min_amount), aid)
            elif typ == "gather_scatter":
                k = len(others) // 2
                senders, receivers = others[:k], others[k:]
                middle = (start + end) // 2
                total = 0.0
                for i, o in enumerate(senders):
                    v = rand_amount()
                    total += v
                    sim.add(o, main, start if i == 0 else int(rng.integers(start, middle + 1)), v, aid)
                share = total * (1 - p.margin) / len(receivers)
                for i, d in enumerate(receivers):
                    sim.add(main, d, end if i == 0 else int(rng.integers(middle + 1, end + 1)), share, aid)
            else:  # random walk over the background graph from the main account
                steps = sorted(set(int(x) for x in rng.integers(start, end + 1, size)))
                at, used = main, {main}
                for s in steps:
                    nxt = int(rng.choice(dests[at]))
                    sim.add(at, nxt, s, rand_amount(), aid)
                    used.add(nxt)
                    at = nxt
            sim.alerts.append((typ, sorted(used)))
    return sim


def batch(sim: Sim, sha: str = "a1" * 32) -> Batch:
    """The simulated transactions as one columnar batch (as a parser would yield), locators `row:N`."""
    n = len(sim.src)
    order = np.lexsort((np.arange(n), np.array(sim.step)))  # rows in time order, as an export lists them
    src, dst = np.array(sim.src)[order], np.array(sim.dst)[order]
    step = np.array(sim.step, dtype="int64")[order]
    ts = pa.array(
        (np.datetime64(BASE.replace(tzinfo=None), "us") + step * np.timedelta64(86_400_000_000, "us")), pa.timestamp("us", tz="UTC")
    )
    amount = pa.array([f"{v:.2f}" for v in np.array(sim.amount)[order]]).cast(pa.decimal128(38, 18))
    null = pa.nulls(n, pa.string())
    sim.order = order
    return Batch(
        "transactions",
        pa.table(
            {
                "rail": constant("bank", n),
                "ts": ts,
                "reference": null,
                "from_account": pa.array([f"A{x:06d}" for x in src]),
                "to_account": pa.array([f"A{x:06d}" for x in dst]),
                "from_name": null,
                "to_name": null,
                "amount": amount,
                "currency": constant("USD", n),
                "asset_contract": null,
                "description": null,
                "status": null,
                "extra": null,
                "exhibit_sha256": constant(sha, n),
                "parser": constant("amlsim-reimplementation", n),
                "parser_version": constant("1", n),
                "locator": pa.array([f"row:{i + 1}" for i in range(n)]),
            }
        ),
    )
