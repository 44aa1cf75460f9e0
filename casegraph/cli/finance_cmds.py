from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

import click

from ._ui import console, fail, open_case, table


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    d = datetime.fromisoformat(value)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@click.command("trace")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--from", "account", required=True, help="Account, wallet or other transaction end to trace from.")
@click.option("--backward", is_flag=True, help="Trace where the money in the account came from, instead of where it went.")
@click.option("--hops", default=6, show_default=True, help="Longest path, in transfers.")
@click.option("--since", default=None, help="Only transfers at or after this time (ISO 8601; UTC unless a zone is given).")
@click.option("--until", default=None, help="Only transfers at or before this time.")
@click.option("--min-amount", default="0", show_default=True, help="Ignore transfers smaller than this.")
@click.option("--model", type=click.Choice(["poison", "haircut", "fifo"]), default="haircut", show_default=True,
              help="Taint model: poison (any tainted money taints all), haircut (in proportion), fifo (first in, first out).")
@click.option("--link", "links", multiple=True, metavar="ACCOUNT=SAME",
              help="Two transaction ends known to be one holder's (e.g. a bank account and a TRON wallet): paths cross there.")
@click.option("--resolved/--no-resolved", default=True, show_default=True,
              help="Let paths cross between transaction ends that entity resolution joined into one person.")
@click.option("--top", default=30, show_default=True, help="Rows to print (all are written as findings).")
def trace_cmd(case, account, backward, hops, since, until, min_amount, model, links, resolved, top) -> None:
    """Follow the money from an account: time-respecting paths (money moves on only after it arrived),
    with the taint each account received. Every account reached is written as a finding whose
    evidence is each transfer of its path (record, locator, exhibit)."""
    from ..findings import write_findings
    from ..finance.trace import label, to_findings, trace

    try:
        minimum = Decimal(min_amount)
        link_map = dict(l.split("=", 1) for l in links)
        since_d, until_d = _when(since), _when(until)
    except (InvalidOperation, ValueError) as e:
        fail(f"bad option: {e}", 2)
    with open_case(case) as c:
        if resolved:  # the examiner's own links win over resolution's
            from ..graph.resolve import transaction_links
            link_map = {**transaction_links(c.store), **link_map}
        try:
            result = trace(c.store, account, hops=hops, backward=backward, since=since_d, until=until_d,
                           min_amount=minimum, model=model, links=link_map)
        except KeyError as e:
            fail(str(e).strip("'\""))
        detector, findings = to_findings(result)
        digest = write_findings(c.store, findings, detector)
        c.log("trace", state=("findings",), details={"origin": account, "backward": backward, "hops": hops, "since": since, "until": until,
                                "min_amount": min_amount, "model": model, "links": link_map, "resolved": resolved},
              outputs=[{"findings": len(findings), "sha256": digest, "detector": detector}])
        rows = [(label(r.account, r.hops[-1]), len(r.hops), f"{r.hops[-1].ts:%Y-%m-%d %H:%M}",
                 " → ".join([label(r.hops[0].src, r.hops[0])] + [label(h.dst, h) for h in r.hops]),
                 ", ".join(f"{h.amount.normalize():f}" for h in r.hops), f"{r.tainted.normalize():f}",
                 f"{r.received.normalize():f}") for r in result.reached[:top]]
        way = "came from" if backward else "went"
        console.print(table(f"Where the money {way}: {account} ({model} taint, up to {hops} hops)",
                            ["account", "hops", "arrived (UTC)", "path", "amounts per hop", "tainted", "received"], rows))
        skipped = ", ".join(f"{v} {k}" for k, v in result.skipped.items())
        console.print(f"{len(result.reached)} accounts reached; {len(findings)} findings written ({detector})."
                      + (f" Transactions left out of the graph: {skipped}." if skipped else ""))


@click.command("typologies")
@click.argument("case", type=click.Path(exists=True, file_okay=False))
@click.option("--threshold", default="1000000", show_default=True, help="Reporting threshold for structuring (FTRA: LKR 1,000,000).")
@click.option("--currency", default="LKR", show_default=True, help="Currency of the threshold.")
@click.option("--below", default="0.10", show_default=True, help="How far under the threshold counts as 'just under' (fraction).")
@click.option("--days", default=7, show_default=True, help="Window for structuring, fan-in/out, scatter-gather and gather-scatter.")
@click.option("--count", default=5, show_default=True, help="Distinct counterparties that make a fan-in/out, scatter or gather.")
@click.option("--pass-hours", default=48, show_default=True, help="Window for rapid pass-through.")
def typologies_cmd(case, threshold, currency, below, days, count, pass_hours) -> None:
    """Detect laundering typologies in the case's transactions and write them as findings:
    structuring, fan-in, fan-out, cycles (round-tripping), scatter-gather, gather-scatter,
    rapid pass-through. Each finding lists the transfers that make it, with their locators."""
    from ..findings import write_findings
    from ..finance.typologies import Settings, detect

    try:
        settings = Settings(threshold=Decimal(threshold), threshold_currency=currency, below=Decimal(below),
                            structuring_days=days, fan_days=days, fan_count=count, pass_hours=pass_hours)
    except InvalidOperation as e:
        fail(f"bad option: {e}", 2)
    with open_case(case) as c:
        findings = detect(c.store, settings)
        digest = write_findings(c.store, findings, "typologies")
        c.log("typologies", state=("findings",), details={k: str(v) for k, v in settings.__dict__.items()},
              outputs=[{"findings": len(findings), "sha256": digest}])
        console.print(table("Typologies", ["kind", "subject", "finding", "transfers"],
                            [(f.kind, f.subject, f.title, f.attrs["transfers"]) for f in findings]))
        console.print(f"{len(findings)} findings written (detector 'typologies').")


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
    """Read native transfers and ERC-20 Transfer logs of ADDRESSes from an Ethereum node, write what the
    node answered to an acquisition file, take that file into evidence and parse it."""
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
        intake = add_evidence(c, out, exhibit_id, seized_from=f"Ethereum chain {w3.eth.chain_id} via {rpc}",
                              acquired_by=acquired_by, warrant=warrant)
        result = parse_exhibit(c, intake.sha256)
        console.print(f"Acquired {summary['transactions']} transactions and {summary['logs']} token transfers "
                      f"({summary['tokens']} tokens) into exhibit {exhibit_id} (sha256 {intake.sha256[:16]}…); "
                      f"parsed: {result.records.get('transactions', 0)} transactions.")


COMMANDS = [trace_cmd, typologies_cmd, acquire_eth]
