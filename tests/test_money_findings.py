"""How money is told: per currency, failed transfers left out and said, figures that are the sums of the records
cited, real time ranges, unnamed payees grouped by channel, crossings that cite their basis, conversion only
with a rate table taken into evidence.

Shapes: the multi-currency wallet mirrors the issue's real Etherscan wallet (4 ETH received, 29.9 ETH of
transfers with Status "Error(0)", 127.478 REP and 12,712.568694 USDC as ERC-20 transfers; Etherscan's normal
export header "Txhash","Blockno","UnixTimestamp",...,"Status","ErrCode","Method", as in
tests/fixtures/finance/etherscan_normal.csv). The statement rows mirror tests/fixtures/finance/boc_statement.csv
(date-only rows, narrations "POS KEELLS SUPER", "DIALOG BILL PAYMENT", "ATM WDL", "CEFT DR ..."). The rate
tables follow the examiner's format (date, from, to, rate, source) in the two shapes CBSL-derived CSVs take:
ISO dates with a comma separator, and a semicolon file with day-first dates and decimal commas.
"""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from casegraph.finance.flows import FAILED
from casegraph.finance.rates import RateTable
from casegraph.finance.trace import examiner_link_basis, to_findings, trace
from casegraph.findings import check_figures
from casegraph.model import Provenance, Transaction
from casegraph.parsers import rate_table
from casegraph.store import CaseStore, TimeNormaliser

T0 = datetime(2024, 4, 19, 9, 30, tzinfo=UTC)
FIN = Path(__file__).parent / "fixtures" / "finance"
O, W = "0x52908400098527886e0f7030069857d2e4169ee7", "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"  # noqa: E741


def tx(i, frm, to, amount, currency, hours=0, *, status=None, rail="ethereum", ts=None, description=None, sha="ab"):
    return Transaction(
        prov=Provenance(sha * 32, "test", "1", f"row:{i}"),
        rail=rail,
        from_account=frm,
        to_account=to,
        amount=Decimal(amount),
        currency=currency,
        ts=ts if ts is not None else T0 + timedelta(hours=hours),
        status=status,
        description=description,
    )


def problems(store, findings):
    return {f.title: p for f in findings if (p := check_figures(store, f.kind, f.title, f.summary, f.evidence, f.attrs))}


def by_subject(findings):
    return {f.subject: f for f in findings}


@pytest.fixture
def wallet(tmp_path):
    s = CaseStore(tmp_path / "w.duckdb")
    s.write(
        [
            tx(1, O, W, "1.5", "ETH", 1, status="success"),
            tx(2, O, W, "2.5", "ETH", 2),
            tx(3, O, W, "29.9", "ETH", 3, status="failed"),  # Error(0): no value moved
            tx(4, O, W, "127.478", "REP", 4),
            tx(5, O, W, "12712.568694", "USDC", 5),
            tx(6, "0xclean", "0xnext", "5", "ETH", 5.5),  # clean ETH into the next wallet
            tx(7, W, "0xnext", "1000", "USDC", 6),
            tx(8, "0xnext", "0xlast", "500", "USDC", 7),
            Transaction(
                prov=Provenance("ab" * 32, "test", "1", "row:9"),
                rail="ethereum",
                from_account=O,
                to_account=W,
                amount=Decimal("0.25"),
                currency="ETH",
            ),
        ]
    )  # no time: cannot be placed
    yield s
    s.close()


