"""The transaction ends (bank accounts, wallets, mobile-money numbers) a resolved person holds: what
`trace --from NAME` offers when it is given a person rather than an account."""

from __future__ import annotations

from ..store import CaseStore
from . import keys


def person_accounts(store: CaseStore, entity_id: str) -> list[dict]:
    """Each transaction end joined to the person, with its rail and how many transfers it is in."""
    return store.rows(
        f"""WITH ends AS (SELECT rail, from_account AS v FROM transactions WHERE from_account IS NOT NULL
                          UNION ALL SELECT rail, to_account FROM transactions WHERE to_account IS NOT NULL)
            SELECT e.v AS account, e.rail, count(*) AS transfers FROM ends e
            JOIN identifier_keys k ON k.kind = {keys.rail_kind_sql("e.rail")} AND k.value = e.v AND k.valid
            JOIN entity_members m ON m.member = 'id:' || k.node AND m.entity_id = ?
            GROUP BY ALL ORDER BY transfers DESC, e.v""",
        [entity_id],
    )
