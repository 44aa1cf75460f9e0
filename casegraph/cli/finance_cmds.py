from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

import click

from ._ui import Amount, When, console, esc, fail, open_case, plural, table


@click.command("trace")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--from", "account", required=True, help="Account, wallet or other transaction end to trace from.")
@click.option("--backward", is_flag=True, help="Trace where the money in the account came from, instead of where it went.")
@click.option("--hops", default=6, show_default=True, help="Longest path, in transfers.")
@click.option("--since", type=When(), default=None, help="Only transfers at or after this time (ISO 8601; UTC unless a zone is given).")
@click.option("--until", type=When(end_of_day=True), default=None, help="Only transfers at or before this time (a date: to its end).")
@click.option(
    "--min-amount",
    type=Amount(),
    default="0",
    show_default=True,
    help="Ignore transfers smaller than this, compared with each transfer's amount in its own currency.",
)
@click.option(
    "--model",
    type=click.Choice(["poison", "haircut", "fifo"]),
    default="haircut",
    show_default=True,
    help="Taint model: poison (any tainted money taints all), haircut (in proportion), fifo (first in, first out).",
)
@click.option(
    "--link",
    "links",
    multiple=True,
    metavar="ACCOUNT=SAME",
    help="Two transaction ends known to be one holder's (e.g. a bank account and a TRON wallet): paths cross there.",
)
@click.option(
    "--resolved/--no-resolved",
    default=True,
    show_default=True,
    help="Let paths cross between transaction ends that entity resolution joined into one person.",
)
@click.option(
    "--include-failed",
    is_flag=True,
    help="Also follow transfers the source records as failed or reverted (left out by default: no value moved).",
)
@click.option(
    "--rates",
    "rates_exhibit",
    default=None,
    metavar="EXHIBIT",
    help="An exchange-rate table already taken into evidence (exhibit id or SHA-256): a CSV of date, from, to, "
    "rate, source. Amounts in other currencies are then also given in --rate-currency, each citing its rate row.",
)
@click.option("--rate-currency", default="LKR", show_default=True, help="The currency to convert into, with --rates.")
@click.option(
    "--rate-gap-days",
    default=7,
    show_default=True,
    help="With --rates: use the latest earlier rate up to this many days before a transfer's date.",
)
@click.option("--top", default=30, show_default=True, help="Rows to print (all are written as findings).")
def trace_cmd(
    case,
    account,
    backward,
    hops,
    since,
    until,
    min_amount,
    model,
    links,
    resolved,
    include_failed,
    rates_exhibit,
    rate_currency,
    rate_gap_days,
    top,
) -> None:
    """Follow the money from an account, with taint per currency.

    Paths respect time (money moves on only after it arrived) and give the taint each account
    received, per currency. Every account reached is written as a finding citing each transfer of
    its path and every transfer its figures add up; payments to ends the records do not name
    (merchants, bills, cash) are grouped per account."""
    from ..finance.flows import FAILED
    from ..finance.trace import table_rows
    from ..finance.workflow import run_trace
    from ..graph.resolve import trace_links
    from ..ingest.rates import RateExhibitError

    for l in links:  # noqa: E741
        if "=" not in l.strip("="):
            fail(f"--link {l!r}: expected ACCOUNT=SAME, two transaction ends one holder has", 2)
    examiner = dict(l.split("=", 1) for l in links)  # noqa: E741
    with open_case(case) as c:

        def run(origin: str):
            try:
                return run_trace(
                    c,
                    origin,
                    resolved=trace_links(c.store) if resolved else None,
                    hops=hops,
                    backward=backward,
                    since=since,
                    until=until,
                    min_amount=min_amount,
                    model=model,
                    links=examiner,
                    include_failed=include_failed,
                    rates=rates_exhibit,
                    rate_currency=rate_currency,
                    rate_gap_days=rate_gap_days,
                )
            except RateExhibitError as e:
                fail(f"--rates {rates_exhibit}: {e}", 2)

        try:
            r = run(account)
        except KeyError as e:
            account = _a_persons_account(c, account, str(e).strip("'\""))
            try:
                r = run(account)
            except KeyError as e2:
                fail(str(e2).strip("'\""))
        if r.rates:
            _print_rates(r.rates)
        result, detector, findings = r.result, r.detector, r.findings
        way = "came from" if backward else "went"
        console.print(
            table(
                f"Where the money {way}: {account} ({model} taint, up to {hops} hops)",
                [
                    "reached",
                    "transfers",
                    "path: amounts, when",
                    "sent into the trace" if backward else "received",
                    "fed the traced money" if backward else "tainted",
                ],
                table_rows(findings)[:top],
            )
        )
        if any(f.attrs.get("order_assumed") for f in findings[:top]):
            console.print(
                "* order within the day assumed: a hop dated without a time, on the same day as the money's "
                "arrival, in another statement (see each finding)"
            )
        left = "; ".join(v.describe(k) for k, v in result.skipped.items())
        console.print(
            f"{plural(len(result.reached), 'end')} reached; {plural(len(findings), 'finding')} written ({detector})."
            + (f" Left out of the money graph: {left}." if left else "")
            + ("" if include_failed or FAILED not in result.skipped else " (--include-failed follows failed transfers too.)")
        )


