"""`casegraph trace` as one call, which the CLI, the workspace, the API and the demo all make: resolution's
links (passed in by the caller) and the examiner's, each with its basis, an optional rate table from the
evidence, then the trace, its findings written and logged in custody with the person who asked; and the
traced transfers as a flow diagram per currency. The same options give the same findings and the same
custody record whoever calls.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..amounts import format_amount
from ..model import record_id
from .flows import is_unknown
from .trace import TraceResult, label, table_rows, to_findings, trace

if TYPE_CHECKING:
    from ..case import Case
    from ..ingest.rates import RateExhibit
    from .typologies import Settings

UNNAMED = "?unnamed-with:"
DIAGRAM_LINKS = 400  # per currency: a flow diagram with more links than this is unreadable; the rest is counted


@dataclass
class TraceRun:
    result: TraceResult
    detector: str
    findings: list
    digest: str | None  # the findings' digest as written (None when not written)
    event: dict[str, Any] | None  # the custody event
    rates: RateExhibit | None = None  # the rate table read, with the rows not read


def run_trace(
    case: Case,
    account: str,
    *,
    resolved: tuple[dict[str, str], dict[str, list[dict]]] | None,
    actor: str | None = None,
    hops: int = 6,
    backward: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    min_amount: Decimal = Decimal(0),
    model: str = "haircut",
    links: dict[str, str] | None = None,
    link_source: str = "trace --link, recorded in the custody log",
    include_failed: bool = False,
    rates: str | None = None,
    rate_currency: str = "LKR",
    rate_gap_days: int = 7,
    write: bool = True,
) -> TraceRun:
    """What `casegraph trace` does: findings written (replacing the detector's earlier ones) and a `trace`
    custody event with the same details, by `actor`. `write=False` only computes.

    `resolved`: the transaction ends entity resolution joined, with the basis of each (graph.resolve.trace_links;
    the caller composes the two layers), or None to cross no resolved link. `links`: the examiner's own, which win,
    cited with `link_source`. `rates`: an exchange-rate table in evidence (exhibit id or SHA-256), with which
    figures in other currencies are also given in `rate_currency` (ingest.rates.RateExhibitError if it is not one)."""
    from ..findings import write_findings
    from .trace import examiner_link_basis

    rate_exhibit = table = None
    if rates:
        from ..ingest.rates import read_rate_exhibit
        from .rates import RateTable

        rate_exhibit = read_rate_exhibit(case, rates)
        table = RateTable(rate_exhibit.rates, rate_currency, rate_gap_days)
    examiner = dict(links or {})
    link_map, basis = (dict(resolved[0]), dict(resolved[1])) if resolved is not None else ({}, {})
    basis.update(examiner_link_basis(examiner, case.actor(actor), link_source))
    link_map.update(examiner)  # the examiner's own links win over resolution's
    result = trace(
        case.store,
        account,
        hops=hops,
        backward=backward,
        since=since,
        until=until,
        min_amount=min_amount,
        model=model,
        links=link_map,
        include_failed=include_failed,
        link_basis=basis,
    )
    detector, found = to_findings(result, case.store, table)
    if not write:
        return TraceRun(result, detector, found, None, None, rate_exhibit)
    digest = write_findings(case.store, found, detector)
    event = case.log(
        "trace",
        actor,
        state=("findings",),
        inputs=[rate_exhibit.custody_input()] if rate_exhibit else [],
        details={
            "origin": account,
            "backward": backward,
            "hops": hops,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "min_amount": str(min_amount),
            "model": model,
            "links": link_map,
            "examiner_links": examiner,
            "resolved": resolved is not None,
            "include_failed": include_failed,
            **({"rates": rates, "rate_currency": rate_currency, "rate_gap_days": rate_gap_days} if rates else {}),
        },
        outputs=[{"findings": len(found), "sha256": digest, "detector": detector}],
    )
    return TraceRun(result, detector, found, digest, event, rate_exhibit)


def run_typologies(case: Case, settings: Settings, actor: str | None = None) -> tuple[list, dict[str, int], str]:
    """What `casegraph typologies` does: every detector's findings written (replacing the earlier ones) and a
    `typologies` custody event stating every setting and what the detectors left out. Returns the findings,
    the left-out counts by reason and the findings' digest."""
    from ..findings import write_findings
    from .typologies import detect, skipped

    findings = detect(case.store, settings)
    left_out = skipped(case.store, settings)
    digest = write_findings(case.store, findings, "typologies")
    case.log(
        "typologies",
        actor,
        state=("findings",),
        details={k: str(v) for k, v in settings.__dict__.items()},
        outputs=[{"findings": len(findings), "sha256": digest, "skipped": left_out}],
    )
    return findings, left_out, digest


def summary_rows(run: TraceRun) -> list[dict[str, str]]:
    """The CLI's table (trace.table_rows), as named columns."""
    cols = ("reached", "transfers", "path", "received", "tainted")
    return [dict(zip(cols, row, strict=True)) for row in table_rows(run.findings)]


def trace_table(run: TraceRun) -> list[dict[str, Any]]:
    """The trace's findings for a table that says what each number counts: the transfers on the path from
    the origin (hops), the transfers into the account the received total sums, the records the finding cites,
    and received / tainted amounts one line per currency (exact, with thousands separators)."""
    out = []
    for f in run.findings:
        figs = f.attrs["figures"]
        path = [x for x in figs if x["name"].endswith("of the path")]
        name = "received" if path else "in all"

        received = _per_currency(figs, name)
        out.append(
            {
                "reached": f.attrs.get("who", f.subject),
                "path_transfers": len(path),
                "path": f.attrs.get("path", ""),
                "path_amounts": [format_amount(Decimal(x["amount"]), x["currency"]) for x in path],
                "when": f.attrs.get("when", ""),
                "received": received,
                "received_transfers": len({r for x in figs if x["name"] == name for r in x["records"]}),
                "tainted": _per_currency(figs, "tainted"),
                "cited": len({e["record"] for e in f.evidence if e.get("table") == "transactions"}),  # not the basis or rate rows
                "other_cited": len({e["record"] for e in f.evidence if e.get("table") != "transactions"}),
                "finding_id": f.id,
            }
        )
    return out


def _per_currency(figs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """A finding's figure `name`, one entry per currency: the exact amount as text and how many records it sums."""
    return [
        {"currency": x["currency"], "amount_text": format_amount(Decimal(x["amount"]), x["currency"]), "transfers": len(x["records"])}
        for x in figs
        if x["name"] == name
    ]


def flow_diagram(result: TraceResult, limit: int = DIAGRAM_LINKS) -> list[dict[str, Any]]:
    """The transfers the trace followed between the accounts it reached (the origin included), one diagram
    per currency: nodes with their hop depth and tainted amount, links (from, to) with the exact sum of the
    transfers they stand for and those transfers' record ids. Never summed across currencies.

    A Sankey diagram cannot draw a cycle, so a link that does not lead further from the origin (to an
    account at the same or a smaller depth) is listed apart under `back`, with its sum and records."""
    f = result.flows
    if f is None or not result.reached:
        return []
    node_of_origin = f.index.get(result.links.get(result.origin, result.origin) if f.linked else result.origin)
    origin_name = f.accounts[node_of_origin] if node_of_origin is not None else result.origin
    depth = {origin_name: 0}
    tainted: dict[str, dict] = {}
    for r in result.reached:
        name = r.account
        if is_unknown(name) and r.hops:  # grouped with the named account it was paid from (or to, backwards)
            name = UNNAMED + (r.hops[-1].src if not result.backward else r.hops[-1].dst)
            agg = tainted.setdefault(name, {})
            for cur, v in r.tainted.items():
                agg[cur] = agg.get(cur, Decimal(0)) + v
        else:
            tainted[name] = r.tainted
        depth[name] = len(r.hops)
    edges = np.unique(np.concatenate([r.inflow for r in result.reached])) if result.reached else np.array([], np.int64)
    if not len(edges):
        return []
    codes = {f.index[r.account] for r in result.reached} | ({node_of_origin} if node_of_origin is not None else set())
    src, dst = f.src[edges], f.dst[edges]
    keep = np.isin(src, list(codes)) & np.isin(dst, list(codes))
    edges = edges[keep]
    take = pa.array(edges)
    amounts = f.exact.take(take).to_pylist()
    currencies = f.currency.take(take).to_pylist()
    locators = f.locator.take(take).to_pylist()
    groups: dict[tuple, dict] = {}
    for e, amount, cur, loc in zip(edges.tolist(), amounts, currencies, locators, strict=True):
        a, b = f.accounts[f.src[e]], f.accounts[f.dst[e]]
        if f.backwards:
            a, b = b, a
        # ends the records do not name (card payments, bills, cash) drawn as one node per named account
        a = UNNAMED + b if is_unknown(a) else a
        b = UNNAMED + a if is_unknown(b) else b
        sha, parser = f.runs[int(f.run[e])]
        g = groups.setdefault((cur, a, b), {"from": a, "to": b, "amount": Decimal(0), "records": []})
        g["amount"] += Decimal(amount)
        g["records"].append(record_id("transactions", sha, parser, loc))
    by_cur: dict[str | None, list[dict]] = defaultdict(list)
    for (cur, _, _), g in groups.items():
        by_cur[cur].append(g)
    out = []
    for cur in sorted(by_cur, key=lambda c: (c is None, c or "")):
        links = sorted(by_cur[cur], key=lambda g: (-g["amount"], g["from"], g["to"]))
        # forward (backward trace: towards the origin) means from a smaller depth to a larger one
        fwd: list[dict] = []
        back: list[dict] = []
        for g in links:
            da, db = depth.get(g["from"], 0), depth.get(g["to"], 0)
            (fwd if (db > da if not result.backward else da > db) else back).append(g)
        shown = fwd[:limit]
        names = sorted(
            {g[k] for g in shown for k in ("from", "to")} | ({origin_name} if not shown else set()), key=lambda a: (depth.get(a, 0), a)
        )
        out.append(
            {
                "currency": cur,
                "nodes": [
                    {
                        "account": a,
                        "label": f"ends not named, with {a[len(UNNAMED) :]}" if a.startswith(UNNAMED) else label(a),
                        "unknown": a.startswith(UNNAMED),
                        "depth": depth.get(a, 0),
                        "origin": a == origin_name,
                        "tainted": str(tainted.get(a, {}).get(cur, "")) if a in tainted else None,
                        "tainted_text": format_amount(tainted[a][cur], cur) if cur in tainted.get(a, {}) else "",
                    }
                    for a in names
                ],
                "links": [_link(g, cur) for g in shown],
                "back": [_link(g, cur) for g in back],
                "not_drawn": len(fwd) - len(shown),
            }
        )
    return out


def _link(g: dict, cur: str | None) -> dict[str, Any]:
    return {
        "from": g["from"],
        "to": g["to"],
        "amount": str(g["amount"]),
        "amount_text": format_amount(g["amount"], cur),
        "transfers": len(g["records"]),
        "record": g["records"][:50],  # the first 50 record ids (kept verbatim for reviewers too); `transfers` counts them all
    }


def trace_accounts(store, text: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Accounts a trace can start from (named ends of transactions), optionally those whose account or
    holder name contains `text`, with the name the records give. A bounded scan (LIMIT, no ranking of the
    whole case: ranking 10,000,000 transfers by account took 40 s), so the picker answers at any size."""
    cond = "" if not text else " AND (contains(lower({a}), lower($t)) OR contains(lower(coalesce({n}, '')), lower($t)))"
    rows = store.con.execute(
        f"""SELECT account, any_value(name) AS name FROM (
              (SELECT from_account AS account, from_name AS name FROM transactions
               WHERE from_account IS NOT NULL{cond.format(a="from_account", n="from_name")} LIMIT $n * 20)
              UNION ALL
              (SELECT to_account, to_name FROM transactions
               WHERE to_account IS NOT NULL{cond.format(a="to_account", n="to_name")} LIMIT $n * 20))
            GROUP BY account ORDER BY account LIMIT $n""",
        {"n": limit, **({"t": text} if text else {})},
    ).fetchall()
    return [{"account": a, "name": n} for a, n in rows]
