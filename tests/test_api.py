"""The notebook API (issue #21): one test per public call, on one demo case; the example notebook runs."""

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import casegraph
from casegraph.api import FindingView, Person, ReadOnlyCase, Result, Source


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from casegraph.demo.run import run_demo

    root = tmp_path_factory.mktemp("api")
    run_demo(root, overwrite=True, say=lambda s: None)
    return root / "case"


@pytest.fixture
def case(demo):
    with casegraph.open(demo) as c:
        yield c


def test_open_is_read_only_by_default(case, demo):
    assert case.read_only and "read-only" in repr(case) and "HTS/2026/DEMO-01" in case._repr_html_()
    with pytest.raises(ReadOnlyCase):
        case.mark("Kasun", "witness", "statement")
    with pytest.raises(Exception, match="DELETE"):  # DuckDB itself refuses: the connection is read-only
        case.sql("DELETE FROM findings")
    before = (demo / "custody.jsonl").read_bytes()
    case.messages(), case.trace("0081234567"), case.typologies()
    assert (demo / "custody.jsonl").read_bytes() == before  # analysing writes nothing


def test_messages_filters_and_provenance(case):
    chat = case.messages(chat="Recruits Batch 7")
    assert isinstance(chat, pd.DataFrame) and len(chat) and set(chat.chat_name) == {"Recruits Batch 7"}
    assert {"exhibit_sha256", "parser", "parser_version", "locator", "ts_local", "utc_offset", "tz_basis"} <= set(chat.columns)
    assert chat.ts_utc.is_monotonic_increasing
    late = case.messages(since="2024-04-10")
    assert len(late) < len(case.messages()) and (late.ts_utc >= pd.Timestamp("2024-04-10", tz="UTC")).all()
    assert isinstance(case.messages(arrow=True), pa.Table)
    kasun = case.messages(person="Kasun")
    assert 0 < len(kasun) < len(case.messages())


def test_transactions_by_account_and_currency(case):
    lkr = case.transactions(account="0081234567", currency="LKR")
    assert len(lkr) and set(lkr.currency) == {"LKR"}
    assert ((lkr.from_account == "0081234567") | (lkr.to_account == "0081234567")).all()
    assert set(case.transactions(currency="USDT").rail) == {"tron"}


def test_findings_entities_custody(case):
    brokers = case.findings(kind="broker")
    assert len(brokers) and set(brokers.kind) == {"broker"}
    one = case.finding(brokers.id.iloc[0][:8])
    assert isinstance(one, FindingView) and one.evidence and "<h4>" in one._repr_html_()
    assert len(one.evidence_frame()) == len(one.evidence)
    assert "person" in set(case.entities().kind)
    events = case.custody()
    assert events.action.iloc[0] == "case-created" and "hash" in events.columns
    p = case.person("Kasun")
    assert isinstance(p, Person) and "victim" in p.attrs["roles"] and "Kasun" in p._repr_html_()
    assert case.counts()["messages"] == len(case.messages())


def test_sql_reads_segments(case):
    n = case.sql("SELECT count(*) AS n FROM transactions").n.iloc[0]
    assert n == len(case.transactions()) > 0


def test_source_gives_the_bytes_at_the_locator(case):
    msg = case.messages(chat="Recruits Batch 7").iloc[0]
    src = case.source(msg.id)
    assert isinstance(src, Source) and src.exhibit_sha256 == msg.exhibit_sha256 and src.locator == msg.locator
    assert msg.text.splitlines()[0][:20] in src.text  # the line itself, from inside the zip
    with pytest.raises(KeyError):
        case.source("messages/nope")


def test_graphs(case):
    g = case.party_graph()
    edges = case.party_graph(edges=True)
    assert g.number_of_edges() == len(edges) > 0
    mg = case.money_graph()
    assert mg.number_of_edges() == len(case.money_graph(edges=True)) == len(case.transactions().dropna(subset=["amount"]))


def test_trace_path_typologies_match_the_cli(case):
    from casegraph.finance.trace import to_findings, trace
    from casegraph.graph.resolve import link_basis, transaction_links

    r = case.trace("0081234567")
    assert isinstance(r, Result) and len(r.frame) > 0 and len(r.findings) > 0  # unnamed payees grouped into one finding
    links = transaction_links(case.store)
    _, cli = to_findings(
        trace(
            case.store,
            "0081234567",
            model="haircut",
            links=links,  # the CLI's defaults
            link_basis=link_basis(case.store, links),
        ),
        case.store,
    )
    assert [f.id for f in r.findings] == [f.id for f in cli]
    hops = case.path("Kasun", "0081234567")
    assert len(hops.frame) >= 1
    ty = case.typologies()
    assert "structuring" in set(ty.frame.kind)


def test_writes_go_through_the_logged_library_steps(demo, tmp_path):
    import shutil

    copy = tmp_path / "case"
    shutil.copytree(demo, copy)
    for p in copy.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    with casegraph.open(copy, examiner="IP Test") as c:
        assert not c.read_only
        c.mark("Kasun", "witness", "statement of 22 April 2024")
        digest = c.save_findings(c.typologies(), {"note": "from a notebook"})
    events = [json.loads(l) for l in (copy / "custody.jsonl").read_text().splitlines()]  # noqa: E741
    assert [e["action"] for e in events[-3:]] == ["entities-mark", "resolve", "api-findings"]
    assert events[-1]["outputs"][0]["sha256"] == digest and events[-3]["actor"] == "IP Test"


def test_the_example_notebook_runs(demo):
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).parent.parent / "examples" / "case_walkthrough.ipynb"
    nb = nbformat.read(path, as_version=4)
    import os

    os.environ["CASEGRAPH_DEMO"] = str(demo.parent)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        del os.environ["CASEGRAPH_DEMO"]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the money graph was drawn


def test_source_cuts_a_statement_row(case):
    """row:N is the N-th record after the header the parser found: the demo statement's deposits."""
    t = case.transactions(account="0081234567", currency="LKR")
    deposit = t[t.locator == "row:17"].iloc[0]
    src = case.source(deposit.id)
    assert "972,000.00" in src.text or "972000" in src.text.replace(",", "")
    assert "CASH DEPOSIT KOLLUPITIYA BR" in src.text and src.text.count("\n") == 1
