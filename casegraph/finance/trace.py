"""Follow the money: time-respecting paths from (or, backwards, to) one account, with taint.

A transfer can carry money onward only if it leaves after money reached the account: each hop is
searched column-wise over the whole frontier at once. Every account reached gets its earliest
arrival and the path that achieves it, each hop a transaction with its provenance.

Taint, on the transfers the search reached, in time order, with exact decimals:
- poison: an account that received any tainted money sends only tainted money;
- haircut: what an account sends is tainted in the proportion tainted/total of what it holds;
- fifo: an account's money leaves in the order it arrived (a queue of lots per account).
The traced account's own outgoing transfers (in the window) are the taint's origin.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pyarrow as pa

from ..model import record_id
from ..store import CaseStore
from ..times import DAY, show_time
from .flows import Flows, is_unknown

MODELS = ("poison", "haircut", "fifo")
NEVER = np.iinfo(np.int64).max


@dataclass
class Hop:
    tx_id: str
    src: str
    dst: str
    ts: datetime
    amount: Decimal
    currency: str | None
    locator: str
    exhibit_sha256: str
    description: str | None = None
    day_only: bool = False  # the source gives the date and no time: `ts` is then the start of that local day
    offset_min: int | None = None  # how far the local time the source wrote is ahead of UTC
    order_assumed: bool = False  # same day as the hop before it, in another statement: their order is assumed

    @property
    def when(self) -> str:
        """The hop's time as the source gave it (a date stays a date; see casegraph.times)."""
        if self.offset_min is None:
            return show_time(self.ts.replace(tzinfo=None), self.ts, "+00:00", None, DAY if self.day_only else None)
        local = (self.ts + timedelta(minutes=self.offset_min)).replace(tzinfo=None)
        sign = "+" if self.offset_min >= 0 else "-"
        offset = f"{sign}{abs(self.offset_min) // 60:02d}:{abs(self.offset_min) % 60:02d}"
        return show_time(local, self.ts, offset, None, DAY if self.day_only else None)


def order_note(hops: list[Hop]) -> str:
    """What a path's times rest on, when some hop's order within a day was assumed ('' otherwise)."""
    at = [str(i) for i, h in enumerate(hops, 1) if h.order_assumed]
    if not at:
        return ""
    return (f"order within the day assumed for hop {', '.join(at)} (dated without a time, on the same day as the "
            "money's arrival, in another statement)")


@dataclass
class Reached:
    account: str
    hops: list[Hop]  # the earliest-arrival path from the origin
    tainted: Decimal = Decimal(0)  # tainted money that arrived, under the model
    received: Decimal = Decimal(0)  # all money that arrived in the traced transfers


@dataclass
class TraceResult:
    origin: str
    backward: bool
    model: str
    reached: list[Reached]
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class Arrival:
    """When money first reached each account, per account: the arriving transfer's time and, for a
    transfer dated but not timed, its day and its row in its statement (see `not_before`)."""

    t: np.ndarray  # µs (NEVER if unreached)
    day: np.ndarray
    day_only: np.ndarray
    run: np.ndarray
    seq: np.ndarray

    @classmethod
    def empty(cls, n: int, run_dtype: np.dtype) -> Arrival:
        return cls(np.full(n, NEVER, np.int64), np.full(n, np.iinfo(np.int64).min, np.int64), np.zeros(n, bool),
                   np.zeros(n, run_dtype), np.full(n, -1, np.int64))  # run: the flows' own dtype (hashes are uint64)

    def at(self, idx: np.ndarray) -> Arrival:
        return Arrival(self.t[idx], self.day[idx], self.day_only[idx], self.run[idx], self.seq[idx])

    def set(self, idx: np.ndarray, f: Flows, edge: np.ndarray) -> None:
        self.t[idx], self.day[idx], self.day_only[idx] = f.t[edge], f.day[edge], f.day_only[edge]
        self.run[idx], self.seq[idx] = f.run[edge], f.seq[edge]


