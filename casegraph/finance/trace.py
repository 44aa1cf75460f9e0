"""Follow the money: time-respecting paths from (or, backwards, to) one account, with taint.

A transfer can carry money onward only if it leaves after money reached the account: each hop is
searched column-wise over the whole frontier at once. Every account reached gets its earliest
arrival and the path that achieves it, each hop a transaction with its provenance.

Taint, on the transfers the search reached, in time order, with exact decimals:
- poison: an account that received any tainted money sends only tainted money;
- haircut: what an account sends is tainted in the proportion tainted/total of what it holds;
- fifo: an account's money leaves in the order it arrived (a queue of lots per account).
The traced account's own outgoing transfers (in the window) are the taint's origin. Haircut and fifo
keep one pool per account and currency (LKR never dilutes or carries USDT); every sum is per currency.
Failed transfers are not followed unless asked for; what was left out is counted, totalled and cited.

Findings (to_findings) state each figure in attrs["figures"] with the records it sums (findings.py), cite
every transfer those figures add up, cite the basis of every crossing between linked ends, group payments to
ends the records do not name (merchants, bills, cash) by channel, and show times with casegraph.times.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pyarrow as pa

from ..amounts import format_amount, format_totals
from ..findings import figure, sum_figures
from ..model import record_id
from ..ranges import flat_ranges
from ..store import CaseStore
from ..times import DAY, is_date_only, show_date, show_row, show_time
from ..wording import plural
from .flows import Flows, LeftOut, is_unknown

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
    return (
        f"order within the day assumed for hop {', '.join(at)} (dated without a time, on the same day as the "
        "money's arrival, in another statement)"
    )


@dataclass
class Reached:
    account: str  # the graph node (a linked node stands for every end linked to it)
    hops: list[Hop]  # the earliest-arrival path from the origin
    # per currency, over the traced transfers into the account (`inflow`): all that arrived, and the tainted part
    tainted: dict[str | None, Decimal] = field(default_factory=dict)
    received: dict[str | None, Decimal] = field(default_factory=dict)
    inflow: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64), repr=False)  # graph edges
    tainted_in: np.ndarray | None = field(default=None, repr=False)  # poison: the inflow edges that carried taint


@dataclass
class TraceResult:
    origin: str
    backward: bool
    model: str
    reached: list[Reached]
    skipped: dict[str, LeftOut] = field(default_factory=dict)  # what the graph left out, why, with totals
    links: dict[str, str] = field(default_factory=dict)  # transaction end → the node it was merged into
    link_basis: dict[str, list[dict]] = field(default_factory=dict)  # end → the evidence for its link
    flows: Flows | None = field(default=None, repr=False)  # the graph searched (for citing the transfers)
    window: tuple[datetime | None, datetime | None] = (None, None)  # since, until


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
        return cls(
            np.full(n, NEVER, np.int64),
            np.full(n, np.iinfo(np.int64).min, np.int64),
            np.zeros(n, bool),
            np.zeros(n, run_dtype),
            np.full(n, -1, np.int64),
        )  # run: the flows' own dtype (hashes are uint64)

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


def search(
    f: Flows, origin: int, hops: int, since_us: int | None, until_us: int | None, min_amount: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earliest arrival per account within `hops` transfers, and the transfer that achieved it.
    Returns (arrival µs per account, NEVER if unreached; parent edge per account, -1 if none; edges used)."""
    came, parent, used, _ = _search(f, origin, hops, since_us, until_us, min_amount)
    return came.t, parent, used


def _search(
    f: Flows, origin: int, hops: int, since_us: int | None, until_us: int | None, min_amount: float
) -> tuple[Arrival, np.ndarray, np.ndarray, np.ndarray]:
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
        edge = flat_ranges(starts, counts)
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
    return came, parent, (_unique(np.concatenate(used)) if used else np.array([], dtype=np.int64)), assumed_hop


def _unique(edges: np.ndarray) -> np.ndarray:
    """np.unique of a few thousand edges, by a sort (np.unique's hashing was the slower part of a trace)."""
    edges = np.sort(edges)
    return edges[np.r_[True, edges[1:] != edges[:-1]]] if len(edges) else edges


