"""A person's accounts and payments are decided once (casegraph.accounts) and the workspace profile, its
JSON API, the portable viewer and `trace --from NAME` give the same answer (issue #19).

The demo case has the trap: a bank narration "CEFT DR M RIZWAN 8001234501" joins account 8001234501 to
Mohamed Rizwan by entity resolution, and Nuwan's message mentions it ("Rizwan ge account ekata ... 8001234501"),
but no record states the account as Rizwan's. The viewer used to count its LKR 4,500,000.00 as received by
him while the profile said no account was his."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner
from serve_helpers import client, demo_case, demo_copy  # noqa: F401 (fixtures)

from casegraph import accounts
from casegraph.case import Case
from casegraph.cli import main
from casegraph.reports import content, viewer
from casegraph.reports.redact import Redactor

ACCOUNT = "BankAccount:bank-account:8001234501"


def _viewer_db(case) -> sqlite3.Connection:
    with Case(case, read_only=True) as c:
        files = viewer.files_for(c, content.gather(c), Redactor.none())
    con = sqlite3.connect(":memory:")
    con.deserialize(viewer.read_database(files["viewer/case-data.js"]))
    con.row_factory = sqlite3.Row
    return con


def test_profile_api_and_viewer_give_a_person_the_same_accounts_and_figures(demo_case):  # noqa: F811
    db = _viewer_db(demo_case)
    with Case(demo_case, read_only=True) as c:
        people = [r["id"] for r in c.store.rows("SELECT id FROM entities WHERE kind = 'person' ORDER BY id")]
        rizwan = c.store.one("SELECT id FROM entities WHERE kind = 'person' AND label = 'Mohamed Rizwan'")[0]
        held = {p: {r["node"] for r in c.store.rows(f"SELECT node FROM {accounts.HELD} WHERE person = ?", [p])} for p in people}
    with client(demo_case, read_only=True) as (cl, _ws, _csrf):
        for p in people:
            api = cl.get(f"/api/people/{p}/accounts").json()
            money = sorted((m["direction"], m["currency"], m["transfers"], m["amount_text"], m["failed"]) for m in api["payments"])
            in_viewer = sorted(
                tuple(r)
                for r in db.execute(
                    "SELECT direction, currency, transfers, total, failed FROM person_money WHERE person = ?", [p]
                ).fetchall()
            )
            assert money == in_viewer, p
            others = sorted(o["name"] for o in api["other_accounts"])
            assert others == sorted(r[0] for r in db.execute("SELECT account FROM person_other_accounts WHERE person = ?", [p]))
            # an account listed apart is never one the person holds, so its money is never in their payments
            assert not {o["account"] for o in api["other_accounts"]} & held[p]
        # Rizwan: the narration-joined account is listed apart, with the resolution link and its records, not as his money
        api = cl.get(f"/api/people/{rizwan}/accounts").json()
        assert api["payments"] == []
        (o,) = [o for o in api["other_accounts"] if o["account"] == ACCOUNT]
        assert o["joined"] and o["messages"] == 0 and o["join"][0]["method"] == "narration" and o["join"][0]["records"]
        assert not db.execute("SELECT 1 FROM person_money WHERE person = ?", [rizwan]).fetchall()
        page = cl.get(f"/people/{rizwan}").text
        assert "8001234501" in page and "not recorded as holding" in page and "4,500,000" not in page
        # the message that mentions it was Nuwan's: for him it is an account he mentioned, with the message cited
        nuwan = [x for x in people if any(o["account"] == ACCOUNT and o["messages"] for o in accounts.not_held(_ws.store, x))]
        assert nuwan and ACCOUNT not in held[nuwan[0]]
        (m,) = [o for o in cl.get(f"/api/people/{nuwan[0]}/accounts").json()["other_accounts"] if o["account"] == ACCOUNT]
        assert m["cited"] and all(r.startswith("messages/") for r in m["cited"])
        assert "account they mentioned" in cl.get(f"/people/{nuwan[0]}").text


def test_trace_from_a_person_offers_only_accounts_they_hold(demo_copy):  # noqa: F811
    with Case(demo_copy, read_only=True) as c:
        rizwan = c.store.one("SELECT id FROM entities WHERE kind = 'person' AND label = 'Mohamed Rizwan'")[0]
        assert accounts.person_accounts(c.store, rizwan) == []
    res = CliRunner().invoke(main, ["trace", str(demo_copy), "--from", rizwan], env={"COLUMNS": "300"})
    assert res.exit_code == 1 and "holds no account" in res.output and "not recorded as theirs: 8001234501" in res.output
