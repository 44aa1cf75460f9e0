"""Laundering typologies, detected set-wise over the case's transactions (DuckDB windows; cycles by a
bounded search over time-sorted arrays).

Each detector returns findings whose evidence is the exact transfers (ids, locators, exhibits) that
make the pattern, in time order; every figure in a finding is the sum, per currency, of the transfers
it cites. Thresholds are parameters (`Settings`), stated in every finding. The same case gives the
same findings, byte for byte: every choice between equals is broken by time, then record id.

Transfers that cannot take part are left out and counted in every finding (`attrs.skipped`): failed
or reverted ones (`status = 'failed'`, unless `include_failed`), those without a UTC time, without
an amount, or without both ends (structuring alone uses deposits that name no sender).

- structuring: several deposits just under the reporting threshold (LKR 1,000,000 under the
  FTRA No. 6 of 2006) into one account within a few days;
- fan-in / fan-out: one account receiving from (sending to) many distinct accounts in a window;
- cycle (round-tripping): money leaving an account comes back to it through 1 to `cycle_max_length`-1
  others within the window, amounts within a band of the first; each finding says whether the
  transfers run in time order (the same money going round) or not (`cycle_order='time'` keeps only those);
- scatter-gather: one source pays many intermediaries that each pass it on to one destination;
- gather-scatter: many pay one hub, which then pays many;
- pass-through (mule): money in, and nearly all of it out again within hours, repeatedly;
- bipartite: several accounts each paying the same set of accounts;
  stack: bipartite layers chained, the receivers of one being the payers of the next.

Default thresholds were chosen on a labelled AMLSim-shaped ledger (benchmarks/typology_eval.py,
tuning seed and size) and checked on another seed and size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import Decimal

import numpy as np

from ..amounts import format_amount, format_totals, sum_by_currency
from ..findings import Finding, setting, sum_figures
from ..ranges import flat_ranges
from ..store import TIME_COLUMNS, CaseStore
from ..times import is_date_only, show_row
from .channels import channel_sql
from .trace import span

VERSION = "2.0"
_X = "typology_transfers"  # the transfers the detectors use, as a temporary table


@dataclass
class Settings:
    threshold: Decimal = Decimal(1_000_000)  # reporting threshold, in `threshold_currency`
    threshold_currency: str = "LKR"
    below: Decimal = Decimal("0.10")  # "just under": within 10 % below the threshold
    structuring_days: int = 7
    structuring_count: int = 3
    # None: chosen by the data. With the new-counterparty filter (histories long enough), 4 counterparties
    # within 10 days and gather-scatters of 3 + 3, chosen on the AMLSim tuning run (its fan-ins have 4-9
    # senders over 5-20 days); without it (shorter data), 5 within 7 days and 5 + 5, which keep ordinary
    # hubs (shops, payroll) of the project's labelled ledger out. A number given is used as it is.
    fan_days: int | None = None
    fan_count: int | None = None
    scatter_count: int = 3  # intermediaries of a scatter-gather
    gather_count: int | None = None  # senders and receivers of a gather-scatter, each
    cycle_days: int = 20
    cycle_min_length: int = 3  # transfers; 2 would be every loan and its repayment
    cycle_max_length: int = 10  # AMLSim cycles have 5-10 members
    cycle_order: str = "any"  # any | time: 'time' keeps only cycles whose transfers run in time order
    cycle_min_return: Decimal = Decimal("0.5")  # every transfer of the cycle within [x0.5, x2] of the first
    cycle_budget: int = 20_000_000  # paths held per search level; beyond it the findings say the search was cut short
    pass_hours: int = 48
    pass_min_ratio: Decimal = Decimal("0.8")  # at least 80 % of what came in goes out again
    pass_count: int = 2
    bipartite_payers: int = 2
    bipartite_receivers: int = 3
    # >0: fan, cycle, scatter/gather and bipartite patterns count only transfers to or from a new counterparty (none
    # between the two, that way, in that many days before); applied when the data span at least twice that
    fresh_days: int = 180
    include_failed: bool = False

    def __post_init__(self):
        if self.cycle_order not in ("any", "time"):
            raise ValueError(f"cycle_order must be 'any' or 'time', not {self.cycle_order!r}")
        if not 2 <= self.cycle_min_length <= self.cycle_max_length <= 12:
            raise ValueError("cycle lengths must satisfy 2 <= min <= max <= 12")
        for name in (
            "structuring_days",
            "structuring_count",
            "scatter_count",
            "cycle_days",
            "pass_hours",
            "pass_count",
            "bipartite_payers",
            "bipartite_receivers",
        ):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("fan_days", "fan_count", "gather_count"):
            if getattr(self, name) is not None and int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")


def skipped(store: CaseStore, s: Settings) -> dict[str, int]:
    """What the detectors leave out, by reason (a transfer counts once, under its first reason)."""
    row = store.con.execute(
        """
        SELECT count(*) FILTER (WHERE status = 'failed' AND NOT ?),
               count(*) FILTER (WHERE (status IS DISTINCT FROM 'failed' OR ?) AND ts_utc IS NULL),
               count(*) FILTER (WHERE (status IS DISTINCT FROM 'failed' OR ?) AND ts_utc IS NOT NULL AND amount IS NULL),
               count(*) FILTER (WHERE (status IS DISTINCT FROM 'failed' OR ?) AND ts_utc IS NOT NULL AND amount IS NOT NULL
                                AND (from_account IS NULL OR to_account IS NULL))
        FROM transactions""",
        [s.include_failed] * 4,
    ).fetchone()
    return {
        k: int(v)
        for k, v in zip(("failed", "without a time", "without an amount", "with one end only (used by structuring alone)"), row)  # noqa: B905
    }


def detect(store: CaseStore, s: Settings | None = None, only: tuple[str, ...] | None = None) -> list[Finding]:
    """Every detector's findings (or only those of the detectors named, e.g. ("fan-in", "cycle"))."""
    s = s or Settings()
    skip = skipped(store, s)
    _prepare(store, s)
    s = _fresh_applicable(store, s)
    try:
        out: list[Finding] = []
        for name, fn in DETECTORS.items():
            if only is None or name in only:
                out += fn(store, s, skip)
    finally:
        store.con.execute(f"DROP TABLE IF EXISTS {_X}")
    return out


