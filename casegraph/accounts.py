"""A resolved person's accounts, decided in one place for the CLI, the workspace and the portable viewer.

His own: the accounts and wallets (any transaction end) he HOLDS OR USES, that is the graph's USES ties:
an identifier stated as his (holder, sender, a contact card, a holder named on a transfer), never one he
only mentioned. Only their money is his: payments() sums it.

Not his: an account he only MENTIONED in a message he sent (a MENTIONS tie), even when entity resolution
joined it to him (a bank narration naming him beside it, say). It is listed apart, with the messages that
cite it, and its money is never presented as his: a mentioned number is not a held account."""

from __future__ import annotations

from typing import Any

from .amounts import format_amount
from .model import rail_kind_sql
from .store import CaseStore, record_join

# (person, node): each person's own node and every node they use (USES); the ends whose money is theirs
HELD = "(SELECT id AS person, id AS node FROM entities WHERE kind = 'person' UNION SELECT src, dst FROM edges WHERE kind = 'USES')"
# the graph nodes that are accounts or wallets: labelled so, or an end of a transfer (mobile money: a phone)
_ACCOUNT_NODE = """(split_part({n}, ':', 1) IN ('BankAccount', 'Wallet')
                    OR EXISTS (SELECT 1 FROM edges x WHERE x.kind = 'PAID' AND x.src = {n})
                    OR EXISTS (SELECT 1 FROM edges x WHERE x.kind = 'PAID_TO' AND x.dst = {n}))"""
# (person, direction, tx): every transfer out of or into a held account, once; `mine` is HELD, maybe for one person
_FLOWS = """SELECT DISTINCT m.person, 'out' AS direction, p.dst AS tx FROM mine m JOIN edges p ON p.kind = 'PAID' AND p.src = m.node
            UNION SELECT DISTINCT m.person, 'in', q.src FROM mine m JOIN edges q ON q.kind = 'PAID_TO' AND q.dst = m.node"""
CITED = 5  # message ids carried per mentioned account (the count says how many there are)


def _who(entity_id: str | None) -> tuple[str, list[Any]]:
    return ("WHERE person = ?", [entity_id]) if entity_id is not None else ("", [])


def payments(store: CaseStore, entity_id: str | None = None) -> list[dict[str, Any]]:
    """Money in and out of the accounts and wallets each person holds or uses (HELD), per person, direction and
    currency: exact sums, failed transfers left out of the sum and counted apart. One person, or every person."""
    where, params = _who(entity_id)
    rows = store.rows(
        f"""WITH mine AS MATERIALIZED (SELECT * FROM {HELD} {where}),
                 flows AS MATERIALIZED ({_FLOWS})
            SELECT f.person, f.direction, coalesce(t.currency, '(not stated)') AS currency,
                   sum(t.amount) FILTER (WHERE t.status IS DISTINCT FROM 'failed') AS amount,
                   count(*) FILTER (WHERE t.status IS DISTINCT FROM 'failed') AS transfers,
                   count(*) FILTER (WHERE t.status = 'failed') AS failed, min(t.ts_utc) AS first_utc, max(t.ts_utc) AS last_utc
            FROM flows f JOIN transactions t ON {record_join("t", "transactions", "f.tx")}
            GROUP BY ALL ORDER BY f.person, f.direction, currency""",
        params,
    )
    for r in rows:
        r["amount_text"] = format_amount(r["amount"], r["currency"])
    return rows


def payment_records(store: CaseStore, entity_id: str | None = None) -> list[dict[str, Any]]:
    """(person, direction, transaction id) of every transfer in or out of a HELD account: the records payments() sums."""
    where, params = _who(entity_id)
    return store.rows(
        f"WITH mine AS (SELECT * FROM {HELD} {where}) {_FLOWS} ORDER BY 1, 2, 3",
        params,
    )