def _a_persons_account(c, ref: str, not_an_account: str) -> str:
    """`trace --from NAME`: the one account the person NAME (a name or entity id) holds in the transactions.
    Several are listed to pick from; none, or no such person, is an error saying so."""
    from ..accounts import person_accounts
    from ..graph.resolve import EntityLookupError, find_entity

    try:
        who = find_entity(c.store, ref)
    except EntityLookupError as e:
        fail(f"{not_an_account}; nor is it a person: {e}")
    held = person_accounts(c.store, who["id"])
    name = f"{who['label']} ({who['id']})"
    if not held:
        ids = "; ".join(f"{i['kind']} {i['value']}" for i in json.loads(who["attrs"]).get("identifiers", [])) or "none"
        from ..accounts import not_held

        others = ", ".join(o["name"] or o["account"] for o in not_held(c.store, who["id"]))
        fail(
            f"{name} is a person who holds no account that is in a transaction (identifiers: {ids}); trace from an account"
            + (f" (tied to them but not recorded as theirs: {others})" if others else "")
        )
    if len(held) > 1:
        console.print(
            table(f"Accounts of {name}", ["account", "rail", "transfers"], [(h["account"], h["rail"], h["transfers"]) for h in held])
        )
        fail(f"{name} holds {plural(len(held), 'account')} in the transactions: pick one with --from ACCOUNT (listed above)", 2)
    h = held[0]
    console.print(
        f"[yellow]note:[/] {esc(name)} holds one account in the transactions, {esc(h['account'])} ({h['rail']}, "
        f"{plural(h['transfers'], 'transfer')}): tracing from it",
        soft_wrap=True,
    )
    return h["account"]


def _print_rates(rx) -> None:
    """The rate table a trace read (ingest.rates.RateExhibit), and its rows not read."""
    for i in rx.issues[:10]:
        console.print(f"[yellow]rate table {rx.exhibit_id} {i.prov.locator}:[/] {i.message}")
    if rx.issues:
        console.print(
            f"{plural(len(rx.issues), 'row')} of the rate table not read; {'it is' if len(rx.issues) == 1 else 'they are'} not used."
        )
    console.print(f"Rate table {rx.exhibit_id} ({rx.original_name}): {plural(len(rx.rates), 'rate')} read.")


_TS = None  # the detector's defaults, read once for the option defaults


def _typology_defaults():
    global _TS
    if _TS is None:
        from ..finance.typologies import Settings

        _TS = Settings()
    return _TS


