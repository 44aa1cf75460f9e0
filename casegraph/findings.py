"""Findings: what an analysis concluded, with the records it rests on (ids, locators, exhibits).

Each finding has a deterministic id (detector, subject), so running an analysis again replaces
its earlier findings instead of adding copies. The conclusion and its evidence are kept apart:
`summary` states what the data shows; interpretation belongs in the report.

Each finding also records the case state it was derived from (`derived_from`: a digest of the parse
runs and, for analyses that use who-is-who, of entity resolution), so that a report can tell a
finding made before an `entities merge` or a re-ingest from a current one (see `stale`).

Figures. A finding that states amounts keeps each one in attrs["figures"], per currency:
    {"name": "received", "currency": "LKR", "amount": "4500000", "records": [transaction ids], "rule": "sum"}
rule "sum": the amount is the sum of the records (all in that currency), and every record is cited as evidence;
rule "share": a part a model computes from the records (taint under haircut or fifo), between 0 and their sum;
rule "converted": a sum in the currency of an examiner's rate table, listing per record the rate used and the
rate row (exhibit, locator), which is cited too; rounded to `rounded_to`;
rule "setting": a threshold or window the analyst chose (no records): an amount in its currency, or a count or
duration with its "unit" instead (days, hours, transfers ...; never taken for an amount). `check_figures` verifies
them all, that every amount the title or summary prints (as casegraph.amounts writes it) is one of the figures,
and that no amount is printed without its currency. `figure` and `sum_figures` write them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from .amounts import format_amount
from .store import CaseStore, to_json


def figure(name: str, currency: str | None, amount: Any, records: list[str], rule: str = "sum", **extra: Any) -> dict:
    """A figure a finding states, with the records it is computed from (see the module docstring)."""
    return {"name": name, "currency": currency, "amount": str(amount), "records": sorted(records), "rule": rule, **extra}


def setting(name: str, amount: Any, currency: str | None = None, unit: str | None = None) -> dict:
    """A threshold or window the analyst chose: an amount in `currency`, or a number of `unit`."""
    return figure(name, currency, amount, [], "setting", **({"unit": unit} if unit else {}))


def sum_figures(name: str, records: Iterable[tuple[str, Any, str | None]]) -> list[dict]:
    """One "sum" figure per currency (first seen first) over (record id, amount, currency); no amount, no part."""
    by: dict[str | None, list] = {}
    for rid, amount, currency in records:
        if amount is not None:
            by.setdefault(currency, []).append((rid, Decimal(amount)))
    return [figure(name, c, sum((a for _, a in rs), Decimal(0)), [r for r, _ in rs]) for c, rs in by.items()]


@dataclass
class Finding:
    kind: str
    subject: str  # what the finding is about, unique within its detector (an account, a path ...)
    title: str
    summary: str
    detector: str
    detector_version: str
    evidence: list[dict[str, Any]]  # {"record": id, "table": ..., "locator": ..., "exhibit_sha256": ...}
    score: float | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.detector}\x1f{self.kind}\x1f{self.subject}".encode()).hexdigest()[:32]


STATE_PARTS = ("parse", "resolution")
# analyses that read records only, not who-is-who: entity resolution cannot make them stale
_RECORDS_ONLY = ("typologies", "indicators-lexicon", "indicators-learned", "indicators-model")


def depends_on(detector: str) -> tuple[str, ...]:
    return ("parse",) if detector in _RECORDS_ONLY else STATE_PARTS


def case_state(store: CaseStore) -> dict[str, str]:
    """Digests of what analyses derive from: the parse runs (every record table's content, through the
    runs' output digests) and entity resolution (who is joined to whom)."""
    parse = store.one("""SELECT count(*), coalesce(sum(hash(exhibit_sha256, parser, parser_version, output_sha256, status)), 0)
                         FROM parse_runs""")
    people = store.one("SELECT count(*), coalesce(sum(hash(entity_id, member)), 0) FROM entity_members")
    return {
        "parse": hashlib.sha256(repr(parse).encode()).hexdigest()[:16],
        "resolution": hashlib.sha256(repr(people).encode()).hexdigest()[:16],
    }


# the command that derives a detector's findings again
def rerun_command(detector: str) -> str:
    if detector.startswith("trace:"):
        _, direction, model, account = [*detector.split(":", 3), "", "", ""][:4]
        return f"casegraph trace CASE --from {account} --model {model}" + (" --backward" if direction == "backward" else "")
    return {
        "link-analysis": "casegraph analyze CASE",
        "typologies": "casegraph typologies CASE",
        "entity-resolution": "casegraph resolve CASE",
    }.get(detector, "casegraph indicators CASE" if detector.startswith("indicators") else f"the analysis that wrote {detector}")


def stale(store: CaseStore) -> list[dict[str, Any]]:
    """Detectors whose findings rest on a case state that has changed since (or was not recorded):
    [{detector, findings, changed: [parts], command}], sorted by detector."""
    now = case_state(store)
    out = []
    for detector, n, recorded in store.con.execute(
        "SELECT detector, count(*), any_value(CAST(derived_from AS VARCHAR)) FROM findings GROUP BY detector ORDER BY detector"
    ).fetchall():
        was = json.loads(recorded) if recorded else {}
        changed = [p for p in depends_on(detector) if was.get(p) != now[p]]
        if changed:
            out.append({"detector": detector, "findings": n, "changed": changed, "command": rerun_command(detector)})
    return out


def write_findings(store: CaseStore, findings: list[Finding], detector: str) -> str:
    """Replace `detector`'s earlier findings with these; returns the SHA-256 of what was written."""
    now = datetime.now(UTC)
    state = case_state(store)
    derived = to_json({p: state[p] for p in depends_on(detector)})
    digest = hashlib.sha256()
    cols: dict[str, list] = {
        c: [] for c in ("id", "kind", "title", "summary", "score", "detector", "detector_version", "evidence", "attrs")
    }
    for f in findings:
        row = [f.id, f.kind, f.title, f.summary, f.score, f.detector, f.detector_version, to_json(f.evidence), to_json(f.attrs)]
        digest.update(to_json(row).encode())
        for c, v in zip(cols, row, strict=True):
            cols[c].append(v)
    table = pa.table(
        {
            **cols,
            "score": pa.array(cols["score"], pa.float64()),
            "created_at": pa.array([now] * len(findings), pa.timestamp("us", tz="UTC")),
            "derived_from": pa.array([derived] * len(findings), pa.string()),
        }
    )
    with store.transaction() as con:
        con.execute("DELETE FROM findings WHERE detector = ?", [detector])
        if findings:
            store.insert("findings", table)
    return digest.hexdigest()


# an amount as casegraph.amounts.format_amount prints it: a unit, then digits with thousands separators and decimals
UNIT = r"(?:[A-Z][A-Z0-9.]{1,11}|\(currency not stated\))"
PRINTED_AMOUNT = re.compile(rf"(?<![\w.])({UNIT}) (-?\d{{1,3}}(?:,\d{{3}})*(?:\.\d+)?)(?!\d|,\d)")
# a number written as an amount (thousands separators), and a unit just before it (scores such as 0.67 are not amounts)
BARE_NUMBER = re.compile(r"(?<![\w.,:/-])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.,:/-]*\d)")
UNIT_BEFORE = re.compile(rf"(?<![\w.]){UNIT} $")


def check_figures(store: CaseStore, kind: str, title: str, summary: str, evidence: list[dict], attrs: dict) -> list[str]:
    """What is wrong with a finding's figures (empty: every figure is what its cited records add up to)."""
    problems = []
    figures = attrs.get("figures") or []
    cited = {e.get("record") for e in evidence if e.get("table") == "transactions"}
    wanted = sorted({r for fig in figures for r in fig.get("records", [])})
    amounts = {}
    if wanted:
        amounts = {
            i: (a, c)
            for i, a, c in store.con.execute(
                "SELECT id, amount, currency FROM transactions WHERE id IN (SELECT unnest(?))", [wanted]
            ).fetchall()
        }
    for fig in figures:
        name, currency, amount, rule = fig["name"], fig.get("currency"), Decimal(fig["amount"]), fig.get("rule", "sum")
        records = fig.get("records", [])
        if rule == "setting":
            continue
        if not records:
            problems.append(f"{name} {format_amount(amount, currency)} cites no record")
            continue
        missing = [r for r in records if r not in amounts]
        uncited = [r for r in records if r not in cited]
        if missing or uncited:
            problems.append(f"{name}: {len(missing)} record(s) not in the case, {len(uncited)} not cited as evidence")
            continue
        if rule == "converted":
            problems += _check_conversion(fig, amounts, evidence)
            continue
        other = {amounts[r][1] for r in records} - {currency}
        if other:
            problems.append(f"{name} in {currency} sums records in {', '.join(map(str, other))}")
        total = sum((amounts[r][0] for r in records if amounts[r][1] == currency), Decimal(0))
        if rule == "sum" and total != amount:
            problems.append(f"{name}: claims {format_amount(amount, currency)}, cited records sum to {format_amount(total, currency)}")
        if rule == "share" and not (0 <= amount <= total):
            problems.append(f"{name}: a share of {format_amount(amount, currency)} outside 0..{format_amount(total, currency)}")
    shown = {(fig.get("currency"), Decimal(fig["amount"])) for fig in figures if not fig.get("unit")}  # counts are no amounts
    text = f"{title}\n{summary}"
    for unit, number in PRINTED_AMOUNT.findall(text):
        if (None if unit == "(currency not stated)" else unit, Decimal(number.replace(",", ""))) not in shown:
            problems.append(f"prints {unit} {number}, which is none of its figures")
    for m in BARE_NUMBER.finditer(text):
        if not UNIT_BEFORE.search(text[: m.start()]):
            problems.append(f"prints the amount {m.group(0)} without its currency")
    return problems


def _check_conversion(fig: dict, amounts: dict, evidence: list[dict]) -> list[str]:
    from decimal import localcontext

    rates_cited = {(e.get("exhibit_sha256"), e.get("locator")) for e in evidence if e.get("table") == "exchange-rates"}
    problems, total = [], Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 60
        for c in fig.get("conversions", []):
            amount, currency = amounts[c["record"]]
            if currency != fig.get("from"):
                problems.append(f"{fig['name']}: converts a {currency} record as {fig.get('from')}")
            if (c["rate_exhibit_sha256"], c["rate_locator"]) not in rates_cited:
                problems.append(f"{fig['name']}: the rate at {c['rate_locator']} is not cited")
            total += amount * Decimal(c["rate"])
    if sorted(c["record"] for c in fig.get("conversions", [])) != sorted(fig["records"]):
        problems.append(f"{fig['name']}: conversions and records differ")
    if abs(total - Decimal(fig["amount"])) > Decimal(fig.get("rounded_to", "0")) / 2:
        problems.append(f"{fig['name']}: claims {fig['amount']}, the cited records at the cited rates give {total}")
    return problems