def trace(
    store: CaseStore,
    account: str,
    *,
    hops: int = 6,
    backward: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    min_amount: Decimal = Decimal(0),
    model: str = "poison",
    links: dict[str, str] | None = None,
    flows: Flows | None = None,
    include_failed: bool = False,
    link_basis: dict[str, list[dict]] | None = None,
) -> TraceResult:
    """`links`: ends known to be one holder's (paths cross there); `link_basis`: per end, the evidence of its
    link (an examiner's decision, entity resolution's links), cited wherever a path crosses it."""
    if model not in MODELS:
        raise ValueError(f"taint model must be one of {', '.join(MODELS)}")
    f = flows or Flows.load(store, links, include_failed=include_failed)
    if backward:
        f = f.reversed()
    node = (links or {}).get(account, account) if f.linked else account  # a linked account goes by its link
    if node not in f.index:
        raise KeyError(
            f"account {account!r} is in no transaction with a time and an amount" + ("" if include_failed else " that did not fail")
        )
    us = lambda d: int(d.astimezone(UTC).timestamp() * 1_000_000) if d else None  # noqa: E731
    lo, hi = us(since), us(until)
    if backward:
        lo, hi = (-hi if hi is not None else None), (-lo if lo is not None else None)
    origin = f.index[node]
    came, parent, used, assumed_hop = _search(f, origin, hops, lo, hi, float(min_amount))
    # taint needs everything that moved in or out of the reached accounts in the window, clean money
    # included (it dilutes the taint); the origin's own transfers count only where the search took them
    # (gathered from the graph's by-sender and by-receiver indexes: no pass over all the case's transfers)
    codes = np.flatnonzero(parent >= 0)
    touching = np.concatenate([f.outgoing(codes), f.incoming(np.r_[codes, origin])])
    keep = f.src[touching] != origin
    if lo is not None:
        keep &= f.t[touching] >= lo
    if hi is not None:
        keep &= f.t[touching] <= hi
    replay = _unique(np.concatenate([touching[keep], used]))  # in edge order, as a pass over all of them gives
    details = _details(store, f, parent[codes])  # only the transfers on reported paths
    edges = parent[codes]
    up = dict(zip(codes.tolist(), zip(edges.tolist(), f.src[edges].tolist(), strict=True), strict=True))  # account → (edge, sender)
    assumed = set(codes[assumed_hop[codes]].tolist())
    reached = []
    for a in codes.tolist():
        path, at = [], a
        while at != origin and at in up and len(path) <= hops:
            e, sender = up[at]
            path.append(replace(details[e], order_assumed=True) if at in assumed else details[e])  # hops are never changed: shared
            at = sender
        reached.append(Reached(f.accounts[a], path[::-1]))
    if model == "poison":
        sums, tainted_mask = _poison(f, replay, origin, came, parent >= 0)
    else:
        sums, tainted_mask = _taint(f, replay, origin, model, parent >= 0), None
    # what each account received in the traced transfers: replay edges grouped by receiver (what the figures cite)
    order = np.argsort(f.dst[replay], kind="stable")
    by_dst = replay[order]
    tainted_by_dst = tainted_mask[order] if tainted_mask is not None else None
    receivers = f.dst[by_dst]
    firsts, lasts = np.searchsorted(receivers, codes, "left").tolist(), np.searchsorted(receivers, codes, "right").tolist()
    for r, code, lo, hi in zip(reached, codes.tolist(), firsts, lasts):  # noqa: B905 - one of each per reached account
        r.inflow = by_dst[lo:hi]
        if tainted_by_dst is not None:
            r.tainted_in = r.inflow[tainted_by_dst[lo:hi]]
        for (a, cur), (t_sum, a_sum) in sums.get(code, {}).items():  # noqa: B007
            r.tainted[f.currencies[cur] if cur >= 0 else None] = t_sum
            r.received[f.currencies[cur] if cur >= 0 else None] = a_sum
    # order only (no figure is claimed by it): shortest paths first, then the largest tainted amount in any currency
    reached.sort(key=lambda r: (len(r.hops), -max((float(v) for v in r.tainted.values()), default=0), r.account))
    return TraceResult(account, backward, model, reached, f.skipped, dict(links or {}), dict(link_basis or {}), f, (since, until))


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
        written = {
            (r[0], r[1], r[2]): r[3:]
            for r in store.con.execute(
                """
            SELECT exhibit_sha256, parser, locator, CASE WHEN from_account IS NULL OR to_account IS NULL THEN description END,
                   from_account, to_account
            FROM transactions WHERE locator IN (SELECT unnest(?))""",
                [[locators[i] for i in wanted]],
            ).fetchall()
        }
    out = {}
    for e, (sha, parser), loc, currency, amount in zip(edges.tolist(), runs, locators, currencies, amounts):  # noqa: B905
        description, w_from, w_to = written.get((sha, parser, loc), (None, None, None))
        a, b = f.accounts[f.src[e]], f.accounts[f.dst[e]]
        frm, to = (b, a) if f.backwards else (a, b)  # a reversed graph runs from receiver to sender
        if f.linked:
            frm, to = w_from or frm, w_to or to
        t = -int(f.t[e]) if f.backwards else int(f.t[e])  # reversed graphs negate time
        out[e] = Hop(
            record_id("transactions", sha, parser, loc),
            frm,
            to,
            datetime.fromtimestamp(t / 1e6, UTC),
            amount,
            currency,
            loc,
            sha,
            description,
            bool(f.day_only[e]),
            int(f.offset_min[e]),
        )
    return out


