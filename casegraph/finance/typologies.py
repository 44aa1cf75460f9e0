"""Laundering typologies, detected set-wise with SQL over the case's transactions.

Each detector returns findings whose evidence is the exact transfers (ids, locators, exhibits)
that make the pattern. Thresholds are parameters (`Settings`), recorded with every finding.

- structuring: several deposits just under the reporting threshold (LKR 1,000,000 under the
  FTRA No. 6 of 2006) into one account within a few days;
- fan-in / fan-out: one account receiving from (sending to) many distinct accounts in a window;
- cycle (round-tripping): money leaving an account comes back to it through 2-4 others, in time order;
- scatter-gather: one source pays many intermediaries that each pass it on to one destination;
- gather-scatter: many pay one hub, which then pays many;
- pass-through (mule): money in, and nearly all of it out again within hours, repeatedly;
- bipartite: three or more accounts each paying the same set of three or more accounts;
  stack: bipartite layers chained, the receivers of one being the payers of the next.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from ..store import CaseStore
from .channels import channel_sql
from ..findings import Finding

VERSION = "1.0"
MAX_EVIDENCE = 200  # transfers listed per finding; the count is always complete


@dataclass
class Settings:
    threshold: Decimal = Decimal(1_000_000)  # reporting threshold, in `threshold_currency`
    threshold_currency: str = "LKR"
    below: Decimal = Decimal("0.10")  # "just under": within 10 % below the threshold
    structuring_days: int = 7
    structuring_count: int = 3
    fan_days: int = 7
    fan_count: int = 5
    cycle_days: int = 30
    cycle_min_return: Decimal = Decimal("0.5")  # the returning transfer is at least half the first
    pass_hours: int = 48
    pass_min_ratio: Decimal = Decimal("0.8")  # at least 80 % of what came in goes out again
    pass_count: int = 2


# Transfers with both ends known and a time, as (id, a → b, t, amount, currency).
_T = """(SELECT id, from_account AS a, to_account AS b, ts_utc AS t, amount, currency FROM transactions
         WHERE from_account IS NOT NULL AND to_account IS NOT NULL AND ts_utc IS NOT NULL AND amount IS NOT NULL
               AND from_account <> to_account)"""


def detect(store: CaseStore, s: Settings | None = None) -> list[Finding]:
    s = s or Settings()
    out: list[Finding] = []
    for fn in (structuring, fan_in, fan_out, cycles, scatter_gather, gather_scatter, pass_through, bipartite_and_stack):
        out += fn(store, s)
    return out


def _findings(store: CaseStore, kind: str, rows: list[tuple], s: Settings, title, summary) -> list[Finding]:
    """rows: (subject, [transaction ids], metrics dict). Evidence gets each transfer's locator and exhibit."""
    ids = sorted({i for _, tx, _ in rows for i in tx})
    where = {}
    if ids:
        where = {r[0]: r[1:] for r in store.con.execute(
            "SELECT id, locator, exhibit_sha256, ts_utc FROM transactions WHERE id IN (SELECT unnest(?))", [ids]).fetchall()}
    out = []
    for subject, tx, metrics in rows:
        tx = sorted(set(tx), key=lambda i: (where[i][2], i))
        out.append(Finding(kind=kind, subject=str(subject), title=title(subject, metrics), summary=summary(subject, metrics),
                           detector="typologies", detector_version=VERSION, score=float(metrics.get("score", len(tx))),
                           evidence=[{"table": "transactions", "record": i, "locator": where[i][0],
                                      "exhibit_sha256": where[i][1]} for i in tx[:MAX_EVIDENCE]],
                           attrs={**{k: str(v) for k, v in metrics.items()}, "transfers": len(tx),
                                  "settings": {k: str(v) for k, v in asdict(s).items()}}))
    return out


