"""TRON addresses: base58check `T…` and hex `41…` are one address written two ways."""
from __future__ import annotations

import base58

PREFIX = b"\x41"
USDT_TRC20 = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # Tether's USDT contract on TRON


def to_hex(address: str) -> str:
    """'T…' → '41…' (21 bytes: 0x41 + 20-byte account). Raises ValueError on a bad checksum."""
    raw = base58.b58decode_check(address)
    if len(raw) != 21 or raw[:1] != PREFIX:
        raise ValueError(f"not a TRON address: {address!r}")
    return raw.hex()


def from_hex(address: str) -> str:
    """'41…' (or '0x…' with the 20-byte account, as EVM tools print it) → 'T…'."""
    h = address.lower().removeprefix("0x")
    if len(h) == 40:
        h = "41" + h
    raw = bytes.fromhex(h)
    if len(raw) != 21 or raw[:1] != PREFIX:
        raise ValueError(f"not a TRON hex address: {address!r}")
    return base58.b58encode_check(raw).decode()


def is_genuine_usdt(contract: str | None) -> bool:
    if not contract:
        return False
    try:
        return (contract if contract.startswith("T") else from_hex(contract)) == USDT_TRC20
    except ValueError:
        return False
