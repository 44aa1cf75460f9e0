"""Ethereum acquisition files written by `casegraph acquire eth` (finance.ethereum.acquire).

Native transfers in ETH (wei / 10^18) and ERC-20 Transfer logs in the token's own units
(value / 10^decimals, exact), with the token contract kept. A transaction that failed on chain
moved nothing: it is kept, with amount 0 and the attempted value noted. A token that calls itself
USDT but is not Tether's contract is marked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from ..model import USDT_CONTRACTS, Record, Transaction
from . import register
from .base import Parser, Probe, Source
from .jsonstream import loads_bounded

TETHER_ETHEREUM = USDT_CONTRACTS["ethereum"]
WEI = Decimal(10) ** 18


@register
class EthAcquisition(Parser):
    name = "eth-acquisition"
    version = "1.1"  # 1.1: Transaction.status from the receipt
    reads = "what `casegraph acquire-eth` read from an Ethereum node (native transfers, ERC-20 logs with decimals and symbol)"
    locators = "`line:7`"
    section = "money"
    description = "Ethereum acquisition file (native transfers and ERC-20 logs read through web3)"

    def sniff(self, probe: Probe) -> float:
        first = probe.text.split("\n", 1)[0]
        return 0.97 if first.startswith("{") and '"type": "acquisition"' in first and '"chain_id"' in first else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        tokens: dict[str, dict] = {}
        chain = None
        with open(src.path, encoding="utf-8") as f:  # tokens are listed last: read them first
            for line in f:
                if '"type": "token"' in line:
                    t = loads_bounded(line)
                    tokens[t["address"].lower()] = t
                elif '"type": "acquisition"' in line:
                    chain = loads_bounded(line).get("chain_id")
        with open(src.path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                loc = f"line:{n}"
                try:
                    rec = loads_bounded(line)
                except json.JSONDecodeError as e:
                    yield self.issue(src, loc, f"not a JSON line: {e}", line)
                    continue
                yield from self.each(src, [rec], lambda r, loc=loc: self._record(src, loc, r, tokens, chain), lambda _, loc=loc: loc)

    def _record(self, src: Source, loc: str, r: dict, tokens: dict, chain) -> Iterator[Record]:
        ts = datetime.fromtimestamp(int(r["timestamp"]), UTC) if "timestamp" in r else None
        if r.get("type") == "transaction":
            ok = int(r["status"]) == 1
            value = Decimal(r["value_wei"]) / WEI
            extra = {"block": r["block"], "status": r["status"], "gas_used": r.get("gas_used"), "chain_id": chain}
            if not ok:
                extra["attempted_value"] = str(value)
            yield Transaction(
                prov=self.prov(src, loc),
                rail="ethereum",
                ts=ts,
                reference=r["hash"],
                from_account=r["from"],
                to_account=r.get("to"),
                amount=value if ok else Decimal(0),
                currency="ETH",
                status="success" if ok else "failed",
                extra=extra,
            )  # the receipt's status
        elif r.get("type") == "erc20_transfer":
            token = tokens.get(r["token"].lower(), {})
            decimals = token.get("decimals")
            amount = Decimal(r["value"]) / (Decimal(10) ** int(decimals)) if decimals is not None else Decimal(r["value"])
            extra = {
                "block": r["block"],
                "log_index": r["log_index"],
                "token_name": token.get("name"),
                "chain_id": chain,
                "decimals": decimals,
            }
            if decimals is None:
                extra["note"] = "token decimals unknown: amount is in the token's base units"
            symbol = token.get("symbol")
            if symbol and symbol.upper() == "USDT" and r["token"].lower() != TETHER_ETHEREUM:
                extra["token_warning"] = "USDT symbol on a contract that is not Tether's"
            yield Transaction(
                prov=self.prov(src, loc),
                rail="ethereum",
                ts=ts,
                reference=r["hash"],
                from_account=r["from"],
                to_account=r["to"],
                amount=amount,
                currency=symbol or r["token"],
                asset_contract=r["token"],
                status="success",  # a Transfer log exists only when the transaction did not revert
                extra={k: v for k, v in extra.items() if v is not None},
            )
        elif r.get("type") not in ("acquisition", "token", "summary"):
            yield self.issue(src, loc, f"unknown record type {r.get('type')!r}", json.dumps(r)[:500], severity="warning")