def not_before(f: Flows, edge: np.ndarray, came: Arrival) -> tuple[np.ndarray, np.ndarray]:
    """Whether each transfer can carry money that arrived as `came` says (same length), and where that
    rests on an assumed order. Timed transfers compare times. When either is dated only, a later day
    is after; on the same day, two rows of one statement follow its row order, and rows of different
    statements are allowed with the order within the day assumed (said in the output, never hidden)."""
    timed = ~(f.day_only[edge] | came.day_only)
    day = f.day[edge]
    same_statement = (f.run[edge] == came.run) & (f.seq[edge] >= 0) & (came.seq >= 0)
    in_order = f.seq[edge] < came.seq if f.backwards else f.seq[edge] > came.seq
    same_day = day == came.day
    dated = (day > came.day) | (same_day & (~same_statement | in_order))
    assumed = ~timed & same_day & ~same_statement
    arrived = came.t != NEVER  # money that never came cannot leave, whatever the day
    return np.where(timed, f.t[edge] >= came.t, dated) & arrived, assumed & arrived


def search(f: Flows, origin: int, hops: int, since_us: int | None, until_us: int | None,
           min_amount: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earliest arrival per account within `hops` transfers, and the transfer that achieved it.
    Returns (arrival µs per account, NEVER if unreached; parent edge per account, -1 if none; edges used)."""
    came, parent, used, _ = _search(f, origin, hops, since_us, until_us, min_amount)
    return came.t, parent, used


def _search(f: Flows, origin: int, hops: int, since_us: int | None, until_us: int | None,
            min_amount: float) -> tuple[Arrival, np.ndarray, np.ndarray, np.ndarray]:
    """search(), with the full Arrival and, per account, whether its hop rests on an assumed order within a day."""
    n = len(f.accounts)
    came = Arrival.empty(n, f.run.dtype)
    parent = np.full(n, -1, dtype=np.int64)
    assumed_hop = np.zeros(n, bool)
    came.t[origin] = since_us if since_us is not None else np.iinfo(np.int64).min
    frontier = np.array([origin])
    used: list[np.ndarray] = []
    for _ in range(hops):
        starts, ends = f.offsets[frontier], f.offsets[frontier + 1]
        counts = ends - starts
        if counts.sum() == 0:
            break
        edge = np.repeat(starts - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(counts.sum())
        ok, assumed = not_before(f, edge, came.at(np.repeat(frontier, counts)))  # money leaves only after it came
        ok &= f.amount[edge] >= min_amount
        if since_us is not None:
            ok &= f.t[edge] >= since_us
        if until_us is not None:
            ok &= f.t[edge] <= until_us
        edge, assumed = edge[ok], assumed[ok]
        if not len(edge):
            break
        used.append(edge)
        dst, t = f.dst[edge], f.t[edge]
        order = np.lexsort((f.seq[edge] * (-1 if f.backwards else 1), t, dst))  # earliest arrival per receiving account
        dst, t, edge, assumed = dst[order], t[order], edge[order], assumed[order]
        first = np.r_[True, dst[1:] != dst[:-1]]
        dst, t, edge, assumed = dst[first], t[first], edge[first], assumed[first]
        better = t < came.t[dst]
        dst, edge, assumed = dst[better], edge[better], assumed[better]
        came.set(dst, f, edge)
        parent[dst] = edge
        assumed_hop[dst] = assumed
        frontier = dst
        if not len(frontier):
            break
    return came, parent, (np.unique(np.concatenate(used)) if used else np.array([], dtype=np.int64)), assumed_hop


def trace(store: CaseStore, account: str, *, hops: int = 6, backward: bool = False, since: datetime | None = None,
          until: datetime | None = None, min_amount: Decimal = Decimal(0), model: str = "poison",
          links: dict[str, str] | None = None, flows: Flows | None = None) -> TraceResult:
    if model not in MODELS:
        raise ValueError(f"taint model must be one of {', '.join(MODELS)}")
    f = flows or Flows.load(store, links)
    if backward:
        f = f.reversed()
    node = (links or {}).get(account, account) if f.linked else account  # a linked account goes by its link
    if node not in f.index:
        raise KeyError(f"account {account!r} is in no transaction with a time and both ends")
    us = lambda d: int(d.astimezone(timezone.utc).timestamp() * 1_000_000) if d else None  # noqa: E731
    lo, hi = us(since), us(until)
    if backward:
        lo, hi = (-hi if hi is not None else None), (-lo if lo is not None else None)
    origin = f.index[node]
    came, parent, used, assumed_hop = _search(f, origin, hops, lo, hi, float(min_amount))
    # taint needs everything that moved in or out of the reached accounts in the window, clean money
    # included (it dilutes the taint); the origin's own transfers count only where the search took them
    reached_mask = parent >= 0
    reached_mask[origin] = True
    window = np.ones(len(f.t), bool) if lo is None else f.t >= lo
    if hi is not None:
        window &= f.t <= hi
    used_mask = np.zeros(len(f.t), bool)
    used_mask[used] = True
    replay = np.flatnonzero((window & (reached_mask[f.src] | reached_mask[f.dst]) & (f.src != origin)) | used_mask)
    details = _details(store, f, parent[parent >= 0])  # only the transfers on reported paths
    reached = []
    for a in np.flatnonzero(parent >= 0):
        path, node = [], int(a)
        while node != origin and parent[node] >= 0 and len(path) <= hops:
            e = int(parent[node])
            path.append(replace(details[e], order_assumed=bool(assumed_hop[node])))
            node = int(f.src[e])
        reached.append(Reached(f.accounts[a], path[::-1]))
    taint = _poison(f, replay, origin, came) if model == "poison" else _taint(f, replay, origin, model)
    for r in reached:
        r.tainted, r.received = taint.get(r.account, (Decimal(0), Decimal(0)))
    reached.sort(key=lambda r: (len(r.hops), -r.tainted, r.account))
    return TraceResult(account, backward, model, reached, f.skipped)


def _details(store: CaseStore, f: Flows, edges: np.ndarray) -> dict[int, Hop]:
    """The transfers at these graph edges, as hops, keyed by edge. Accounts, times and exact amounts come
    from the graph; the store is asked only for what the graph lacks (descriptions only for unknown ends)."""
    if not len(edges):
        return {}
    locators = f.locator.take(pa.array(edges)).to_pylist()
    runs = [f.runs[int(k)] for k in f.run[edges]]
    currencies = f.currency.take(pa.array(edges)).to_pylist()
    amounts = f.exact.take(pa.array(edges)).to_pylist()
    # the store is asked only for descriptions of unknown ends, and for the ends as written when links merged some
    wanted = [i for i, e in enumerate(edges.tolist()) if f.linked or is_unknown(f.accounts[f.src[e]]) or is_unknown(f.accounts[f.dst[e]])]
    written = {}
    if wanted:
        written = {(r[0], r[1], r[2]): r[3:] for r in store.con.execute("""
            SELECT exhibit_sha256, parser, locator, CASE WHEN from_account IS NULL OR to_account IS NULL THEN description END,
                   from_account, to_account
            FROM transactions WHERE locator IN (SELECT unnest(?))""", [[locators[i] for i in wanted]]).fetchall()}
    out = {}
    for e, (sha, parser), loc, currency, amount in zip(edges.tolist(), runs, locators, currencies, amounts):
        description, w_from, w_to = written.get((sha, parser, loc), (None, None, None))
        a, b = f.accounts[f.src[e]], f.accounts[f.dst[e]]
        frm, to = (b, a) if f.backwards else (a, b)  # a reversed graph runs from receiver to sender
        if f.linked:
            frm, to = w_from or frm, w_to or to
        t = -int(f.t[e]) if f.backwards else int(f.t[e])  # reversed graphs negate time
        out[e] = Hop(record_id("transactions", sha, parser, loc), frm, to, datetime.fromtimestamp(t / 1e6, timezone.utc),
                     amount, currency, loc, sha, description, bool(f.day_only[e]), int(f.offset_min[e]))
    return out


def label(account: str, hop: Hop | None = None) -> str:
    """How to show a transaction end: an unknown one by what its transfer says it was."""
    if not is_unknown(account):
        return account
    return f"(unknown: {hop.description})" if hop is not None and hop.description else "(unknown end)"


def _poison(f: Flows, replay: np.ndarray, origin: int, came: Arrival) -> dict[str, tuple[Decimal, Decimal]]:
    """Poison, column-wise: a transfer is tainted when it leaves the origin, or leaves a reached account at or
    after the first tainted money arrived there (the search's arrival, by `not_before`). Sums are exact decimals."""
    import pyarrow.compute as pc

    src, dst = f.src[replay], f.dst[replay]
    tainted = (src == origin) | not_before(f, replay, came.at(src))[0]
    amounts = f.exact.take(pa.array(replay))
    zero = pa.scalar(Decimal(0), amounts.type)
    table = pa.table({"dst": dst, "amount": amounts, "tainted": pc.if_else(pa.array(tainted), amounts, zero)})
    sums = table.group_by("dst").aggregate([("tainted", "sum"), ("amount", "sum")])
    return {f.accounts[int(d)]: (t, a) for d, t, a in zip(sums.column("dst").to_pylist(), sums.column("tainted_sum").to_pylist(),
                                                          sums.column("amount_sum").to_pylist())}


def _taint(f: Flows, used: np.ndarray, origin: int, model: str) -> dict[str, tuple[Decimal, Decimal]]:
    """(tainted, total) received per account under haircut or fifo, replaying the transfers in time order
    with exact decimals (quantised to 18 places once, at the end). The origin's transfers are all tainted."""
    if not len(used):
        return {}
    order = used[np.lexsort((f.seq[used] * (-1 if f.backwards else 1), f.t[used]))]  # within a day: statement row order
    srcs, dsts = f.src[order].tolist(), f.dst[order].tolist()
    amounts = f.exact.take(pa.array(order)).to_pylist()
    zero = Decimal(0)
    held: dict[int, Decimal] = defaultdict(Decimal)  # what an account holds
    dirty: dict[int, Decimal] = defaultdict(Decimal)  # the tainted part of it
    lots: dict[int, deque] = defaultdict(deque)  # fifo: [amount, tainted part] per arrival
    got_t: dict[int, Decimal] = defaultdict(Decimal)
    got_a: dict[int, Decimal] = defaultdict(Decimal)
    fifo = model == "fifo"
    for a, b, amt in zip(srcs, dsts, amounts):
        if a == origin:
            t_amt = amt
        elif fifo:
            t_amt, need, q = zero, amt, lots[a]
            while need > 0 and q:
                lot = q[0]
                take = need if need < lot[0] else lot[0]
                share = lot[1] * take / lot[0]
                t_amt += share
                lot[0] -= take
                lot[1] -= share
                need -= take
                if lot[0] <= 0:
                    q.popleft()
        else:
            h, d = held[a], dirty[a]
            t_amt = min(amt * d / h, amt, d) if h > 0 and d > 0 else zero
            held[a] = h - amt if h > amt else zero
            dirty[a] = d - t_amt if d > t_amt else zero
        if fifo:
            lots[b].append([amt, t_amt])
        else:
            held[b] += amt
            dirty[b] += t_amt
        got_t[b] += t_amt
        got_a[b] += amt
    q18 = Decimal("1e-18")
    return {f.accounts[k]: (got_t[k].quantize(q18), got_a[k]) for k in got_a}


VERSION = "1.0"


def to_findings(result: TraceResult):
    """One finding per account reached, with every hop of its path as evidence."""
    from ..findings import Finding

    way = "backward" if result.backward else "forward"
    detector = f"trace:{way}:{result.model}:{result.origin}"
    out = []
    for r in result.reached:
        route = " → ".join([label(r.hops[0].src, r.hops[0])] + [label(h.dst, h) for h in r.hops])
        first, last = r.hops[0], r.hops[-1]
        verb = "came to" if result.backward else "reached"
        out.append(Finding(
            kind="money-trace", subject=r.account, detector=detector, detector_version=VERSION,
            title=f"Money from {result.origin} {verb} {label(r.account, last)} in {len(r.hops)} hop(s)" if not result.backward
            else f"Money in {result.origin} came from {label(r.account, last)} over {len(r.hops)} hop(s)",
            summary=(f"{route}; " + (f"hop on {first.when}" if len(r.hops) == 1 else f"hops from {first.when} to {last.when}")
                     + (f" ({order_note(r.hops)})" if order_note(r.hops) else "") + "; amounts "
                     + ", ".join(f"{h.amount.normalize():f} {h.currency or ''}".strip() for h in r.hops)
                     + f". Under the {result.model} model {r.tainted.normalize():f} of {r.received.normalize():f} "
                       f"received by {r.account} in the traced transfers is tainted."),
            score=float(r.tainted), evidence=[{"table": "transactions", "record": h.tx_id, "locator": h.locator,
                                              "exhibit_sha256": h.exhibit_sha256} for h in r.hops],
            attrs={"origin": result.origin, "direction": way, "model": result.model, "hops": len(r.hops),
                   "order_assumed": [i for i, h in enumerate(r.hops, 1) if h.order_assumed],
                   "tainted": str(r.tainted), "received": str(r.received), "path": route}))
    return detector, out
