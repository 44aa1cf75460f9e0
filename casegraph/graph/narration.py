"""Bank narrations that name the counterparty, as evidence for entity resolution.

A statement row reads "CEFT DR M RIZWAN 8001234501": a CEFT transfer out (DR) to M RIZWAN, account
8001234501. The bank wrote the name of the holder of the other end; it says who holds that account as
much as a holder name beside it does. `counterparty` reads such a narration; `links` proposes joining
the account to the one person whose name agrees with it (names.similarity at or above the automatic
threshold), citing every transaction with that narration by its locator.

Read only when the narration names the account number and that number is the transaction's other end:
a name alone, or a number that is not an end of the row, proves nothing about an account.
Shapes: Sri Lankan statement narrations, a rail, a direction, the name, the account number:
"CEFT DR NAME 8001234501", "CEFT CR NAME 8001234501", "SLIPS CR NAME 1234567890", "IB TRF TO NAME 0081234567",
"IB TRF FROM NAME ...", "FT TO NAME ...", "LANKAPAY TO NAME ..." (the demo statement and the README).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from ..store import CaseStore
from . import keys
from .names import parse, similarity

# rail (CEFT, SLIPS, internet banking, fund transfer ...), direction, name, account number
_NARRATION = re.compile(
    r"""^\s*(?P<rail>CEFTS?|SLIPS?|IB\s*TRF|IBT|IB|FT|FUND\s*TRF|FUND\s*TRANSFER|ONLINE\s*TRF|MOB(?:ILE)?\s*TRF|TRF|LANKAPAY|JUSTPAY|LPAY)
        [\s/:-]+(?P<dir>DR|CR|TO|FROM)[\s/:-]+
        (?P<name>[A-Z][A-Z.'\s]*?[A-Z.])\s*[:/-]?\s*
        (?P<account>\d[\d\s-]{5,22}\d)\b""",
    re.IGNORECASE | re.VERBOSE,
)
_OUT = ("DR", "TO")  # the named party received the money: it is the row's `to` end


@dataclass(frozen=True)
class NarrationLink:
    """Join the account member `a` to the person member `b`; `identifier` is the account's (kind, key)."""

    a: str
    b: str
    score: float
    evidence: dict
    identifier: tuple[str, str]

    @property
    def records(self) -> list[dict]:
        return self.evidence["records"]


@dataclass(frozen=True)
class Counterparty:
    name: str
    account: str  # digits only
    side: str  # "to" or "from": the transaction end the narration names


def counterparty(narration: str | None) -> Counterparty | None:
    """The counterparty a narration names with its account number, or None."""
    m = _NARRATION.match(narration or "")
    if not m:
        return None
    name = " ".join(m["name"].split())
    if len(name.replace(".", "").replace(" ", "")) < 2:
        return None
    side = "to" if m["dir"].upper() in _OUT else "from"
    return Counterparty(name, re.sub(r"\D", "", m["account"]), side)


def links(store: CaseStore, member_names: dict[str, list[str]], auto: float) -> list[NarrationLink]:
    """Links from an account member (`id:<node key>`) to the person member whose names agree with the name
    a narration gives for that account (`member_names`: each member's names), with evidence citing the
    transactions. The account need not be a member yet: resolution adds it, with its identifier."""
    rk = keys.rail_kind_sql("t.rail")
    named: dict[tuple[str, str], list[dict]] = defaultdict(list)
    idents: dict[str, tuple[str, str]] = {}
    for r in store.rows(f"""
        SELECT t.id, t.description, t.from_account, t.to_account, t.locator, t.exhibit_sha256, kf.key_kind AS fk, kf.key AS fkey,
               kt.key_kind AS tk, kt.key AS tkey
        FROM transactions t
        LEFT JOIN identifier_keys kf ON kf.kind = {rk} AND kf.value = t.from_account AND kf.valid
        LEFT JOIN identifier_keys kt ON kt.kind = {rk} AND kt.value = t.to_account AND kt.valid
        WHERE regexp_matches(t.description, '\\d{{6}}') ORDER BY t.exhibit_sha256, t.locator"""):
        cp = counterparty(r["description"])
        if cp is None:
            continue
        end, kind, key = (r["to_account"], r["tk"], r["tkey"]) if cp.side == "to" else (r["from_account"], r["fk"], r["fkey"])
        if key is None or re.sub(r"\D", "", end or "") != cp.account:
            continue  # the number is not the row's other end: it says nothing about that end's holder
        rec = {"record": r["id"], "table": "transactions", "locator": r["locator"], "exhibit_sha256": r["exhibit_sha256"]}
        member = "id:" + keys.node_key(kind, key)
        idents[member] = (kind, key)
        named[(member, cp.name)].append({**rec, "narration": r["description"]})
    by_word: dict[str, set[str]] = defaultdict(set)  # blocking: only members sharing a word of the name are scored
    if named:
        for member, names in member_names.items():
            for n in names:
                for k in parse(n).keys:
                    by_word[k].add(member)
    out = []
    for (account, name), records in sorted(named.items()):
        scored = []
        near = set().union(*(by_word.get(k, set()) for k in parse(name).keys))
        for member in sorted(near):
            names = member_names[member]
            if member == account:
                continue
            best = max((similarity(name, n) for n in names), key=lambda s: s.score)
            if best.score >= auto:
                scored.append((best.score, member, best, max(names, key=lambda n: similarity(name, n).score)))
        scored.sort(key=lambda x: (-x[0], x[1]))
        if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0] and scored[1][3] != scored[0][3]):
            continue  # nobody, or two differently named people alike: the narration does not say which
        score, member, sim, matched = scored[0]
        out.append(
            NarrationLink(
                account,
                member,
                score,
                {
                    "narration": records[0]["narration"],
                    "named": name,
                    "names": [name, matched],
                    "reasons": list(sim.reasons),
                    "records": [{k: v for k, v in x.items() if k != "narration"} for x in records[:20]],
                    "transactions": len(records),
                },
                idents[account],
            )
        )
    return out