def test_sums_are_per_currency_and_failed_transfers_are_left_out_and_said(wallet):
    r = trace(wallet, O, model="haircut")
    reached = {x.account: x for x in r.reached}
    assert reached[W].received == {"ETH": Decimal(4), "REP": Decimal("127.478"), "USDC": Decimal("12712.568694")}
    assert r.skipped[FAILED].count == 1 and r.skipped[FAILED].totals == {"ETH": Decimal("29.9")}
    assert r.skipped["transfer(s) with no time"].totals == {"ETH": Decimal("0.25")}
    # each currency is its own pool: the clean ETH in 0xnext does not dilute its tainted USDC
    assert reached["0xlast"].tainted == {"USDC": Decimal(500)}
    _, found = to_findings(r, wallet)
    f = by_subject(found)[W]
    assert "ETH 4.00, REP 127.478 and USDC 12,712.568694" in f.summary and "12873" not in f.summary
    left = by_subject(found)["left-out"]  # what the trace did not follow is said, cited and totalled per currency
    assert "1 failed transfer(s) (no value moved), ETH 29.90; 1 transfer(s) with no time, ETH 0.25" in left.summary
    assert {e["locator"] for e in left.evidence} == {"row:3", "row:9"}
    assert problems(wallet, found) == {}
    assert {e["locator"] for e in f.evidence} == {"row:1", "row:2", "row:4", "row:5"}  # never the failed row:3

    with_failed = {x.account: x for x in trace(wallet, O, model="haircut", include_failed=True).reached}
    assert with_failed[W].received["ETH"] == Decimal("33.9")


def test_every_model_gives_figures_equal_to_what_they_cite(wallet):
    for model in ("poison", "haircut", "fifo"):
        for backward, origin in ((False, O), (True, "0xlast")):
            _, found = to_findings(trace(wallet, origin, model=model, backward=backward), wallet)
            assert found and problems(wallet, found) == {}, (model, backward)


@pytest.fixture
def statement(tmp_path):
    """A recruiter's statement: dates only; three transfers to the mule; card, bill and ATM payments."""
    s = CaseStore(tmp_path / "s.duckdb", TimeNormaliser(ZoneInfo("Asia/Colombo"), "Asia/Colombo"))
    d = lambda day: date(2024, 4, day)  # noqa: E731
    s.write(
        [
            tx(1, "V1", "0081234567", "450000", "LKR", rail="bank", ts=d(8), description="CEFT CR"),
            tx(27, "0081234567", "8001234501", "1500000", "LKR", rail="bank", ts=d(16), description="CEFT DR M RIZWAN 8001234501"),
            tx(31, "0081234567", "8001234501", "1500000", "LKR", rail="bank", ts=d(17), description="CEFT DR M RIZWAN 8001234501"),
            tx(32, "0081234567", "8001234501", "1500000", "LKR", rail="bank", ts=d(18), description="CEFT DR M RIZWAN 8001234501"),
            tx(40, "0081234567", None, "15816", "LKR", rail="bank", ts=d(10), description="POS KEELLS SUPER"),
            tx(41, "0081234567", None, "26915", "LKR", rail="bank", ts=d(10), description="POS KEELLS SUPER"),
            tx(42, "0081234567", None, "40355", "LKR", rail="bank", ts=d(19), description="DIALOG BILL PAYMENT"),
            tx(43, "0081234567", None, "27405", "LKR", rail="bank", ts=d(22), description="ATM WDL"),
        ]
    )
    yield s
    s.close()


def test_a_trace_finding_cites_every_transfer_its_figures_add_up(statement):
    _, found = to_findings(trace(statement, "0081234567", model="haircut"), statement)
    f = by_subject(found)["8001234501"]
    assert [e["locator"] for e in f.evidence] == ["row:27", "row:31", "row:32"]
    received = [x for x in f.attrs["figures"] if x["name"] == "received"]
    assert received == [
        {
            "name": "received",
            "currency": "LKR",
            "amount": "4500000.000000000000000000",
            "records": sorted(e["record"] for e in f.evidence),
            "rule": "sum",
        }
    ]
    assert (
        "In all the case's records, 8001234501 received LKR 4,500,000.00 in 3 transfers between 2024-04-16 and 2024-04-18 (dates only)"
    ) in f.summary
    assert "LKR 1,500,000.00 on 2024-04-16 (date only)" in f.summary  # a date stays a date; no invented 18:30
    assert problems(statement, found) == {}


