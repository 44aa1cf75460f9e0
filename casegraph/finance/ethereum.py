"""Reading Ethereum through web3: native transfers and ERC-20 Transfer logs, as an acquisition file.

A chain is not a file, so what the node answered is written down first: one JSON line per block
header, transaction, receipt status, Transfer log and token (symbol, decimals, name), with the
query and the node's identity. That file is taken into evidence like any other exhibit (hashed,
stored read-only, logged) and parsed by `eth-acquisition`, so every transfer keeps a locator in
bytes that can be re-checked against the chain by anyone with a node.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_ERC20_META = [
    {"name": "symbol", "inputs": [], "outputs": [{"type": "string", "name": ""}], "stateMutability": "view", "type": "function"},
    {"name": "decimals", "inputs": [], "outputs": [{"type": "uint8", "name": ""}], "stateMutability": "view", "type": "function"},
    {"name": "name", "inputs": [], "outputs": [{"type": "string", "name": ""}], "stateMutability": "view", "type": "function"},
]


def _hex(v) -> str:
    return v.to_0x_hex() if hasattr(v, "to_0x_hex") else (v if isinstance(v, str) else "0x" + bytes(v).hex())


def _topic_address(addr: str) -> str:
    return "0x" + "0" * 24 + addr.lower().removeprefix("0x")


def acquire(w3, addresses: list[str], from_block: int, to_block: int, out: Path, *, note: str = "") -> dict:
    """Write everything the node says about `addresses` in [from_block, to_block] to `out` (JSON lines).
    Returns the summary line. Native transfers need a block walk; ERC-20 transfers come from logs."""
    from ..extras import need

    Web3 = need("web3", "eth", "acquire-eth").Web3
    wanted = {Web3.to_checksum_address(a) for a in addresses}
    head = {
        "type": "acquisition",
        "chain_id": w3.eth.chain_id,
        "client": w3.client_version,
        "from_block": from_block,
        "to_block": to_block,
        "addresses": sorted(wanted),
        "acquired_at": datetime.now(UTC).isoformat(),
        "note": note,
        "tool": "web3 " + __import__("web3").__version__,
    }
    counts = {"transactions": 0, "logs": 0, "tokens": 0}
    times: dict[int, int] = {}
    tokens: set[str] = set()
    with open(out, "w", encoding="utf-8") as f:
        write = lambda rec: f.write(json.dumps(rec, sort_keys=True) + "\n")  # noqa: E731
        write(head)
        for n in range(from_block, to_block + 1):
            block = w3.eth.get_block(n, full_transactions=True)
            times[n] = int(block["timestamp"])
            for tx in block["transactions"]:
                frm, to = tx["from"], tx.get("to")
                if tx["value"] == 0 or (frm not in wanted and to not in wanted):
                    continue
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                write(
                    {
                        "type": "transaction",
                        "block": n,
                        "timestamp": times[n],
                        "hash": _hex(tx["hash"]),
                        "from": frm,
                        "to": to,
                        "value_wei": str(tx["value"]),
                        "status": int(receipt["status"]),
                        "gas_used": int(receipt["gasUsed"]),
                        "index": int(receipt["transactionIndex"]),
                    }
                )
                counts["transactions"] += 1
        for side in (1, 2):  # logs where an address sent, then where it received
            for addr in sorted(wanted):
                topics = [TRANSFER_TOPIC, None, None]
                topics[side] = _topic_address(addr)
                for log in w3.eth.get_logs({"fromBlock": from_block, "toBlock": to_block, "topics": topics}):
                    if len(log["topics"]) != 3:  # ERC-721 Transfer has 4 topics; not a fungible amount
                        continue
                    t = [_hex(x) for x in log["topics"]]
                    if side == 2 and "0x" + t[1][-40:] in {_topic_address(a)[-42:] for a in wanted}:
                        continue  # already written from the sender's side
                    block_n = int(log["blockNumber"])
                    write(
                        {
                            "type": "erc20_transfer",
                            "block": block_n,
                            "timestamp": times.get(block_n) or int(w3.eth.get_block(block_n)["timestamp"]),
                            "hash": _hex(log["transactionHash"]),
                            "log_index": int(log["logIndex"]),
                            "token": log["address"],
                            "from": Web3.to_checksum_address("0x" + t[1][-40:]),
                            "to": Web3.to_checksum_address("0x" + t[2][-40:]),
                            "value": str(int(_hex(log["data"]), 16)),
                        }
                    )
                    tokens.add(log["address"])
                    counts["logs"] += 1
        for token in sorted(tokens):
            c = w3.eth.contract(address=token, abi=_ERC20_META)
            meta = {}
            for fn in ("symbol", "decimals", "name"):
                try:
                    meta[fn] = getattr(c.functions, fn)().call()
                except Exception as e:  # a token without the optional metadata: say so
                    meta[fn] = None
                    meta[f"{fn}_error"] = type(e).__name__
            write({"type": "token", "address": token, **meta})
            counts["tokens"] += 1
        summary = {"type": "summary", **counts}
        write(summary)
    return summary


def records(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, json.loads(line)