def structuring(store: CaseStore, s: Settings) -> list[Finding]:
    lo = s.threshold * (1 - s.below)
    rows = store.con.execute(f"""
        WITH d AS (SELECT id, to_account AS account, ts_utc AS t, amount, {channel_sql()} = 'cash' AS cash FROM transactions
                   WHERE to_account IS NOT NULL AND ts_utc IS NOT NULL AND from_account IS DISTINCT FROM to_account
                         AND currency = ? AND amount >= ? AND amount < ?),  -- cash deposits name no sender
        w AS (SELECT d1.account, d1.id AS start, list(d2.id ORDER BY d2.t) AS ids, count(*) AS n, sum(d2.amount) AS total,
                     count(*) FILTER (WHERE d2.cash) AS cash
              FROM d d1 JOIN d d2 ON d2.account = d1.account AND d2.t >= d1.t AND d2.t < d1.t + INTERVAL (?) DAY
              GROUP BY d1.account, d1.id HAVING count(*) >= ?)
        SELECT account, arg_max(ids, n), max(n), arg_max(total, n), arg_max(cash, n) FROM w GROUP BY account ORDER BY account""",
        [s.threshold_currency, lo, s.threshold, s.structuring_days, s.structuring_count]).fetchall()
    return _findings(store, "structuring", [(a, ids, {"deposits": n, "total": t, "cash": c, "score": n})
                                            for a, ids, n, t, c in rows], s,
                     lambda a, m: f"Possible structuring into {a}: {m['deposits']} deposits just under "
                                  f"{s.threshold_currency} {s.threshold:,.0f} within {s.structuring_days} days",
                     lambda a, m: f"{m['deposits']} deposits between {s.threshold_currency} {lo:,.0f} and {s.threshold:,.0f} "
                                  f"(total {m['total']:,.2f}; {m['cash']} of them named as cash) reached {a} within "
                                  f"{s.structuring_days} days.")


def _fan(store: CaseStore, s: Settings, inward: bool) -> list[Finding]:
    hub, other = ("b", "a") if inward else ("a", "b")
    rows = store.con.execute(f"""
        WITH x AS (SELECT * FROM {_T}),
        w AS (SELECT x1.{hub} AS hub, x1.id AS start, list(x2.id) AS ids, count(DISTINCT x2.{other}) AS n, sum(x2.amount) AS total
              FROM x x1 JOIN x x2 ON x2.{hub} = x1.{hub} AND x2.t >= x1.t AND x2.t < x1.t + INTERVAL (?) DAY
              GROUP BY x1.{hub}, x1.id HAVING count(DISTINCT x2.{other}) >= ?)
        SELECT hub, arg_max(ids, n), max(n), arg_max(total, n) FROM w GROUP BY hub ORDER BY hub""",
        [s.fan_days, s.fan_count]).fetchall()
    kind, way = ("fan-in", "from") if inward else ("fan-out", "to")
    return _findings(store, kind, [(h, ids, {"counterparties": n, "total": t, "score": n}) for h, ids, n, t in rows], s,
                     lambda h, m: f"{kind.capitalize()}: {h} {'received from' if inward else 'sent to'} {m['counterparties']} "
                                  f"accounts within {s.fan_days} days",
                     lambda h, m: f"{h} {'received' if inward else 'sent'} {m['total']:,.2f} in total {way} "
                                  f"{m['counterparties']} distinct accounts within {s.fan_days} days.")


def fan_in(store: CaseStore, s: Settings) -> list[Finding]:
    return _fan(store, s, inward=True)


def fan_out(store: CaseStore, s: Settings) -> list[Finding]:
    return _fan(store, s, inward=False)