def test_payments_to_unnamed_payees_are_one_finding_per_account_by_channel(statement):
    _, found = to_findings(trace(statement, "0081234567", model="haircut"), statement)
    assert len(found) == 2  # the mule's account, and one summary of the spending
    spent = by_subject(found)["unnamed:0081234567"]
    assert "card payments at merchants: 2 transfers, LKR 42,731.00 (POS KEELLS SUPER ×2)" in spent.summary
    assert "bill payments: 1 transfer, LKR 40,355.00 (DIALOG BILL PAYMENT)" in spent.summary
    assert "ATM withdrawals: 1 transfer, LKR 27,405.00 (ATM WDL)" in spent.summary
    assert "between 2024-04-10 and 2024-04-22 (dates only)" in spent.summary
    for f in found:  # internal ids never reach the prose
        assert "?unknown" not in f.title + f.summary and "transactions/" not in f.title + f.summary
    assert problems(statement, found) == {}


def test_a_crossing_cites_the_decision_it_rests_on(tmp_path):
    s = CaseStore(tmp_path / "x.duckdb")
    wallet, other = "TPMa5grKsN4jV67jYLyQ3zjSuudofowkqF", "TET8J56maUaAbx2T6vBNtyhbu39QHukgQF"
    s.write(
        [tx(1, "V1", "0081234567", "450000", "LKR", 1, rail="bank"), tx(2, wallet, other, "1414.024284", "USDT", 30, rail="tron", sha="cd")]
    )
    links = {wallet: "0081234567"}
    basis = examiner_link_basis(links, "IP Perera", "trace --link")
    _, found = to_findings(trace(s, "V1", links=links, link_basis=basis), s)
    f = by_subject(found)[other]
    assert "0081234567 = TPMa5grKsN4jV67jYLyQ3zjSuudofowkqF → TET8J56maUaAbx2T6vBNtyhbu39QHukgQF" in f.summary
    assert {
        "table": "examiner-decision",
        "record": f"link {wallet} = 0081234567",
        "locator": "trace --link",
        "actor": "IP Perera",
        "note": "the examiner stated that both ends are one holder's",
    } in f.evidence
    assert problems(s, found) == {}
    s.close()