def _fresh_applicable(store: CaseStore, s: Settings) -> Settings:
    """The new-counterparty filter needs data reaching back `fresh_days` before what it judges: on a
    case spanning less than twice that, it is not applied (and the findings say so)."""
    span = store.con.execute(f"SELECT date_diff('day', min(t), max(t)) FROM {_X}").fetchone()[0] or 0
    note = None
    if s.fresh_days and span < 2 * s.fresh_days:
        note = f"not applied: the transfers span {span} days, under twice the {s.fresh_days}-day look-back"
        s = replace(s, fresh_days=0)
    with_history = bool(s.fresh_days)
    s = replace(
        s,
        fan_days=s.fan_days or (10 if with_history else 7),
        fan_count=s.fan_count or (4 if with_history else 5),
        gather_count=s.gather_count or (3 if with_history else 5),
    )
    s.fresh_note = note
    return s


def _prepare(store: CaseStore, s: Settings) -> None:
    store.con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_X} AS
        SELECT id, from_account AS a, to_account AS b, ts_utc AS t, amount, currency, description, rail,
               lag(ts_utc) OVER (PARTITION BY from_account, to_account ORDER BY ts_utc, id) AS prev_t
        FROM transactions
        WHERE ts_utc IS NOT NULL AND amount IS NOT NULL AND (status IS DISTINCT FROM 'failed' OR ?)
              AND (from_account IS NOT NULL OR to_account IS NOT NULL) AND from_account IS DISTINCT FROM to_account""",
        [s.include_failed],
    )


def _pairs(s: Settings) -> str:
    """Transfers with both ends; with `fresh_days`, only those between accounts that had no transfer
    in that direction in the `fresh_days` before (a new counterparty)."""
    # a first transfer is new only where the case's data reach back that far: before, it cannot be told
    fresh = (
        (
            f" AND (t > prev_t + INTERVAL {int(s.fresh_days)} DAY OR (prev_t IS NULL AND "
            f"t >= (SELECT min(t) FROM {_X}) + INTERVAL {int(s.fresh_days)} DAY))"
        )
        if s.fresh_days
        else ""
    )
    return f"(SELECT * FROM {_X} WHERE a IS NOT NULL AND b IS NOT NULL{fresh})"


# what each numeric threshold counts (its figure's unit); amounts are (amount, currency) pairs
UNITS = {
    **dict.fromkeys(("days", "days_in", "days_out", "new_counterparty_days"), "days"),
    "hours": "hours",
    **dict.fromkeys(("min_counterparties", "min_intermediaries", "min_senders", "min_receivers", "min_payers"), "accounts"),
    **dict.fromkeys(("min_length", "max_length"), "transfers"),
    **dict.fromkeys(("band_from", "band_to"), "times the first"),
    "min_deposits": "deposits",
    "min_events": "times",
    "min_ratio_out": "of what came in",
}


def _settings(thresholds: dict) -> tuple[dict, list[dict]]:
    """The thresholds as the finding states them (amounts written with their currency), and as figures
    (rule "setting"): every amount, and every number with its unit; words (an order, a note) are no figures."""
    shown, figures = {}, []
    for name, v in thresholds.items():
        if isinstance(v, tuple):
            shown[name] = format_amount(*v)
            figures.append(setting(name, v[0], v[1]))
            continue
        shown[name] = v
        if name in UNITS and not isinstance(v, bool) and isinstance(v, (int, str)) and str(v).replace(".", "", 1).isdigit():
            figures.append(setting(name, v, unit=UNITS[name]))
    return shown, figures


def _findings(store: CaseStore, kind: str, rows: list[tuple], s: Settings, skip: dict, thresholds: dict, title, summary) -> list[Finding]:
    """rows: (subject, [transaction ids], metrics). Evidence is every cited transfer in time order (then id).
    The figures (attrs["figures"]) are what the prose prints: per currency, the sum of exactly the cited
    transfers ("total"; or, where metrics name `parts` {name: [ids]}, of each part, as pass-through's in and
    out), and the numeric thresholds (`_settings`). The time span comes from the same transfers."""
    ids = sorted({i for _, tx, _ in rows for i in tx})
    info = {}
    if ids:  # locator, exhibit, ts_utc, amount, currency, and the time as the record states it (a date stays a date)
        info = {
            r["id"]: (r["locator"], r["exhibit_sha256"], r["ts_utc"], r["amount"], r["currency"], r)
            for r in store.rows(
                f"SELECT id, locator, exhibit_sha256, amount, currency, seq, {', '.join(TIME_COLUMNS)} FROM transactions "
                "WHERE id IN (SELECT unnest(?))",
                [ids],
            )
        }
    if getattr(s, "fresh_note", None) and kind not in ("structuring", "pass-through"):
        thresholds = {**thresholds, "new_counterparty_days": s.fresh_note}
    if s.fresh_days and kind not in ("structuring", "pass-through"):
        thresholds = {**thresholds, "new_counterparty_days": s.fresh_days}
        note = (
            f" Only transfers between accounts with no transfer in that direction in the {s.fresh_days} days before "
            "(new counterparties; the case's data must reach that far back) were counted."
        )
    else:
        note = ""
    thresholds, settings = _settings(thresholds)
    out = []
    for subject, tx, metrics in rows:
        tx = sorted(set(tx), key=lambda i: (info[i][2], i))
        metrics = dict(metrics)
        parts = metrics.pop("parts", None) or {"total": tx}
        figures = [fig for name, part in parts.items() for fig in sum_figures(name, ((i, *info[i][3:5]) for i in sorted(set(part))))]
        totals = sum_by_currency((info[i][3], info[i][4]) for i in tx)
        m = {
            **metrics,
            **{name: format_totals(_totals(figures, name)) for name in parts},
            "totals": format_totals(totals),
            "first": show_row(info[tx[0]][5]),
            "last": show_row(info[tx[-1]][5]),
            "when": span([info[i][5] for i in tx]),
            "dates_only": any(is_date_only(info[i][5]["ts_precision"]) for i in tx),
        }
        out.append(
            Finding(
                kind=kind,
                subject=str(subject),
                title=title(subject, m),
                summary=summary(subject, m) + note,
                detector="typologies",
                detector_version=VERSION,
                score=float(metrics.get("score", len(tx))),
                evidence=[{"table": "transactions", "record": i, "locator": info[i][0], "exhibit_sha256": info[i][1]} for i in tx],
                attrs={
                    **{k: v if isinstance(v, (bool, int, list)) else str(v) for k, v in metrics.items()},
                    "transfers": len(tx),
                    "totals": {(c or "(currency not stated)"): f"{v.normalize():f}" for c, v in totals.items()},
                    "figures": figures + settings,
                    "first": m["first"],
                    "last": m["last"],
                    "thresholds": thresholds,
                    "skipped": skip,
                    "failed_included": s.include_failed,
                    "settings": {k: str(v) for k, v in asdict(s).items()},
                },
            )
        )
    return out


def _totals(figures: list[dict], name: str) -> dict[str | None, Decimal]:
    return {f["currency"]: Decimal(f["amount"]) for f in figures if f["name"] == name}


def _window_counts(source: str, hub: str, counted: str, days: int) -> str:
    """The CTE `w`: for each transfer of `source`, `counted` (an aggregate) over its `hub` account's transfers
    from it to `days` later, as n."""
    return f"""w AS (SELECT {hub} AS hub, id, t, {counted} OVER (PARTITION BY {hub} ORDER BY t
                     RANGE BETWEEN CURRENT ROW AND INTERVAL {int(days)} DAY FOLLOWING) AS n FROM {source})"""


# the CTE `best`: each account's window (from `w`) with the most, at least the parameter; of equals the earliest, then by id
_DENSEST = """best AS (SELECT hub, t AS t0, n FROM w WHERE n >= ?
                 QUALIFY row_number() OVER (PARTITION BY hub ORDER BY n DESC, t, id) = 1)"""


def _within(t: str, t0: str, days: int) -> str:
    """SQL: time `t` is in the window of `days` from `t0`, both ends included."""
    return f"{t} >= {t0} AND {t} <= {t0} + INTERVAL {int(days)} DAY"


def _span(m: dict) -> str:
    """When the cited transfers were, as their records state it (trace.span: a date stays a date)."""
    return m["when"]


def structuring(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    lo = s.threshold * (1 - s.below)
    days = int(s.structuring_days)
    rows = store.con.execute(
        f"""
        WITH d AS (SELECT id, b AS account, t, {channel_sql()} = 'cash' AS cash FROM {_X}
                   WHERE b IS NOT NULL AND currency = ? AND amount >= ? AND amount < ?),  -- cash deposits name no sender
        {_window_counts("d", "account", "count(*)", days)}, {_DENSEST}
        SELECT best.hub, list(d.id ORDER BY d.t, d.id), count(*), count(*) FILTER (WHERE d.cash)
        FROM best JOIN d ON d.account = best.hub AND {_within("d.t", "best.t0", days)}
        GROUP BY best.hub ORDER BY best.hub""",
        [s.threshold_currency, lo, s.threshold, s.structuring_count],
    ).fetchall()
    th = {
        "threshold": (s.threshold, s.threshold_currency),
        "just_under_from": (lo, s.threshold_currency),
        "days": days,
        "min_deposits": s.structuring_count,
    }
    return _findings(
        store,
        "structuring",
        [(a, ids, {"deposits": n, "cash": c, "score": n}) for a, ids, n, c in rows],
        s,
        skip,
        th,
        lambda a, m: (
            f"Possible structuring into {a}: {m['deposits']} deposits just under "
            f"{format_amount(s.threshold, s.threshold_currency)} within {days} days"
        ),
        lambda a, m: (
            f"{m['deposits']} deposits from {format_amount(lo, s.threshold_currency)} up to (not including) "
            f"{format_amount(s.threshold, s.threshold_currency)} ({m['cash']} of them named as cash), {m['totals']} in all, reached "
            f"{a} {_span(m)} (threshold: {s.structuring_count} or more within {days} days)."
        ),
    )


def _fan(store: CaseStore, s: Settings, skip: dict, inward: bool) -> list[Finding]:
    hub, other = ("b", "a") if inward else ("a", "b")
    days = int(s.fan_days)
    rows = store.con.execute(
        f"""
        WITH x AS {_pairs(s)},
        {_window_counts("x", hub, f"count(DISTINCT {other})", days)}, {_DENSEST}
        SELECT best.hub, best.n, list(x.id ORDER BY x.t, x.id)
        FROM best JOIN x ON x.{hub} = best.hub AND {_within("x.t", "best.t0", days)}
        GROUP BY best.hub, best.n ORDER BY best.hub""",
        [s.fan_count],
    ).fetchall()
    kind, way = ("fan-in", "from") if inward else ("fan-out", "to")
    th = {"days": days, "min_counterparties": s.fan_count}
    return _findings(
        store,
        kind,
        [(h, ids, {"counterparties": n, "score": n}) for h, n, ids in rows],
        s,
        skip,
        th,
        lambda h, m: (
            f"{kind.capitalize()}: {h} {'received from' if inward else 'sent to'} {m['counterparties']} accounts within {days} days"
        ),
        lambda h, m: (
            f"{h} {'received' if inward else 'sent'} {m['totals']} {way} {m['counterparties']} "
            f"distinct accounts {_span(m)} (threshold: {s.fan_count} or more within {days} days)."
        ),
    )


def fan_in(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    return _fan(store, s, skip, inward=True)


def fan_out(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    return _fan(store, s, skip, inward=False)


def cycles(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    """A → … → A through cycle_min_length to cycle_max_length transfers within cycle_days, every amount
    in the same currency and within [r, 1/r] of the first (r = cycle_min_return). Each cycle is found
    once, from its earliest transfer; the same ring of accounts found again is counted, not repeated."""
    tab = store.con.execute(
        f"SELECT id, a, b, epoch(t)::BIGINT AS t, amount::DOUBLE AS v, coalesce(currency, '') AS c FROM {_pairs(s)} ORDER BY t, id"
    ).fetchnumpy()
    closed, cut = _rings(tab, s)
    names = closed.pop("names")
    found: dict[tuple, list] = {}
    for path, ring in zip(closed["edges"], closed["accounts"]):  # in start order: the first instance is kept  # noqa: B905
        k = ring.index(min(ring))
        key = tuple(ring[k:] + ring[:k])
        found.setdefault(key, [path, 0])[1] += 1
    t, ids = tab["t"], tab["id"]
    rows = []
    for key in sorted(found, key=lambda k: [names[x] for x in k]):
        path, times = found[key]
        ordered = all(t[x] <= t[y] for x, y in zip(path, path[1:]))  # noqa: B905, RUF007
        subject = " → ".join(str(names[x]) for x in key + key[:1])
        rows.append(
            (
                subject,
                [str(ids[x]) for x in path],
                {"length": len(path), "in_time_order": ordered, "instances": times, "search_cut_short": cut, "score": len(path)},
            )
        )
    r = float(s.cycle_min_return)
    th = {
        "days": s.cycle_days,
        "min_length": s.cycle_min_length,
        "max_length": s.cycle_max_length,
        "order": s.cycle_order,
        "amount_band": f"each transfer between {r:g} and {1 / r:g} times the first, same currency" if r > 0 else "none",
        **({"band_from": f"{r:g}", "band_to": f"{1 / r:g}"} if r > 0 else {}),
    }
    return _findings(
        store,
        "cycle",
        rows,
        s,
        skip,
        th,
        lambda k, m: f"Round-trip through {m['length']} transfers: {k}",
        lambda k, m: (
            f"Money went round {k} in {m['length']} transfers {_span(m)}, "
            + (
                (
                    "each made after the previous one"
                    if not m["dates_only"]
                    else "each dated on or after the previous one (some records give dates only: the order within a day is not stated)"
                )
                if m["in_time_order"] is True
                else "not in time order (the order does not show the same money going round)"
            )
            + f"; the cited transfers total {m['totals']} (thresholds: {s.cycle_min_length}-{s.cycle_max_length} "
            f"transfers within {s.cycle_days} days, {th['amount_band']}"
            + ("; the search was cut short at its size limit" if cut else "")
            + ")."
        ),
    )


def _rings(tab: dict, s: Settings) -> tuple[dict, bool]:
    """Simple cycles, searched level by level for all start transfers at once (numpy): a path grows by
    the transfers out of its last account that come after its start (any order) or after its last
    transfer (time order), within the window and the amount band. Of the paths from one start that
    reach one account at one length, the first in (start, path) order goes on, so the result does
    not depend on how the store laid the rows out (and a ring reachable only through a later path
    from the same start to the same account is not searched)."""
    n = len(tab["id"])
    empty = {"edges": [], "accounts": [], "names": []}
    if n == 0:
        return empty, False
    names, code = np.unique(np.concatenate([tab["a"].astype(str), tab["b"].astype(str)]), return_inverse=True)
    src, dst = code[:n].astype(np.int64), code[n:].astype(np.int64)
    t = tab["t"] - tab["t"].min()
    v, cur = tab["v"], np.unique(tab["c"].astype(str), return_inverse=True)[1]
    pos = np.arange(n, dtype=np.int64)
    by_src = np.lexsort((pos, src))  # each account's out-transfers in (time, id) order
    key_pos = src[by_src] * (n + 1) + by_src
    key_time = (src[by_src] << 34) + t[by_src]
    window, r, timed = int(s.cycle_days) * 86400, float(s.cycle_min_return), s.cycle_order == "time"
    start = pos.copy()  # frontier: start transfer, last transfer, path accounts and transfers
    last = pos.copy()
    acc = [src, dst]
    edges = [pos]
    closed_e, closed_a = [], []
    cut = False
    for depth in range(2, s.cycle_max_length + 1):
        node = dst[last]
        lo = np.searchsorted(key_pos, node * (n + 1) + (last if timed else start), side="right")
        hi = np.searchsorted(key_time, (node << 34) + t[start] + window, side="right")
        counts = np.maximum(hi - lo, 0)
        total = int(counts.sum())
        if total == 0:
            break
        if total > s.cycle_budget:  # bounded: keep the first rows, in start order, and say so
            keep = np.searchsorted(np.cumsum(counts), s.cycle_budget, side="right")
            counts[keep:] = 0
            total, cut = int(counts.sum()), True
        row = np.repeat(np.arange(len(start)), counts)
        q = by_src[flat_ranges(lo, counts)]
        p0 = start[row]
        ok = (cur[q] == cur[p0]) & (v[q] >= v[p0] * r) & ((v[q] <= v[p0] / r) if r > 0 else True)
        row, q, p0 = row[ok], q[ok], p0[ok]
        w = dst[q]
        closing = w == src[p0]
        if depth >= s.cycle_min_length and closing.any():
            rc, qc = row[closing], q[closing]
            e = np.column_stack([x[rc] for x in edges] + [qc])
            a = np.column_stack([x[rc] for x in acc[:-1]] + [acc[-1][rc]])
            closed_e.append((p0[closing], e))
            closed_a.append(a)
        go = ~closing
        for x in acc:
            go &= x[row] != w
        row, q, p0, w = row[go], q[go], p0[go], w[go]
        # paths from one start that reach the same account: the first (in path order) is followed on,
        # which keeps the search linear in accounts rather than exponential in paths
        first = np.sort(np.unique(p0 * len(names) + w, return_index=True)[1])
        row, q, p0, w = row[first], q[first], p0[first], w[first]
        if depth == s.cycle_max_length or len(row) == 0:
            break
        acc = [x[row] for x in acc] + [w]
        edges = [x[row] for x in edges] + [q]
        start, last = p0, q
    out_e, out_a = [], []
    rows = []
    for (p0, e), a in zip(closed_e, closed_a):  # noqa: B905
        for i in range(len(p0)):
            rows.append((int(p0[i]), e[i].tolist(), a[i].tolist()))
    rows.sort(key=lambda x: (x[0], x[1]))
    for _, e, a in rows:
        out_e.append(e)
        out_a.append(a[: len(e)])
    return {"edges": out_e, "accounts": out_a, "names": names}, cut


def scatter_gather(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    days = int(s.fan_days)
    rows = store.con.execute(
        f"""
        WITH x AS {_pairs(s)},
        legs AS (SELECT x1.a AS src, x2.b AS dst, x1.b AS mid, x1.id AS i1, x2.id AS i2
                 FROM x x1 JOIN x x2 ON x2.a = x1.b AND x2.t >= x1.t AND x2.t <= x1.t + INTERVAL {days} DAY
                                      AND x2.b <> x1.a AND x1.currency IS NOT DISTINCT FROM x2.currency)
        SELECT src, dst, list(DISTINCT i1 ORDER BY i1) || list(DISTINCT i2 ORDER BY i2), count(DISTINCT mid) AS n
        FROM legs GROUP BY src, dst HAVING count(DISTINCT mid) >= ? ORDER BY src, dst""",
        [s.scatter_count],
    ).fetchall()
    th = {"days": days, "min_intermediaries": s.scatter_count}
    return _findings(
        store,
        "scatter-gather",
        [(f"{a} → {b}", ids, {"intermediaries": n, "score": n}) for a, b, ids, n in rows],
        s,
        skip,
        th,
        lambda k, m: f"Scatter-gather: {k} through {m['intermediaries']} intermediaries",
        lambda k, m: (
            f"{k.split(' → ')[0]} paid {m['intermediaries']} accounts which each passed money on to "
            f"{k.split(' → ')[1]} within {days} days, {_span(m)}; {m['totals']} in the cited transfers "
            f"(threshold: {s.scatter_count} or more intermediaries)."
        ),
    )


def gather_scatter(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    days, k = int(s.fan_days), s.gather_count
    rows = store.con.execute(
        f"""
        WITH x AS {_pairs(s)},
        {_window_counts("x", "b", "count(DISTINCT a)", days)},
        cand AS (SELECT w.hub, w.id AS id0, w.t AS t0, w.n AS n_in, count(DISTINCT o.b) AS n_out
                 FROM w JOIN x o ON o.a = w.hub AND o.t > w.t AND o.t <= w.t + INTERVAL {2 * days} DAY
                 WHERE w.n >= ? GROUP BY w.hub, w.id, w.t, w.n HAVING count(DISTINCT o.b) >= ?),
        best AS (SELECT * FROM cand QUALIFY row_number() OVER (PARTITION BY hub ORDER BY n_in + n_out DESC, t0, id0) = 1)
        SELECT best.hub, best.n_in, best.n_out,
               (SELECT list(i.id ORDER BY i.t, i.id) FROM x i WHERE i.b = best.hub AND {_within("i.t", "best.t0", days)})
            || (SELECT list(o.id ORDER BY o.t, o.id) FROM x o WHERE o.a = best.hub AND o.t > best.t0
                       AND o.t <= best.t0 + INTERVAL {2 * days} DAY)
        FROM best ORDER BY best.hub""",
        [k, k],
    ).fetchall()
    th = {"days_in": days, "days_out": 2 * days, "min_senders": k, "min_receivers": k}
    return _findings(
        store,
        "gather-scatter",
        [(h, ids, {"senders": a, "receivers": b, "score": a + b}) for h, a, b, ids in rows],
        s,
        skip,
        th,
        lambda h, m: f"Gather-scatter through {h}: {m['senders']} senders, then {m['receivers']} receivers",
        lambda h, m: (
            f"{h} received from {m['senders']} accounts within {days} days and paid {m['receivers']} "
            f"accounts within {2 * days} days of the first, {_span(m)}; {m['totals']} in the cited "
            f"transfers (thresholds: {k} or more each)."
        ),
    )


def pass_through(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    hours = int(s.pass_hours)
    rows = store.con.execute(
        f"""
        WITH legs AS (SELECT b AS acct, currency, t, id, amount AS v_in, NULL::DECIMAL(38, 18) AS v_out, NULL::VARCHAR AS out_id
                      FROM {_X} WHERE b IS NOT NULL AND amount > 0
                      UNION ALL
                      SELECT a, currency, t, id, NULL, amount, id FROM {_X} WHERE a IS NOT NULL),
        -- what left each account, in the same currency, from each arrival to `hours` later (a window, not a join)
        w AS (SELECT *, sum(v_out) OVER win AS out_sum, list(out_id) OVER win AS out_ids FROM legs
              WINDOW win AS (PARTITION BY acct, currency ORDER BY t RANGE BETWEEN CURRENT ROW AND INTERVAL {hours} HOUR FOLLOWING)),
        ev AS (SELECT acct, id AS in_id, list_filter(out_ids, lambda x: x IS NOT NULL) AS out_ids FROM w
               WHERE v_in IS NOT NULL AND out_sum >= v_in * ? AND out_sum <= v_in),
        hit AS (SELECT acct, count(*) AS n FROM ev GROUP BY acct HAVING count(*) >= ?),
        -- the figures are sums of the distinct transfers cited: one out-transfer can follow two in-transfers
        cited AS (SELECT DISTINCT acct, in_id AS id, 'in' AS side FROM ev SEMI JOIN hit USING (acct)
                  UNION SELECT DISTINCT acct, unnest(out_ids), 'out' FROM ev SEMI JOIN hit USING (acct))
        SELECT c.acct, any_value(hit.n), list(c.id ORDER BY c.id) FILTER (WHERE c.side = 'in'),
               list(c.id ORDER BY c.id) FILTER (WHERE c.side = 'out')
        FROM cited c JOIN hit USING (acct)
        GROUP BY c.acct ORDER BY c.acct""",
        [s.pass_min_ratio, s.pass_count],
    ).fetchall()
    found = [
        (acct, (ins or []) + (outs or []), {"events": n, "score": n, "parts": {"in": ins or [], "out": outs or []}})
        for acct, n, ins, outs in rows
    ]
    th = {"hours": hours, "min_ratio_out": str(s.pass_min_ratio), "min_events": s.pass_count}
    return _findings(
        store,
        "pass-through",
        found,
        s,
        skip,
        th,
        lambda a, m: f"Rapid pass-through (mule pattern): {a}, {m['events']} times",
        lambda a, m: (
            f"{m['events']} times, money reached {a} and at least {s.pass_min_ratio:.0%} of it left "
            f"within {hours} hours, {_span(m)} ({m['in']} in, {m['out']} out in the cited transfers; "
            f"threshold: {s.pass_count} or more times)."
        ),
    )


def bipartite_and_stack(store: CaseStore, s: Settings, skip: dict) -> list[Finding]:
    """Payers grouped by the exact set of accounts they paid within the window after their first payment."""
    days = int(s.fan_days)
    groups = store.con.execute(
        f"""
        WITH x AS {_pairs(s)},
        first AS (SELECT a, min(t) AS t0 FROM x GROUP BY a),
        sets AS (SELECT x.a, list(DISTINCT x.b ORDER BY x.b) AS receivers, list(x.id ORDER BY x.id) AS ids
                 FROM x JOIN first USING (a) WHERE x.t <= first.t0 + INTERVAL {days} DAY GROUP BY x.a)
        SELECT receivers, list(a ORDER BY a) AS payers, flatten(list(ids ORDER BY a)) FROM sets
        WHERE len(receivers) >= ? GROUP BY receivers HAVING count(*) >= ? ORDER BY payers, receivers""",
        [s.bipartite_receivers, s.bipartite_payers],
    ).fetchall()
    layers = [(tuple(r), tuple(p), ids) for r, p, ids in groups]
    by_payers: dict[tuple, tuple] = {}
    for r, p, ids in layers:
        by_payers.setdefault(p, (r, ids))
    rows, in_stack = [], set()
    for receivers, payers, ids in layers:  # a layer whose receivers pay on as a layer: a stack
        nxt = by_payers.get(receivers)
        if nxt is not None:
            in_stack |= {payers, receivers}
            rows.append(
                (
                    "stack",
                    " / ".join([",".join(payers), ",".join(receivers), ",".join(nxt[0])]),
                    ids + nxt[1],
                    {"layers": 3, "score": len(ids) + len(nxt[1])},
                )
            )
    for receivers, payers, ids in layers:
        if payers not in in_stack:
            rows.append(
                (
                    "bipartite",
                    f"{','.join(payers)} → {','.join(receivers)}",
                    ids,
                    {"payers": len(payers), "receivers": len(receivers), "score": len(ids)},
                )
            )
    th = {"days": days, "min_payers": s.bipartite_payers, "min_receivers": s.bipartite_receivers}
    out = []
    for kind in ("bipartite", "stack"):
        out += _findings(
            store,
            kind,
            [(subj, ids, m) for k, subj, ids, m in rows if k == kind],
            s,
            skip,
            th,
            lambda k, m, kind=kind: f"{kind.capitalize()}: {k}",
            lambda k, m, kind=kind: (
                (
                    f"Accounts {k.split(' → ')[0]} each paid every one of {k.split(' → ')[1]}"
                    if kind == "bipartite"
                    else f"Layers {k}: each account of a layer paid every account of the next."
                )
                + f" (within {days} days of their first payment), {_span(m)}; "
                f"{m['totals']} in the cited transfers."
            ),
        )
    return out


DETECTORS = {
    "structuring": structuring,
    "fan-in": fan_in,
    "fan-out": fan_out,
    "cycle": cycles,
    "scatter-gather": scatter_gather,
    "gather-scatter": gather_scatter,
    "pass-through": pass_through,
    "bipartite-stack": bipartite_and_stack,
}