@click.command("typologies")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--threshold", type=Amount(), default="1000000", show_default=True, help="Reporting threshold for structuring (FTRA: LKR 1,000,000)."
)
@click.option("--currency", default="LKR", show_default=True, help="Currency of the threshold.")
@click.option(
    "--below", type=Amount(), default="0.10", show_default=True, help="How far under the threshold counts as 'just under' (fraction)."
)
@click.option("--days", default=7, show_default=True, help="Window for structuring.")
@click.option(
    "--fan-days",
    type=int,
    default=None,
    help="Window for fan-in/out, scatter-gather, gather-scatter and bipartite [default: 10 with the new-counterparty filter, 7 without].",
)
@click.option(
    "--count",
    type=int,
    default=None,
    help="Distinct counterparties that make a fan-in or fan-out [default: 4 with the new-counterparty filter, 5 without].",
)
@click.option(
    "--scatter-count",
    type=int,
    default=lambda: _typology_defaults().scatter_count,
    show_default="3",
    help="Intermediaries that make a scatter-gather.",
)
@click.option(
    "--gather-count",
    type=int,
    default=None,
    help="Senders, and receivers, that make a gather-scatter [default: 3 with the new-counterparty filter, 5 without].",
)
@click.option("--cycle-days", type=int, default=lambda: _typology_defaults().cycle_days, show_default="20", help="Window for a cycle.")
@click.option("--cycle-min-length", type=int, default=lambda: _typology_defaults().cycle_min_length, show_default="3")
@click.option("--cycle-max-length", type=int, default=lambda: _typology_defaults().cycle_max_length, show_default="10")
@click.option(
    "--cycle-order",
    type=click.Choice(["any", "time"]),
    default="any",
    show_default=True,
    help="'time': only cycles whose transfers run in time order.",
)
@click.option(
    "--new-counterparty-days",
    "fresh_days",
    type=int,
    default=lambda: _typology_defaults().fresh_days,
    show_default="180",
    help="Count only transfers between accounts with none between them in that many days before (0: off); "
    "applied when the data span at least twice that.",
)
@click.option("--pass-hours", default=48, show_default=True, help="Window for rapid pass-through.")
@click.option("--include-failed", is_flag=True, help="Also use transfers the source marks failed or reverted.")
def typologies_cmd(
    case,
    threshold,
    currency,
    below,
    days,
    fan_days,
    count,
    scatter_count,
    gather_count,
    cycle_days,
    cycle_min_length,
    cycle_max_length,
    cycle_order,
    fresh_days,
    pass_hours,
    include_failed,
) -> None:
    """Detect laundering typologies and write them as findings.

    Structuring, fan-in, fan-out, cycles (round-tripping), scatter-gather, gather-scatter, rapid
    pass-through, bipartite and stack. Each finding lists the transfers that make it, with their
    locators, states its thresholds and sums its amounts per currency."""
    from ..amounts import format_amount
    from ..finance.typologies import Settings
    from ..finance.workflow import run_typologies

    try:
        settings = Settings(
            threshold=threshold,
            threshold_currency=currency,
            below=below,
            structuring_days=days,
            fan_days=fan_days,
            fan_count=count,
            scatter_count=scatter_count,
            gather_count=gather_count,
            cycle_days=cycle_days,
            cycle_min_length=cycle_min_length,
            cycle_max_length=cycle_max_length,
            cycle_order=cycle_order,
            fresh_days=fresh_days,
            pass_hours=pass_hours,
            include_failed=include_failed,
        )
    except (InvalidOperation, ValueError) as e:
        fail(f"bad option: {e}", 2)
    with open_case(case) as c:
        findings, left_out, _ = run_typologies(c, settings)
        console.print(
            table(
                "Typologies",
                ["kind", "subject", "title", "transfers", "amounts"],
                [
                    (
                        f.kind,
                        f.subject,
                        f.title,
                        f.attrs["transfers"],
                        ", ".join(format_amount(Decimal(v), k) for k, v in f.attrs["totals"].items()),
                    )
                    for f in findings
                ],
            )
        )
        gone = ", ".join(f"{v} {k}" for k, v in left_out.items() if v)
        console.print(
            f"{plural(len(findings), 'finding')} written (detector 'typologies')."
            + (f" Transfers left out: {gone}." if gone else " No transfer was left out.")
            + ("" if include_failed else " Failed or reverted transfers are left out (--include-failed to use them).")
        )


@click.command("acquire-eth")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--rpc", required=True, help="JSON-RPC endpoint of an Ethereum node (HTTP), e.g. the unit's own archive node.")
@click.option("--address", "addresses", multiple=True, required=True, help="Address to read (repeatable).")
@click.option("--from-block", type=int, required=True)
@click.option("--to-block", type=int, required=True)
@click.option("--exhibit", "exhibit_id", required=True, help="Exhibit label for the acquisition file.")
@click.option("--acquired-by", required=True, help="Officer making the acquisition.")
@click.option("--warrant", default=None)
def acquire_eth(case, rpc, addresses, from_block, to_block, exhibit_id, acquired_by, warrant) -> None:
    """Acquire transfers of ADDRESSes from an Ethereum node.

    Native transfers and ERC-20 Transfer logs are read; what the node answered is written to an
    acquisition file, which is taken into evidence and parsed."""
    import tempfile
    from pathlib import Path

    from ..extras import need
    from ..finance.ethereum import acquire
    from ..ingest.evidence import add_evidence
    from ..ingest.pipeline import parse_exhibit

    Web3 = need("web3", "eth", "acquire-eth").Web3
    w3 = Web3(Web3.HTTPProvider(rpc))
    if not w3.is_connected():
        fail(f"no Ethereum node answers at {rpc}")
    with open_case(case) as c, tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"eth-acquisition-{from_block}-{to_block}.jsonl"
        summary = acquire(w3, list(addresses), from_block, to_block, out, note=f"rpc {rpc}")
        intake = add_evidence(
            c, out, exhibit_id, seized_from=f"Ethereum chain {w3.eth.chain_id} via {rpc}", acquired_by=acquired_by, warrant=warrant
        )
        result = parse_exhibit(c, intake.sha256)
        console.print(
            f"Acquired {summary['transactions']} transactions and {summary['logs']} token transfers "
            f"({summary['tokens']} tokens) into exhibit {exhibit_id} (sha256 {intake.sha256[:16]}…); "
            f"parsed: {result.records.get('transactions', 0)} transactions."
        )


COMMANDS = [trace_cmd, typologies_cmd, acquire_eth]