def test_resolution_links_are_cited_with_their_evidence(tmp_path):
    from casegraph.graph import keys
    from casegraph.graph.resolve import link_basis, transaction_links

    wallet = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    s = CaseStore(tmp_path / "r.duckdb")
    s.write(
        [
            tx(1, "V1", "8001234501", "450000", "LKR", 1, rail="bank"),
            tx(2, wallet, "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "1200", "USDT", 30, rail="tron", sha="cd"),
        ]
    )
    keys.refresh(s)
    nodes = dict(s.con.execute("SELECT value, node FROM identifier_keys").fetchall())
    s.con.execute(
        "INSERT INTO entity_members VALUES ('person:r', ?), ('person:r', ?)", ["id:" + nodes["8001234501"], "id:" + nodes[wallet]]
    )
    s.con.execute(
        "INSERT INTO entity_links VALUES ('person:r', ?, ?, 'identifier', 1.0, ?)",
        ["id:" + nodes["8001234501"], "id:" + nodes[wallet], json.dumps({"records": [{"record": "msg:1"}]})],
    )
    links = transaction_links(s)
    _, found = to_findings(trace(s, "V1", links=links, link_basis=link_basis(s, links)), s)
    f = by_subject(found)["TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"]
    linked = [e for e in f.evidence if e["table"] == "entity_links"]
    assert len(linked) == 1 and linked[0]["evidence"] == [{"record": "msg:1"}] and "8001234501 = " in f.summary
    s.close()


def test_rate_tables_in_both_shapes():
    iso, issues = rate_table.parse(FIN / "rates_cbsl_iso.csv", "ee" * 32)
    assert [(r.day, r.base, r.rate, r.prov.locator) for r in iso] == [
        (date(2024, 4, 19), "USDT", Decimal("300.12"), "line:2"),
        (date(2024, 4, 22), "USDT", Decimal("301.50"), "line:3"),
        (date(2024, 4, 22), "ETH", Decimal("955000.00"), "line:4"),
    ]
    assert [i.prov.locator for i in issues] == ["line:5"] and "not a date" in issues[0].message
    semi, issues = rate_table.parse(FIN / "rates_semicolon_dayfirst.csv", "ef" * 32)
    assert [(r.day, r.base, r.quote, r.rate) for r in semi] == [
        (date(2024, 4, 19), "USDT", "LKR", Decimal("300.12")),
        (date(2024, 4, 22), "USDT", "LKR", Decimal("301.5")),
    ]
    assert [i.prov.locator for i in issues] == ["line:4"]  # a negative rate is an issue, not a rate


def test_conversion_only_with_a_rate_table_and_every_converted_figure_cites_its_rate(tmp_path):
    s = CaseStore(tmp_path / "c.duckdb")
    s.write(
        [
            tx(1, "TPMa", "TET8", "1000", "USDT", 0, rail="tron"),  # 2024-04-19: rate of that day
            tx(2, "TPMa", "TET8", "10", "USDT", 24 * 3, rail="tron"),  # 2024-04-22
            tx(3, "TPMa", "TET8", "7", "USDT", 24 * 20, rail="tron"),
        ]
    )  # 2024-05-09: no rate within 7 days
    _, plain = to_findings(trace(s, "TPMa"), s)
    assert "LKR" not in plain[0].summary  # nothing converted without a table
    rates, _ = rate_table.parse(FIN / "rates_cbsl_iso.csv", "ee" * 32)
    _, found = to_findings(trace(s, "TPMa"), s, RateTable(rates))
    f = found[0]
    conv = [x for x in f.attrs["figures"] if x["rule"] == "converted"]
    # 1000×300.12 + 10×301.50; under poison the tainted part is a sum of cited transfers too, so it converts alike
    assert [(x["name"], x["amount"]) for x in conv] == [("received in LKR", "303135.00"), ("tainted in LKR", "303135.00")]
    assert {e["locator"] for e in f.evidence if e["table"] == "exchange-rates"} == {"line:2", "line:3"}
    assert "USDT 7.00 of received in 1 transfer has no rate" in f.summary
    assert problems(s, found) == {}
    conv[0]["conversions"][0]["rate"] = "310"  # a figure that does not follow from its cited rate is caught
    assert problems(s, found)
    s.close()


# ---- every finding kind the project writes: each figure is the sum of the records it cites -----------------
TYPOLOGY_KINDS = {"structuring", "fan-in", "fan-out", "cycle", "scatter-gather", "gather-scatter", "pass-through", "bipartite", "stack"}


@pytest.fixture(scope="module")
def all_findings(tmp_path_factory):
    """The demo case (trace, typologies, graph analyses, indicators) plus a synthetic ledger with every typology,
    traced forward and backward under each model."""
    from casegraph.case import Case
    from casegraph.demo.run import run_demo
    from casegraph.finance import synthetic
    from casegraph.finance.typologies import Settings, detect

    root = tmp_path_factory.mktemp("kinds")
    run_demo(root / "demo", say=lambda _: None)
    out = []
    with Case(root / "demo" / "case") as c:
        for r in c.store.rows("SELECT kind, title, summary, evidence, attrs FROM findings"):
            out.append(
                (
                    r["kind"],
                    r["title"],
                    r["summary"],
                    json.loads(r["evidence"]),
                    json.loads(r["attrs"] or "{}"),
                    check_figures(c.store, r["kind"], r["title"], r["summary"], json.loads(r["evidence"]), json.loads(r["attrs"] or "{}")),
                )
            )
    s = CaseStore(root / "synthetic.duckdb")
    ledger = synthetic.generate(seed=3, accounts=200, background=1500, per_typology=2)
    s.write(ledger.transactions)
    found = detect(s, Settings(fan_count=4))
    start = next(p for p in ledger.planted if p.typology == "fan-out")
    for model in ("poison", "haircut", "fifo"):
        for backward in (False, True):
            found += to_findings(trace(s, sorted(start.keys)[0], model=model, backward=backward, hops=4), s)[1]
    out += [
        (f.kind, f.title, f.summary, f.evidence, f.attrs, check_figures(s, f.kind, f.title, f.summary, f.evidence, f.attrs)) for f in found
    ]
    s.close()
    return out


def _kinds():
    return ["money-trace", *sorted(TYPOLOGY_KINDS), "graph-and-indicators"]


@pytest.mark.parametrize("kind", _kinds())
def test_every_figure_of_every_finding_kind_is_the_sum_of_what_it_cites(all_findings, kind):
    chosen = [x for x in all_findings if (x[0] == kind if kind != "graph-and-indicators" else x[0] not in TYPOLOGY_KINDS | {"money-trace"})]
    assert chosen, f"no {kind} finding was produced"
    if kind in TYPOLOGY_KINDS:  # every amount a typology prints is a figure: nothing passes for want of figures
        assert all(any(f["rule"] == "sum" for f in attrs["figures"]) for _, _, _, _, attrs, _ in chosen)
    bad = {title: p for _, title, _, _, _, p in chosen if p}
    assert bad == {}


def test_typology_figures_are_the_cited_sums_and_the_settings_the_prose_states(tmp_path):
    """Structuring prints its threshold and band in LKR; pass-through sums what came in and what went out apart."""
    from casegraph.finance import synthetic
    from casegraph.finance.typologies import Settings, detect

    s = CaseStore(tmp_path / "t.duckdb")
    s.write(synthetic.generate(seed=3, accounts=200, background=1500, per_typology=2).transactions)
    found = {f.kind: f for f in detect(s, Settings(fan_count=4), only=("structuring", "pass-through"))}
    figs = {x["name"]: x for x in found["structuring"].attrs["figures"]}
    assert (figs["threshold"]["currency"], figs["threshold"]["amount"], figs["threshold"]["rule"]) == ("LKR", "1000000", "setting")
    assert (figs["days"]["unit"], figs["days"]["amount"]) == ("days", "7")  # a window is a setting with its unit, never an amount
    passing = found["pass-through"]
    sides = {x["name"]: x for x in passing.attrs["figures"] if x["rule"] == "sum"}
    assert set(sides) == {"in", "out"} and not set(sides["in"]["records"]) & set(sides["out"]["records"])
    assert problems(s, list(found.values())) == {}
    sides["in"]["amount"] = str(Decimal(sides["in"]["amount"]) + 1)  # a figure that is not its records' sum is caught
    assert problems(s, [passing])
    s.close()


def test_typologies_on_a_date_only_statement_show_its_dates_not_invented_times(tmp_path):
    """Cash deposits as a BOC statement lists them (dates only, boc_statement.csv): the finding gives the statement's
    dates, never the start of the local day in UTC (2024-04-07 18:30 for 2024-04-08), and does not claim an order
    within a day that the records do not state."""
    from casegraph.finance.typologies import detect

    s = CaseStore(tmp_path / "d.duckdb", TimeNormaliser(ZoneInfo("Asia/Colombo"), "Asia/Colombo"))
    s.write(
        [
            tx(i, None, "0081234567", v, "LKR", rail="bank", ts=date(2024, 4, d), description="CASH DEPOSIT")
            for i, (d, v) in enumerate(((8, "950000"), (10, "985000"), (12, "990000")), 1)
        ]
        + [
            tx(10 + i, a, b, "500000", "LKR", rail="bank", ts=date(2024, 5, 2), description="CEFT")
            for i, (a, b) in enumerate((("R1", "R2"), ("R2", "R3"), ("R3", "R1")))
        ]
    )
    found = {f.kind: f for f in detect(s)}
    assert "between 2024-04-08 and 2024-04-12 (dates only)" in found["structuring"].summary
    assert "18:30" not in found["structuring"].summary + found["cycle"].summary
    assert "on 2024-05-02 (date only)" in found["cycle"].summary and "the order within a day is not stated" in found["cycle"].summary
    s.close()
