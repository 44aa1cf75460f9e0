"""Bitcoin transactions as Esplora (Blockstream / mempool.space API) JSON: one tx object or a list.

A UTXO transaction is kept as it is: each input flows into the transaction (`btc-tx:<txid>`) and
the transaction flows to each output. Nothing is apportioned by assumption: which input paid
which output is a taint model's question (finance.trace), and the fee stays visible as the part
that flows in and not out. Amounts are exact BTC (satoshis / 10^8).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from ..model import Record, Transaction
from . import register
from .base import Parser, Probe, Source
from .jsonstream import PROBLEM, walk

SATS = Decimal(100_000_000)


def tx_node(txid: str) -> str:
    return f"btc-tx:{txid}"


@register
class BitcoinEsplora(Parser):
    name = "bitcoin-esplora"
    version = "1.0"
    reads = "Bitcoin transactions as Esplora JSON: inputs → transaction → outputs, fee visible"
    locators = "`json:/0/vin/1`"
    section = "money"
    references = ("Blockstream/esplora API.md (the transaction format: txid, vin[].prevout, vout[], status)",)
    description = "Bitcoin transactions as Esplora JSON (inputs, outputs, block time)"

    def sniff(self, probe: Probe) -> float:
        t = probe.text.lstrip()[:4096]
        return 0.95 if t[:1] in "[{" and '"txid"' in t and '"vin"' in t and '"vout"' in t else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        with open(src.path, "rb") as f:
            first = f.read(64).lstrip()[:1]
        targets = {"item": "tx"} if first == b"[" else {"": "tx"}
        with open(src.path, "rb") as f:
            try:
                for kind, pointer, tx in walk(f, targets):
                    loc = f"json:{pointer or '/'}"
                    if kind == PROBLEM:
                        yield self.issue(src, loc, f"{src.name}: {tx}")
                        continue
                    yield from self.each(src, [tx], lambda t, loc=loc: self._tx(src, loc, t), lambda _, loc=loc: loc)
            except Exception as e:  # truncated or not JSON: keep what was read
                yield self.issue(src, "json:", f"{src.name}: JSON unreadable after the records above: {type(e).__name__}: {e}")

    def _tx(self, src: Source, loc: str, tx: dict) -> Iterator[Record]:
        txid = tx["txid"]
        status = tx.get("status") or {}
        ts = datetime.fromtimestamp(int(status["block_time"]), UTC) if status.get("block_time") else None
        base = {
            "txid": txid,
            "block_height": status.get("block_height"),
            "confirmed": status.get("confirmed"),
            "fee_btc": str(Decimal(tx["fee"]) / SATS) if tx.get("fee") is not None else None,
        }
        base = {k: v for k, v in base.items() if v is not None}
        for i, vin in enumerate(tx.get("vin") or []):
            prev = vin.get("prevout") or {}
            if vin.get("is_coinbase"):
                continue
            yield Transaction(
                prov=self.prov(src, f"{loc}/vin/{i}"),
                rail="bitcoin",
                ts=ts,
                reference=txid,
                from_account=prev.get("scriptpubkey_address"),
                to_account=tx_node(txid),
                amount=Decimal(prev["value"]) / SATS if prev.get("value") is not None else None,
                currency="BTC",
                extra={**base, "leg": f"in:{i}", "spent_txid": vin.get("txid"), "spent_vout": vin.get("vout")},
            )
        for j, vout in enumerate(tx.get("vout") or []):
            yield Transaction(
                prov=self.prov(src, f"{loc}/vout/{j}"),
                rail="bitcoin",
                ts=ts,
                reference=txid,
                from_account=tx_node(txid),
                to_account=vout.get("scriptpubkey_address"),
                amount=Decimal(vout["value"]) / SATS,
                currency="BTC",
                extra={**base, "leg": f"out:{j}", "script_type": vout.get("scriptpubkey_type")},
            )