def cycles(store: CaseStore, s: Settings) -> list[Finding]:
    """A → … → A through 2 to 4 transfers, each leaving after the one before arrived, within the window."""
    found: dict[str, tuple[list[str], int]] = {}
    for length in (2, 3, 4):
        hops = [f"x{i}" for i in range(length)]
        joins = " ".join(f"JOIN x {h} ON {h}.a = {p}.b AND {h}.t >= {p}.t" for p, h in zip(hops, hops[1:]))
        distinct = " AND ".join(f"{h}.b <> x0.a" for h in hops[:-1]) or "TRUE"
        rows = store.con.execute(f"""
            WITH x AS (SELECT * FROM {_T})
            SELECT x0.a, [{', '.join(f'{h}.id' for h in hops)}] FROM x x0 {joins}
            WHERE {hops[-1]}.b = x0.a AND {distinct} AND {hops[-1]}.t <= x0.t + INTERVAL (?) DAY
                  AND {hops[-1]}.amount >= x0.amount * ?
            ORDER BY x0.a, x0.t""", [s.cycle_days, s.cycle_min_return]).fetchall()
        for account, ids in rows:
            if account not in found:
                found[account] = (ids, length)
    return _findings(store, "cycle", [(a, ids, {"length": n, "score": n}) for a, (ids, n) in sorted(found.items())], s,
                     lambda a, m: f"Round-trip: money from {a} came back to it through {m['length']} transfers",
                     lambda a, m: f"Money left {a} and returned to it within {s.cycle_days} days through {m['length']} "
                                  f"transfers, each made after the previous one arrived.")


def scatter_gather(store: CaseStore, s: Settings) -> list[Finding]:
    rows = store.con.execute(f"""
        WITH x AS (SELECT * FROM {_T})
        SELECT x1.a AS src, x2.b AS dst, list(x1.id) || list(x2.id), count(DISTINCT x1.b) AS n
        FROM x x1 JOIN x x2 ON x2.a = x1.b AND x2.t >= x1.t AND x2.t < x1.t + INTERVAL (?) DAY AND x2.b <> x1.a
        GROUP BY x1.a, x2.b HAVING count(DISTINCT x1.b) >= ? ORDER BY src, dst""", [s.fan_days, s.fan_count]).fetchall()
    return _findings(store, "scatter-gather", [(f"{a} → {b}", ids, {"intermediaries": n, "score": n}) for a, b, ids, n in rows], s,
                     lambda k, m: f"Scatter-gather: {k} through {m['intermediaries']} intermediaries",
                     lambda k, m: f"{k.split(' → ')[0]} paid {m['intermediaries']} accounts which each passed money on to "
                                  f"{k.split(' → ')[1]} within {s.fan_days} days.")


def gather_scatter(store: CaseStore, s: Settings) -> list[Finding]:
    rows = store.con.execute(f"""
        WITH x AS (SELECT * FROM {_T}),
        ins AS (SELECT x1.b AS hub, x1.t AS first_in, max(x2.t) AS last_in, list(x2.id) AS ids, count(DISTINCT x2.a) AS n
                FROM x x1 JOIN x x2 ON x2.b = x1.b AND x2.t >= x1.t AND x2.t < x1.t + INTERVAL (?) DAY
                GROUP BY x1.b, x1.t HAVING count(DISTINCT x2.a) >= ?)
        SELECT ins.hub, any_value(ins.ids) || list(o.id), any_value(ins.n), count(DISTINCT o.b)
        FROM ins JOIN x o ON o.a = ins.hub AND o.t >= ins.first_in AND o.t < ins.last_in + INTERVAL (?) DAY
        GROUP BY ins.hub, ins.first_in HAVING count(DISTINCT o.b) >= ? ORDER BY ins.hub""",
        [s.fan_days, s.fan_count, s.fan_days, s.fan_count]).fetchall()
    best: dict[str, tuple] = {}
    for hub, ids, n_in, n_out in rows:
        if hub not in best or n_in + n_out > best[hub][1] + best[hub][2]:
            best[hub] = (ids, n_in, n_out)
    return _findings(store, "gather-scatter", [(h, ids, {"senders": a, "receivers": b, "score": a + b})
                                               for h, (ids, a, b) in sorted(best.items())], s,
                     lambda h, m: f"Gather-scatter through {h}: {m['senders']} senders, then {m['receivers']} receivers",
                     lambda h, m: f"{h} received from {m['senders']} accounts and then paid {m['receivers']} accounts "
                                  f"within {s.fan_days} days.")