def label(account: str, hop: Hop | None = None) -> str:
    """How to show a transaction end: an unknown one by what its transfer says it was."""
    if not is_unknown(account):
        return account
    return f"(unknown: {hop.description})" if hop is not None and hop.description else "(unknown end)"


def _poison(f: Flows, replay: np.ndarray, origin: int, came: Arrival, wanted: np.ndarray):
    """Poison, column-wise: a transfer is tainted when it leaves the origin, or leaves a reached account at or
    after the first tainted money arrived there (the search's arrival, by `not_before`). Sums are exact decimals, per
    receiving account and currency. Returns ({account code: {(code, currency code): (tainted, received)}},
    which replayed transfers were tainted)."""
    import pyarrow.compute as pc

    src, dst = f.src[replay], f.dst[replay]
    tainted = (src == origin) | not_before(f, replay, came.at(src))[0]
    amounts = f.exact.take(pa.array(replay))
    zero = pa.scalar(Decimal(0), amounts.type)
    table = pa.table({"dst": dst, "cur": f.cur[replay], "amount": amounts, "tainted": pc.if_else(pa.array(tainted), amounts, zero)})
    sums = table.group_by(["dst", "cur"]).aggregate([("tainted", "sum"), ("amount", "sum")])
    # only the reached accounts are reported: turn just their sums into Decimals (the slow part)
    sums = sums.filter(pa.array(wanted[sums.column("dst").to_numpy()]))
    out: dict[int, dict] = defaultdict(dict)
    for d, c, t, a in zip(  # noqa: B905
        sums.column("dst").to_pylist(),
        sums.column("cur").to_pylist(),
        sums.column("tainted_sum").to_pylist(),
        sums.column("amount_sum").to_pylist(),
    ):
        out[d][(d, c)] = (t, a)
    return out, tainted