def not_held(store: CaseStore, entity_id: str | None = None) -> list[dict[str, Any]]:
    """The accounts and wallets tied to a person that they are NOT recorded as holding or using, per person, with
    why each is tied: mentioned in messages they sent (`messages`, the first CITED in `cited`), and/or joined to
    them by entity resolution (`joined`: the link's method, score and the records it rests on, in `join`; a bank
    narration naming them beside the number, say). Their money is not the person's: payments() leaves it out."""
    where, params = _who(entity_id)
    said_acct = _ACCOUNT_NODE.format(n="x.dst")
    member_acct = _ACCOUNT_NODE.format(n="substr(em.member, 4)")
    rows = store.rows(
        f"""WITH mine AS (SELECT * FROM {HELD} {where}),
                 said AS (SELECT m.person, x.dst AS account, count(DISTINCT s.dst) AS messages,
                                 list(DISTINCT s.dst ORDER BY s.dst)[1:{CITED}] AS cited
                          FROM mine m JOIN edges s ON s.kind = 'SENT' AND s.src = m.node
                          JOIN edges x ON x.kind = 'MENTIONS' AND x.src = s.dst WHERE {said_acct} GROUP BY ALL),
                 joined AS (SELECT em.entity_id AS person, substr(em.member, 4) AS account FROM entity_members em
                            WHERE starts_with(em.member, 'id:') AND em.entity_id IN (SELECT person FROM mine) AND {member_acct}),
                 tied AS (SELECT person, account FROM said UNION SELECT person, account FROM joined)
            SELECT t.person, t.account, n.name, coalesce(s.messages, 0) AS messages, coalesce(s.cited, []) AS cited,
                   j.account IS NOT NULL AS joined
            FROM tied t LEFT JOIN said s USING (person, account) LEFT JOIN joined j USING (person, account)
            LEFT JOIN nodes n ON n.id = t.account
            WHERE NOT EXISTS (SELECT 1 FROM {HELD} h WHERE h.person = t.person AND h.node = t.account)
            ORDER BY t.person, t.account""",
        params,
    )
    links = _links(store, [(r["person"], r["account"]) for r in rows if r["joined"]])
    for r in rows:
        r["join"] = links.get((r["person"], r["account"]), [])
    return rows


def _links(store: CaseStore, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The resolution links that joined each (person, account node): method, score and the records cited."""
    import json

    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if not pairs:
        return out
    for r in store.rows(
        """SELECT l.entity_id, substr(CASE WHEN list_contains(?, l.entity_id || '|' || l.a) THEN l.a ELSE l.b END, 4) AS account,
                  l.method, l.score, l.evidence FROM entity_links l
           WHERE list_contains(?, l.entity_id || '|' || l.a) OR list_contains(?, l.entity_id || '|' || l.b)
           ORDER BY 1, 2, l.method, l.a, l.b""",
        [[f"{p}|id:{a}" for p, a in pairs]] * 3,
    ):
        ev = json.loads(r["evidence"] or "{}")
        records = [x["record"] for x in ev.get("records", []) if isinstance(x, dict) and x.get("record")][:CITED]
        out.setdefault((r["entity_id"], r["account"]), []).append(
            # a name link says every field that agreed ("name and account"), as entity resolution recorded them
            {
                "method": " and ".join(ev.get("fields") or [r["method"]]),
                "score": r["score"],
                "records": records,
                "narration": ev.get("narration"),
            }
        )
    return out


def person_accounts(store: CaseStore, entity_id: str) -> list[dict]:
    """Each transaction end the person holds or uses (HELD), with its rail and how many transfers it is in:
    what `trace --from NAME` offers. An account they only mentioned is not offered (see mentioned())."""
    return store.rows(
        f"""WITH ends AS (SELECT rail, from_account AS v FROM transactions WHERE from_account IS NOT NULL
                          UNION ALL SELECT rail, to_account FROM transactions WHERE to_account IS NOT NULL)
            SELECT e.v AS account, e.rail, count(*) AS transfers FROM ends e
            JOIN identifier_keys k ON k.kind = {rail_kind_sql("e.rail")} AND k.value = e.v AND k.valid
            JOIN {HELD} h ON h.node = k.node AND h.person = ?
            GROUP BY ALL ORDER BY transfers DESC, e.v""",
        [entity_id],
    )