def pass_through(store: CaseStore, s: Settings) -> list[Finding]:
    rows = store.con.execute("""
        WITH x AS (SELECT * FROM transactions WHERE to_account IS NOT NULL OR from_account IS NOT NULL),
        ev AS (SELECT i.to_account AS acct, i.id AS in_id, i.amount AS amount_in, list(o.id) AS out_ids, sum(o.amount) AS amount_out
               FROM x i JOIN x o ON o.from_account = i.to_account AND o.ts_utc >= i.ts_utc
                                   AND o.ts_utc <= i.ts_utc + INTERVAL (?) HOUR AND o.currency = i.currency
               WHERE i.to_account IS NOT NULL AND i.ts_utc IS NOT NULL AND i.amount > 0
               GROUP BY i.to_account, i.id, i.amount
               HAVING sum(o.amount) >= i.amount * ? AND sum(o.amount) <= i.amount)
        SELECT acct, list(in_id) || flatten(list(out_ids)), count(*) AS n, sum(amount_in), sum(amount_out)
        FROM ev GROUP BY acct HAVING count(*) >= ? ORDER BY acct""", [s.pass_hours, s.pass_min_ratio, s.pass_count]).fetchall()
    return _findings(store, "pass-through", [(a, ids, {"events": n, "in": i, "out": o, "residue": i - o, "score": n})
                                             for a, ids, n, i, o in rows], s,
                     lambda a, m: f"Rapid pass-through (mule pattern): {a}, {m['events']} times",
                     lambda a, m: f"{m['events']} times, money reached {a} and at least {s.pass_min_ratio:.0%} of it left "
                                  f"within {s.pass_hours} hours ({m['in']:,.2f} in, {m['out']:,.2f} out, "
                                  f"residue {m['residue']:,.2f}).")


def bipartite_and_stack(store: CaseStore, s: Settings) -> list[Finding]:
    """Payers grouped by the exact set of accounts they paid within the window after their first payment."""
    groups = store.con.execute(f"""
        WITH x AS (SELECT * FROM {_T}),
        first AS (SELECT a, min(t) AS t0 FROM x GROUP BY a),
        sets AS (SELECT x.a, list(DISTINCT x.b ORDER BY x.b) AS receivers, list(x.id) AS ids
                 FROM x JOIN first USING (a) WHERE x.t < first.t0 + INTERVAL (?) DAY GROUP BY x.a)
        SELECT receivers, list(a ORDER BY a) AS payers, flatten(list(ids)) FROM sets
        WHERE len(receivers) >= 3 GROUP BY receivers HAVING count(*) >= 3 ORDER BY payers""", [s.fan_days]).fetchall()
    layers = [(tuple(r), tuple(p), ids) for r, p, ids in groups]
    by_payers = {p: (r, ids) for r, p, ids in layers}
    rows, in_stack = [], set()
    for receivers, payers, ids in layers:  # a layer whose receivers pay on as a layer: a stack
        nxt = by_payers.get(receivers)
        if nxt is not None:
            in_stack |= {payers, receivers}
            rows.append(("stack", " / ".join([",".join(payers), ",".join(receivers), ",".join(nxt[0])]), ids + nxt[1],
                         {"layers": 3, "score": len(ids) + len(nxt[1])}))
    for receivers, payers, ids in layers:
        if payers not in in_stack:
            rows.append(("bipartite", f"{','.join(payers)} → {','.join(receivers)}", ids,
                         {"payers": len(payers), "receivers": len(receivers), "score": len(ids)}))
    out = []
    for kind in ("bipartite", "stack"):
        out += _findings(store, kind, [(subj, ids, m) for k, subj, ids, m in rows if k == kind], s,
                         lambda k, m, kind=kind: f"{kind.capitalize()}: {k}",
                         lambda k, m, kind=kind: (f"Accounts {k.split(' → ')[0]} each paid every one of {k.split(' → ')[1]}"
                                                  if kind == "bipartite" else
                                                  f"Layers {k}: each account of a layer paid every account of the next.")
                                                 + f" (within {s.fan_days} days of their first payment)")
    return out
