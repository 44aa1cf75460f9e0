"""The canonical key of every identifier the case holds, as a store table the graph joins on.

Values are normalised once per distinct (kind, value), not once per row: a phone number written in
ten thousand messages is parsed once; numbers already in E.164 are checked in bulk (identifiers.phones_e164).
Transaction ends become identifiers too (a bank account, a wallet), by the rail that moved the money.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..identifiers import REGION, normalise, phones_e164
from ..model import RAIL_KIND as RAIL_KIND  # declared in model; here for keys' callers
from ..model import rail_kind_sql as rail_kind_sql
from ..store import CaseStore, to_json

# the graph label of each identifier kind
LABELS = {
    "phone": "Phone",
    "email": "Email",
    "username": "Account",
    "telegram-id": "Account",
    "whatsapp-lid": "Account",
    "bank-account": "BankAccount",
    "iban": "BankAccount",
    "eth": "Wallet",
    "tron": "Wallet",
    "btc": "Wallet",
    "nic": "NIC",
    "passport": "Passport",
    "wallet-account": "Account",
}
# kinds a person has at most one of: two different values keep two records apart
EXCLUSIVE = frozenset({"nic", "passport"})
# how a transaction end is identified, by rail


def node_key(kind: str, canonical: str) -> str:
    """The graph node id of an identifier: 'Phone:+94771234567', 'Wallet:tron:T…'."""
    label = LABELS.get(kind, "Identifier")
    return f"{label}:{kind}:{canonical}" if label in ("Wallet", "Account", "BankAccount", "Identifier") else f"{label}:{canonical}"


def refresh(store: CaseStore) -> int:
    """Add the keys of identifier values not yet keyed; returns how many were added."""
    con = store.con
    rail_kind = rail_kind_sql("rail")
    new = con.sql(f"""
        WITH seen AS (
            SELECT DISTINCT kind, value FROM identifiers
            UNION SELECT DISTINCT {rail_kind}, from_account FROM transactions WHERE from_account IS NOT NULL
            UNION SELECT DISTINCT {rail_kind}, to_account FROM transactions WHERE to_account IS NOT NULL
            UNION SELECT DISTINCT 'phone', unnest(phones) FROM contacts
            UNION SELECT DISTINCT 'email', unnest(emails) FROM contacts)
        SELECT s.kind, s.value FROM seen s ANTI JOIN identifier_keys k USING (kind, value)""").to_arrow_table()
    if not new.num_rows:
        return 0
    # numbers already written in E.164 (most of a telecom return) in bulk; the rest one distinct value at a time
    done, canonical, typ = phones_e164(pc.if_else(pc.equal(new.column("kind"), "phone"), new.column("value"), None).combine_chunks())
    fast = new.filter(pa.array(done))
    key = canonical.filter(pa.array(done))
    quick = pa.table(
        {
            "kind": fast.column("kind"),
            "value": fast.column("value"),
            "key_kind": pa.array(["phone"] * len(key), pa.string()),
            "key": key,
            "valid": pa.array(np.ones(len(key), dtype=bool)),
            # to_json({"country": REGION, "type": t}), as the one-by-one path writes it
            "detail": pc.binary_join_element_wise(f'{{"country": "{REGION}", "type": "', typ.filter(pa.array(done)), '"}', ""),
            "node": pc.binary_join_element_wise(LABELS["phone"] + ":", key, ""),
        }
    )
    rows: dict[str, list] = {"kind": [], "value": [], "key_kind": [], "key": [], "valid": [], "detail": [], "node": []}
    rest = new.filter(pa.array(~done))
    for kind, value in zip(rest.column("kind").to_pylist(), rest.column("value").to_pylist(), strict=True):
        n = normalise(kind, value)
        if kind == "phone" and not n.valid and n.kind == "phone":  # a mobile-money account that is not a phone
            n = normalise("wallet-account", value)
        for col, v in zip(
            rows, (kind, value, n.kind, n.value, n.valid, to_json(n.detail) if n.detail else None, node_key(n.kind, n.value)), strict=True
        ):
            rows[col].append(v)
    store.insert("identifier_keys", pa.concat_tables([quick, pa.table(rows, schema=quick.schema)]))
    return new.num_rows
