"""TRON: Tether's USDT contract, and whether a contract is it. Address codecs live with the other
identifiers, in casegraph/identifiers."""

from __future__ import annotations

from ..identifiers import tron_from_hex, tron_to_hex
from ..model import USDT_CONTRACTS

USDT_TRC20 = USDT_CONTRACTS["tron"]  # Tether's USDT contract on TRON
to_hex, from_hex = tron_to_hex, tron_from_hex


def is_genuine_usdt(contract: str | None) -> bool:
    if not contract:
        return False
    try:
        return (contract if contract.startswith("T") else from_hex(contract)) == USDT_TRC20
    except ValueError:
        return False