def _taint(f: Flows, used: np.ndarray, origin: int, model: str, wanted: np.ndarray) -> dict[int, dict]:
    """(tainted, total) received per account and currency under haircut or fifo, replaying the transfers in
    time order with exact decimals (quantised to 18 places once, at the end). The origin's transfers are all
    tainted. Each currency is its own pool: an account's LKR never dilutes or carries its USDT."""
    if not len(used):
        return {}
    order = used[np.lexsort((f.seq[used] * (-1 if f.backwards else 1), f.t[used]))]  # within a day: statement row order
    ncur = len(f.currencies) + 1  # pools are (account, currency) pairs; -1 (not stated) is a currency of its own
    src_pool, dst_pool = f.src[order] * ncur + f.cur[order] + 1, f.dst[order] * ncur + f.cur[order] + 1
    origins = {origin * ncur + c for c in range(ncur)}
    # Only pools that can hold taint need their holdings followed: those reached, in time order, from the origin's
    # (a cheap pass without decimals) that also send money on. Every other pool sends nothing tainted.
    can_hold = set(origins)
    for a, b in zip(src_pool.tolist(), dst_pool.tolist()):  # noqa: B905
        if a in can_hold:
            can_hold.add(b)
    followed = np.isin(src_pool, np.fromiter(can_hold - origins, np.int64))  # sent by a pool that can hold taint
    needed_pools = np.unique(src_pool[followed])  # pools whose holdings are followed
    needed = set(needed_pools.tolist())
    report = wanted[f.dst[order]]
    # What a reported account received is a plain exact sum per pool (no replay needed, as poison sums it).
    got = pa.table({"pool": dst_pool[report], "amount": f.exact.take(pa.array(order[report]))})
    got = got.group_by("pool").aggregate([("amount", "sum")])
    got_a = dict(zip(got.column("pool").to_pylist(), got.column("amount_sum").to_pylist(), strict=True))
    # The decimal replay needs only the transfers that move taint or change a followed pool's holdings: sent by
    # the origin (all taint) to a followed or reported pool, sent by a followed pool, or received by one.
    into = np.isin(dst_pool, needed_pools)
    step = followed | into | ((f.src[order] == origin) & report)
    order, srcs, dsts = order[step], src_pool[step].tolist(), dst_pool[step].tolist()
    reported = report[step].tolist()
    amounts, scale = _scaled(f.exact.take(pa.array(order)))
    zero = Decimal(0)
    held: dict[int, Any] = defaultdict(int)  # what an account holds (int or Decimal, as the amounts)
    dirty: dict[int, Decimal] = defaultdict(Decimal)  # the tainted part of it
    lots: dict[int, deque] = defaultdict(deque)  # fifo: [amount, tainted part] per arrival
    got_t: dict[int, Decimal] = defaultdict(Decimal)
    fifo = model == "fifo"
    for a, b, amt, rep in zip(srcs, dsts, amounts, reported):  # noqa: B905
        if a in origins:
            t_amt = Decimal(amt)  # taint is always a Decimal (an int share would divide as a float)
        elif a not in needed:
            t_amt = zero  # it never held taint
        elif fifo:
            t_amt, need, q = zero, amt, lots[a]
            while need > 0 and q:
                lot = q[0]
                take = need if need < lot[0] else lot[0]
                share = lot[1] * take / lot[0] if lot[1] else zero  # a clean lot gives no taint (no division)
                t_amt += share
                lot[0] -= take
                lot[1] -= share
                need -= take
                if lot[0] <= 0:
                    q.popleft()
        else:
            h, d = held[a], dirty[a]
            t_amt = min(amt * d / h, amt, d) if h > 0 and d > 0 else zero
            held[a] = h - amt if h > amt else 0
            dirty[a] = d - t_amt if d > t_amt else zero
        if b in needed:
            if fifo:
                q = lots[b]
                if not t_amt and q and not q[-1][1]:
                    q[-1][0] += amt  # clean after clean: one lot (no lot of either gives taint, so nothing changes)
                else:
                    q.append([amt, t_amt])
            else:
                held[b] += amt
                dirty[b] += t_amt
        if rep and t_amt:
            got_t[b] += t_amt
    q18 = Decimal("1e-18")
    out: dict[int, dict] = defaultdict(dict)
    with localcontext() as ctx:
        ctx.prec = 60  # room for 20 integer digits and 18 decimals when quantising
        for k, a_sum in got_a.items():
            out[k // ncur][(k // ncur, k % ncur - 1)] = (got_t.get(k, zero).scaleb(-scale).quantize(q18), a_sum)
    return out


def _scaled(amounts: pa.Array) -> tuple[list[Any], int]:  # list[int] or list[Decimal]
    """The amounts counted in units of 10**-scale, with the fewest places that hold them all exactly (2 for
    cents). Scaling by a power of ten changes no digit of any sum, product or quotient rounded to the context's
    precision, so the replay gives the same figures, times 10**scale. As Python integers when each fits in 64
    bits and all of them together have fewer than 28 digits (so no sum of them is ever rounded as a Decimal):
    holdings then add as integers, and only the tainted parts are Decimals; otherwise as exact Decimals."""
    import pyarrow.compute as pc

    def words(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:  # each decimal128: two's complement, little-endian
        w = np.frombuffer(a.buffers()[1], np.int64)[2 * a.offset : 2 * (a.offset + len(a))]
        return w[0::2], w[1::2]

    for scale in (0, 2, 3, 6, 8):
        try:
            fewer = pc.cast(amounts, pa.decimal128(38, scale))  # refuses (ArrowInvalid) if a digit would be lost
        except pa.ArrowInvalid:
            continue
        low, high = words(fewer)
        if np.array_equal(high, low >> 63) and np.abs(low.astype(np.float64)).sum() < 1e27:  # each fits in 64 bits
            return low.tolist(), scale
    low, high = words(amounts)  # all 128 bits, as Python integers (exact whatever the context's precision)
    units = ((h << 64) | (lo & 0xFFFFFFFFFFFFFFFF) for h, lo in zip(high.tolist(), low.tolist(), strict=True))
    return list(map(Decimal, units)), amounts.type.scale


VERSION = "2.0"

# how a transfer to (or, traced backwards, from) an end the record does not name is told, by its channel
SPENT = {
    "card": "card payments at merchants",
    "bill": "bill payments",
    "atm": "ATM withdrawals",
    "cash": "cash withdrawals",
    "cheque": "cheques",
    "fee": "bank charges",
    "transfer": "transfers to an account the record does not name",
    None: "other payments to a payee the record does not name",
}
CAME = {
    "cash": "cash deposits",
    "atm": "deposits at machines",
    "cheque": "cheques deposited",
    "card": "card credits",
    "transfer": "transfers from an account the record does not name",
    None: "other credits from a source the record does not name",
}


def _cited(store: CaseStore, f: Flows, edges) -> dict[int, dict]:
    """The stored transactions at these graph edges, as the records write them: id, ends, names, amount,
    currency, time, narration and channel (finance.channels)."""
    from .channels import channel_sql

    edges = sorted({int(e) for e in edges})
    if not edges:
        return {}
    take = pa.array(edges)
    key = {
        (f.runs[int(r)][0], f.runs[int(r)][1], loc): e
        for e, r, loc in zip(edges, f.run[edges].tolist(), f.locator.take(take).to_pylist())  # noqa: B905
    }
    out = {}
    for row in store.rows(
        f"""
            WITH m AS MATERIALIZED (SELECT * FROM transactions WHERE locator IN (SELECT unnest(?)))  -- match, then classify
            SELECT exhibit_sha256, parser, locator, id, from_account, to_account, from_name, to_name, amount, currency,
                   ts_local, ts_utc, utc_offset, tz_basis, ts_precision, seq, description, {channel_sql()} AS channel
            FROM m""",
        [sorted({k[2] for k in key})],
    ):
        e = key.get((row["exhibit_sha256"], row["parser"], row["locator"]))
        if e is not None:
            out[e] = row
    return out


def span(rows: list[dict]) -> str:
    """When these transactions were, as their records state it (casegraph.times: a date stays a date):
    'on T' for one moment, 'between A and B' for a real range."""
    timed = sorted((r for r in rows if r.get("ts_utc") is not None), key=lambda r: (r["ts_utc"], r.get("seq") or 0))
    if not timed:
        return "at no stated time"
    first, last = show_row(timed[0]), show_row(timed[-1])
    if first == last:
        return f"on {first}"
    if all(is_date_only(r.get("ts_precision")) for r in (timed[0], timed[-1])):
        return f"between {show_date(timed[0]['ts_local'], timed[0]['ts_utc'])} and {show_date(timed[-1]['ts_local'], timed[-1]['ts_utc'])} (dates only)"  # noqa: E501
    return f"between {first} and {last}"


def party(account: str | None, name: str | None = None) -> str:
    """A transaction end as its record writes it, with the holder's name where the record gives one."""
    if account is None or is_unknown(account):
        return f"(not named{': ' + name if name else ''})"
    return f"{account} ({name})" if name and name != account else account


def _evidence(row: dict) -> dict:
    return {"table": "transactions", "record": row["id"], "locator": row["locator"], "exhibit_sha256": row["exhibit_sha256"]}


def _money_figures(name: str, rows: list[dict]) -> list[dict]:
    """One 'sum' figure per currency over these records."""
    return sum_figures(name, ((r["id"], r["amount"], r["currency"]) for r in rows))


def _totals(figures: list[dict], name: str) -> dict:
    return {f["currency"]: Decimal(f["amount"]) for f in figures if f["name"] == name}


def _taint_figures(result: TraceResult, r: Reached, cited: dict[int, dict]) -> list[dict]:
    """The tainted part per currency. Under poison it is the sum of the tainted transfers (cited); under haircut
    and fifo it is a share the model computes from the transfers received (cited), never more than their sum."""
    if result.model == "poison":
        edges, rule = (r.tainted_in if r.tainted_in is not None else r.inflow), "sum"
    else:
        edges, rule = r.inflow, "share"
    figs = []
    for currency, amount in r.tainted.items():
        ids = [cited[int(e)]["id"] for e in edges if int(e) in cited and cited[int(e)]["currency"] == currency]
        if not amount and not ids:
            continue
        figs.append(figure("tainted", currency, amount.normalize() if amount else Decimal(0), ids, rule, model=result.model))
    return figs


def _day(row: dict):
    """A transfer's calendar date as its record states it (the rate table is by date)."""
    from datetime import date as _date

    text = show_date(row.get("ts_local"), row.get("ts_utc"))
    return _date.fromisoformat(text) if text else None


def _converted(figures: list[dict], rows: dict[str, dict], rates) -> tuple[list[dict], list[dict], str]:
    """Figures in the rate table's currency for the 'sum' figures in others, the rate rows they rest on, and
    what the summary says of them (including what could not be converted)."""
    from .rates import convert

    if rates is None:
        return [], [], ""
    added, evidence, said = [], [], []
    for fig in figures:
        if fig["name"].endswith("of the path"):
            continue
        conv, ev, missing = convert(fig, rows, rates, _day)
        if conv is not None:
            added.append(conv)
            evidence += [e for e in ev if e not in evidence]
            days = sorted({c["rate_day"] for c in conv["conversions"]})
            said.append(
                f"{fig['name']} {format_amount(Decimal(fig['amount']), fig['currency'])} = "
                f"{format_amount(Decimal(conv['amount']), conv['currency'])}"
                + (f" ({plural(len(days), 'rate')}, {days[0]} to {days[-1]}, cited)" if len(days) > 1 else f" (rate of {days[0]}, cited)")
                + (" for the transfers that have a rate" if missing else "")
            )
        if missing:
            left = sum((rows[r]["amount"] for r in missing), Decimal(0))
            added.append(figure(f"{fig['name']} not converted (no rate)", fig["currency"], left, missing))
            said.append(
                f"{format_amount(left, fig['currency'])} of {fig['name']} in {plural(len(missing), 'transfer')} has no rate "
                f"in the table within {rates.max_gap.days} days and is not converted"
            )
    return added, evidence, (" Converted with the examiner's rate table: " + "; ".join(said) + ".") if said else ""


def _scope(result: TraceResult) -> str:
    """Over which transfers a trace's totals run: the window the examiner chose, or all the case's records."""
    since, until = result.window
    if since is None and until is None:
        return "In all the case's records,"
    span_text = " ".join(
        p for p in (f"from {since:%Y-%m-%d %H:%M %Z}" if since else "", f"until {until:%Y-%m-%d %H:%M %Z}" if until else "") if p
    )
    return f"Within the trace's window ({span_text}),"


def _flow_order(result: TraceResult, r: Reached) -> list[Hop]:
    """The path's transfers in the order the money moved (a backward trace finds them newest first)."""
    return r.hops[::-1] if result.backward else list(r.hops)


def _route(result: TraceResult, flow: list[Hop], names: dict) -> tuple[str, list[dict]]:
    """`A → B = B' → C`: each transfer's ends as written, and where the path crosses from one end to another
    linked to it (the same holder), the crossing marked and its basis cited."""
    basis: list[dict] = []
    ends = [(result.origin, flow[0].src)] if not result.backward else []
    ends += [(a.dst, b.src) for a, b in zip(flow, flow[1:])]  # noqa: B905, RUF007
    if result.backward:
        ends.append((flow[-1].dst, result.origin))
    crossings = {(x, y) for x, y in ends if x != y}
    for x, y in sorted(crossings):
        for end in (x, y):
            for ev in result.link_basis.get(end, []):
                if ev not in basis:
                    basis.append(ev)

    def show(account, hop, side):
        return label(account, hop) if is_unknown(account) else party(account, names.get((hop.tx_id, side)))

    parts = []
    if not result.backward and (result.origin, flow[0].src) in crossings:
        parts.append(f"{result.origin} = ")
    parts.append(show(flow[0].src, flow[0], "from"))
    for i, h in enumerate(flow):
        parts.append(f" → {show(h.dst, h, 'to')}")
        if i + 1 < len(flow) and h.dst != flow[i + 1].src:
            parts.append(f" = {show(flow[i + 1].src, flow[i + 1], 'from')}")
    if result.backward and (flow[-1].dst, result.origin) in crossings:
        parts.append(f" = {result.origin}")
    return "".join(parts), basis


def to_findings(result: TraceResult, store: CaseStore | None = None, rates=None):
    """One finding per named account reached, citing every transfer of its path and every traced transfer into
    it (what its figures sum); transfers to (or from) ends the records do not name, such as card payments, bills
    and cash, grouped into one finding per account by channel. Every figure is in attrs["figures"], per currency,
    with the records it sums. With `rates` (finance.rates.RateTable, from an exhibit) figures in other currencies
    are also given in the table's currency, each conversion citing its rate row."""
    from ..findings import Finding

    way = "backward" if result.backward else "forward"
    detector = f"trace:{way}:{result.model}:{result.origin}"
    f = result.flows
    if f is None or store is None:
        raise ValueError("to_findings needs the trace's graph and the case store (trace(...) keeps the graph)")
    edges = [e for r in result.reached for e in r.inflow.tolist()]
    cited = _cited(store, f, edges)
    by_tx = {row["id"]: row for row in cited.values()}
    hop_rows = {h.tx_id for r in result.reached for h in r.hops} - set(by_tx)
    if hop_rows:  # path transfers are among the inflows; fetch any that are not
        for row in store.rows(
            "SELECT id, from_account, to_account, from_name, to_name, amount, currency, ts_local, ts_utc, "
            "utc_offset, tz_basis, ts_precision, seq, locator, exhibit_sha256 FROM transactions "
            "WHERE id IN (SELECT unnest(?))",
            [sorted(hop_rows)],
        ):
            by_tx[row["id"]] = row
    names = {(i, side): row.get(f"{side}_name") for i, row in by_tx.items() for side in ("from", "to")}
    base = {"origin": result.origin, "direction": way, "model": result.model}
    out, unnamed = [], defaultdict(list)
    for r in result.reached:
        if is_unknown(r.account):
            unnamed[r.hops[-1].src if not result.backward else r.hops[-1].dst].append(r)
            continue
        flow = _flow_order(result, r)
        route, basis = _route(result, flow, names)
        end_hop = r.hops[-1]
        written = end_hop.dst if not result.backward else end_hop.src
        who = party(written, names.get((end_hop.tx_id, "to" if not result.backward else "from")))
        inflow = [cited[int(e)] for e in r.inflow if int(e) in cited]
        path_rows = [by_tx[h.tx_id] for h in flow]
        figures = [figure(f"transfer {i + 1} of the path", row["currency"], row["amount"], [row["id"]]) for i, row in enumerate(path_rows)]
        figures += _money_figures("received", inflow) + _taint_figures(result, r, cited)
        conv, rate_ev, conv_text = _converted(figures, by_tx, rates)
        figures += conv
        evidence = []
        for row in path_rows + inflow:
            ev = _evidence(row)
            if ev not in evidence:
                evidence.append(ev)
        hops_text = "; ".join(f"{format_amount(row['amount'], row['currency'])} {span([row])}" for row in path_rows)
        received, tainted = _totals(figures, "received"), _totals(figures, "tainted")
        moved = "received" if not result.backward else "sent"
        share = (
            ""
            if not tainted
            else f" Under the {result.model} model {format_totals(tainted)} of it "
            + ("is tainted." if not result.backward else f"is counted by the model as feeding the money that reached {result.origin}.")
        )
        changes = [
            f"{a.dst if a.dst == b.src else b.src} ({a.currency or 'no currency'} in, {b.currency or 'no currency'} out)"
            for a, b in zip(flow, flow[1:])  # noqa: B905, RUF007
            if a.currency != b.currency
        ]
        crossing = (
            f" The path changes currency at {', '.join(changes)}: the records show no exchange, only the order in time." if changes else ""
        )
        if basis:
            crossing += (
                f" The path crosses between ends taken as one holder's "
                f"({', '.join(sorted({e['record'] for e in basis}))}); that basis is cited."
            )
        if order_note(r.hops):
            crossing += f" The {order_note(r.hops)}."
        summary = (
            f"{route}, in {plural(len(flow), 'transfer')}: {hops_text}.{crossing} {_scope(result)} {who} {moved} "
            f"{format_totals(received)} in {plural(len(inflow), 'transfer')} {span(inflow)}, all cited."
            f"{share}{conv_text}"
        )
        title = (
            f"Money from {result.origin} reached {who} in {plural(len(flow), 'transfer')}"
            if not result.backward
            else f"Money in {result.origin} came from {who} over {plural(len(flow), 'transfer')}"
        )
        out.append(
            Finding(
                kind="money-trace",
                subject=r.account,
                detector=detector,
                detector_version=VERSION,
                title=title,
                summary=summary,
                score=None,
                evidence=evidence + basis + rate_ev,
                attrs={
                    **base,
                    "account": written,
                    "hops": len(flow),
                    "who": who,
                    "path": route,
                    "figures": figures,
                    "order_assumed": [i for i, h in enumerate(r.hops, 1) if h.order_assumed],
                    "when": span(path_rows),
                },
            )
        )
    for holder, group in sorted(unnamed.items()):
        out.append(_unnamed_finding(result, holder, group, cited, names, detector, base, by_tx, rates))
    left = _left_out_finding(result, store, detector, base)
    return detector, out + ([left] if left else [])


def _left_out_finding(result: TraceResult, store: CaseStore, detector: str, base: dict):
    """The transfers of the traced accounts that the trace could not or did not follow (failed, no time, no
    amount), each cited, counted and totalled per currency by reason, so the reader knows what is not in it."""
    from ..findings import Finding
    from .flows import left_out_sql

    nodes = {result.origin} | {r.account for r in result.reached if not is_unknown(r.account)}
    ends = sorted(nodes | {e for e, n in result.links.items() if n in nodes} | {result.links.get(result.origin, result.origin)})
    rows = store.rows(
        f"""
        SELECT id, locator, exhibit_sha256, amount, currency, reason FROM (
          SELECT *, {left_out_sql(result.flows.include_failed)} AS reason FROM transactions
          WHERE from_account IN (SELECT unnest(?)) OR to_account IN (SELECT unnest(?)))
        WHERE reason IS NOT NULL ORDER BY reason, exhibit_sha256, locator""",
        [ends, ends],
    )
    if not rows:
        return None
    figures, parts = [], []
    for reason in dict.fromkeys(r["reason"] for r in rows):
        these = [r for r in rows if r["reason"] == reason]
        figs = _money_figures(reason, [r for r in these if r["amount"] is not None])
        figures += figs
        parts.append(f"{len(these)} {reason}" + (f", {format_totals(_totals(figs, reason))}" if figs else ""))
    who = "its" if len(ends) == 1 else "the traced accounts'"
    return Finding(
        kind="money-trace",
        subject="left-out",
        detector=detector,
        detector_version=VERSION,
        title=f"Transfers of {result.origin} and {who} counterparties the trace did not follow: {len(rows)}",
        summary=(
            "Among the transfers to or from the accounts this trace reached, these were not followed "
            "and are in no other figure of the trace: "
            + "; ".join(parts)
            + ". Each is cited."
            + ("" if result.flows.include_failed else " Failed transfers can be followed on request (trace --include-failed).")
        ),
        score=None,
        evidence=[_evidence(r) for r in rows],
        attrs={**base, "who": "transfers not followed", "grouped": "left out", "figures": figures},
    )


def _unnamed_finding(
    result: TraceResult, holder: str, group: list[Reached], cited: dict, names: dict, detector: str, base: dict, by_tx: dict, rates
):
    """One finding for all the transfers between `holder` and ends its records do not name, by channel."""
    from ..findings import Finding

    rows = sorted(
        (cited[int(e)] for r in group for e in r.inflow if int(e) in cited), key=lambda x: (x["ts_utc"] is None, x["ts_utc"], x["id"])
    )
    words = CAME if result.backward else SPENT
    by_channel: dict = {}
    for row in rows:
        by_channel.setdefault(row["channel"] if row["channel"] in words else None, []).append(row)
    figures, parts = [], []
    for ch in sorted(by_channel, key=lambda c: list(words).index(c)):
        rs = by_channel[ch]
        figs = _money_figures(words[ch], rs)
        figures += figs
        narr = defaultdict(int)
        for x in rs:
            narr[(x["description"] or "no narration").strip()] += 1
        said = ", ".join(f"{d} ×{n}" if n > 1 else d for d, n in sorted(narr.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
        parts.append(f"{words[ch]}: {plural(len(rs), 'transfer')}, {format_totals(_totals(figs, words[ch]))} ({said})")
    figures += _money_figures("in all", rows)
    pseudo = Reached(
        holder,
        [],
        {},
        {},
        np.array([e for r in group for e in r.inflow.tolist()], dtype=np.int64),
        None
        if result.model != "poison"
        else np.array([e for r in group for e in (r.tainted_in if r.tainted_in is not None else []).tolist()], dtype=np.int64),
    )
    for r in group:
        for c, v in r.tainted.items():
            pseudo.tainted[c] = pseudo.tainted.get(c, Decimal(0)) + v
    figures += _taint_figures(result, pseudo, cited)
    conv, rate_ev, conv_text = _converted([x for x in figures if x["name"] == "in all"], by_tx, rates)
    figures += conv
    hop = group[0].hops[-1]
    who = party(holder, names.get((hop.tx_id, "from" if not result.backward else "to")))
    tainted = _totals(figures, "tainted")
    reach = "" if holder == result.origin else f" ({who} was reached from {result.origin}: see its own finding)"
    if result.backward:
        title = f"Money into {who} from sources its records do not name: {plural(len(rows), 'credit')}"
        lead = f"{who} received from sources its records do not name{reach}"
    else:
        title = f"Spending and withdrawals from {who}: {plural(len(rows), 'payment')} to payees its records do not name"
        lead = f"{who} paid out to payees its records do not name{reach}"
    share = f" Under the {result.model} model {format_totals(tainted)} of it is tainted." if tainted and not result.backward else ""
    summary = (
        f"{lead}, {span(rows)}: "
        + "; ".join(parts)
        + f". In all {format_totals(_totals(figures, 'in all'))}, every transfer cited.{share}{conv_text}"
    )
    return Finding(
        kind="money-trace",
        subject=f"unnamed:{holder}",
        detector=detector,
        detector_version=VERSION,
        title=title,
        summary=summary,
        score=None,
        evidence=[_evidence(x) for x in rows] + rate_ev,
        attrs={
            **base,
            "account": holder,
            "who": f"payees {who}'s records do not name" if not result.backward else f"sources {who}'s records do not name",
            "grouped": "unnamed ends by channel",
            "figures": figures,
            "when": span(rows),
        },
    )


def examiner_link_basis(links: dict[str, str], actor: str, source: str) -> dict[str, list[dict]]:
    """The evidence of links an examiner stated (`--link A=B`): the statement itself, cited at both ends."""
    out: dict[str, list[dict]] = {}
    for a, b in links.items():
        ev = {
            "table": "examiner-decision",
            "record": f"link {a} = {b}",
            "locator": source,
            "actor": actor,
            "note": "the examiner stated that both ends are one holder's",
        }
        out.setdefault(a, []).append(ev)
        out.setdefault(b, []).append(ev)
    return out


def table_rows(findings) -> list[tuple[str, ...]]:
    """The trace's findings as table rows (reached, transfers, path with amounts and when, received, tainted):
    every amount with its currency, sums per currency."""
    out = []
    for f in findings:
        figs = f.attrs["figures"]
        path = [x for x in figs if x["name"].endswith("of the path")]
        pick = lambda name: format_totals({x["currency"]: Decimal(x["amount"]) for x in figs if x["name"] == name})  # noqa: B023, E731
        amounts = ", ".join(format_amount(Decimal(x["amount"]), x["currency"]) for x in path)
        route = f"{f.attrs['path']}\n{amounts}, {f.attrs.get('when', '')}" if path else f"{f.attrs.get('when', '')}"
        out.append(
            (
                f.attrs.get("who", f.subject),
                str(f.attrs.get("hops", len(f.evidence))),
                route,
                pick("received") if path else pick("in all"),
                pick("tainted"),
            )
        )
    return out
