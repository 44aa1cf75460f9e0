import json
import os
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from graph_helpers import BANK_EX, GOAML_EX, contact, resolved, small_case

from casegraph.cli import main
from casegraph.graph import analysis, export, neo4j_push, resolve

LINT = Path(__file__).parents[1] / "tools" / "cypher-lint"


def person_with(store, name):
    rows = [r for r in store.rows("SELECT id, label, attrs FROM entities") if name in json.loads(r["attrs"])["names"]]
    assert len(rows) == 1, rows
    return rows[0]["id"], json.loads(rows[0]["attrs"])


def test_a_number_joins_a_contact_card_to_the_messages_sent_from_it_on_another_device(store):
    small_case(store)
    resolved(store)
    eid, attrs = person_with(store, "Nuwan Jayawardena")
    assert {"kind": "phone", "value": "+94771234567"} in attrs["identifiers"]  # "077 123 4567" and the JID are one number
    assert len(attrs["exhibits"]) == 3  # the card (P1), his messages (P2), the statement naming him (B1)
    link = store.rows("SELECT method, evidence FROM entity_links WHERE entity_id = ?", [eid])[0]
    assert link["method"] == "identifier" and json.loads(link["evidence"])["identifier"]["value"] == "+94771234567"


def test_a_statement_holder_name_joins_by_name_rules(store):
    small_case(store)
    resolved(store)
    eid, attrs = person_with(store, "Nuwan Jayawardena")
    # 'N. Jayawardena' (statement) scores 0.95 with 'Nuwan Jayawardena': joined, with the reasons kept
    assert "N. Jayawardena" in attrs["names"]
    ev = [json.loads(l["evidence"]) for l in store.rows("SELECT evidence FROM entity_links WHERE entity_id = ? AND method = 'name'", [eid])]  # noqa: E741
    assert ev and "initial N. ~ nuwan" in ev[0]["reasons"]
    # a name alone no longer joins (graph/corroborate.py): this one rests on the name and on the account, which the
    # statement names N. Jayawardena the holder of and which Nuwan's number wrote in a message it sent
    assert ev[0]["fields"] == ["name", "account"] and ev[0]["agreed"][0]["value"] == "bank-account 0081234567"


def test_a_shared_surname_alone_does_not_join(store):
    small_case(store)
    resolved(store)
    person_with(store, "Kasun Perera")
    person_with(store, "Nimal Perera")  # separate entities
    # 'W.K. Perera' fits neither well enough to join automatically
    wk, _ = person_with(store, "W.K. Perera")  # noqa: RUF059


def test_different_nics_refuse_a_link_and_say_so(store):
    store.write(
        contact(GOAML_EX, "xml:/report/t[1]", "Nuwan Jayawardena", ["0771234567"], nic="851234567V")
        + contact(GOAML_EX, "xml:/report/t[2]", "Nuwan Jayawardena", ["0771234567"], nic="901234567V")
    )
    resolved(store)
    assert store.count("entities") == 2
    f = store.rows("SELECT title FROM findings WHERE kind = 'resolution-conflict'")
    assert f and "different NIC" in f[0]["title"]


def test_examiner_decisions_survive_resolving_again_and_ids_are_stable(store):
    small_case(store)
    resolved(store)
    ids_before = sorted(r["id"] for r in store.rows("SELECT id FROM entities"))
    resolved(store)
    assert sorted(r["id"] for r in store.rows("SELECT id FROM entities")) == ids_before
    kasun, _ = person_with(store, "Kasun Perera")
    wk, _ = person_with(store, "W.K. Perera")
    resolve.decide(
        store, "merge", resolve.members_of(store, kasun)[0], resolve.members_of(store, wk)[0], "same NIC on passport copy", "IP Test"
    )
    resolved(store)
    merged, attrs = person_with(store, "Kasun Perera")
    assert "W.K. Perera" in attrs["names"]
    # split it again: the 'name:' member may not rejoin
    member = next(m for m in resolve.members_of(store, merged) if m.startswith("name:"))
    for other in resolve.members_of(store, merged):
        if other != member:
            resolve.decide(store, "split", member, other, "different person after all", "IP Test")
    resolved(store)
    _, attrs = person_with(store, "Kasun Perera")
    assert "W.K. Perera" not in attrs["names"]


def test_marks_follow_the_person(store):
    small_case(store)
    resolved(store)
    kasun, _ = person_with(store, "Kasun Perera")
    for m in resolve.members_of(store, kasun):
        resolve.decide(store, "mark", m, "victim", "", "IP Test")
    resolved(store)
    assert person_with(store, "Kasun Perera")[1]["roles"] == ["victim"]


def test_graph_edges_carry_provenance_and_the_path_shows_the_records(store):
    ids = small_case(store)
    resolved(store)
    bad = store.rows("SELECT count(*) AS n FROM edges WHERE exhibit_sha256 IS NULL OR locator IS NULL OR parser IS NULL")[0]["n"]
    assert bad == 0
    for table in ("nodes", "edges"):  # ids are unique without a key index
        assert store.count(table) == store.rows(f"SELECT count(DISTINCT id) AS n FROM {table}")[0]["n"]
    kinds = {r["kind"] for r in store.rows("SELECT DISTINCT kind FROM edges")}
    assert {"USES", "SENT", "IN", "MENTIONS", "PAID", "PAID_TO"} <= kinds  # (no exhibits table rows here: no FROM_EXHIBIT)
    g, hops = analysis.shortest_path(store, "1234509876", "Nuwan Jayawardena")
    assert [h.kinds for h in hops] == [["payment"]]  # the payer's account paid the account Nuwan holds
    assert hops[0].evidence[0]["exhibit_sha256"] == BANK_EX and hops[0].evidence[0]["locator"] == "row:2"
    g, hops = analysis.shortest_path(store, "+94762223344", "0081234567", g)
    assert hops and any(e["record"] == ids["message_with_account"] for h in hops for e in h.evidence)


def test_analysis_findings(store):
    small_case(store)
    resolved(store)
    g, findings = analysis.analyse(store)  # noqa: RUF059
    by_kind = {}
    for f in findings:
        by_kind.setdefault(f.kind, []).append(f)
        assert f.evidence and all({"record", "locator", "exhibit_sha256"} <= set(e) for e in f.evidence)
    assert {"connected-group", "broker", "most-contacted", "multi-exhibit", "contact-timeline"} <= set(by_kind)
    top_broker = by_kind["broker"][0]
    assert "Nuwan Jayawardena" in top_broker.title
    assert any("Nuwan Jayawardena" in f.title and f.attrs["exhibits"] for f in by_kind["multi-exhibit"])


# -- Neo4j -------------------------------------------------------------------------------------------
def test_every_cypher_statement_passes_neo4js_own_parser(store):
    small_case(store)
    resolved(store)
    stmts = neo4j_push.statements(store)
    assert any(s.startswith("CREATE CONSTRAINT") for s in stmts) and any("MERGE (a)-[r:`SENT`" in s for s in stmts)
    # a label casegraph never makes, with a backtick, still quotes safely
    stmts += [neo4j_push.merge_nodes("Odd`Label"), neo4j_push.merge_relationships("ODD TYPE", "A`", "B")]
    out = _lint(stmts)
    assert out == [[] for _ in stmts]


def test_the_linter_does_catch_bad_cypher():
    assert _lint(["UNWIND $rows AS row MERGE (n:Phone {key: row.key) SET n += row.props"], check=False)[0]


def _lint(statements, check=True):
    node = shutil.which("node")
    assert node and (LINT / "node_modules" / "@neo4j-cypher").is_dir(), "run scripts/bootstrap.sh (installs the Cypher linter)"
    p = subprocess.run([node, str(LINT / "lint.mjs")], input=json.dumps(statements), capture_output=True, text=True, timeout=120)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


class Recorder:
    """Stands in for the driver: records (statement, rows), and can fail after n batches like a dropped connection."""

    def __init__(self, fail_after=None):
        self.calls, self.fail_after = [], fail_after

    def __call__(self, cypher, rows):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise ConnectionError("connection lost")
        self.calls.append((cypher, rows))


def test_push_resumes_after_an_interruption_and_a_second_push_sends_nothing(store):
    small_case(store)
    resolved(store)
    total_rows = store.count("nodes") + store.count("edges")
    first = Recorder(fail_after=12)
    with pytest.raises(ConnectionError):
        neo4j_push.push(store, "bolt://x/db", first, batch=2)
    sent_before = sum(len(r or []) for _, r in first.calls)
    second = Recorder()
    counts = neo4j_push.push(store, "bolt://x/db", second, batch=2)
    assert counts["sent"] + sent_before == total_rows and counts["skipped"] == sent_before
    assert second.calls[0][0].startswith("UNWIND")  # constraints were already done
    third = Recorder()
    assert neo4j_push.push(store, "bolt://x/db", third, batch=2)["sent"] == 0 and not third.calls
    # every row carries provenance
    rel_rows = [r for c, rows in second.calls if "MERGE (a)" in c for r in rows]
    assert rel_rows and all(r["props"]["exhibit_sha256"] and r["props"]["locator"] for r in rel_rows)


@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="live Neo4j tests run when NEO4J_URI (and NEO4J_PASSWORD) are set")
def test_live_push_is_idempotent(store):
    from neo4j import GraphDatabase

    small_case(store)
    resolved(store)
    uri, user, pw = os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"]
    run, close = neo4j_push.driver_runner(uri, user, pw, None)
    try:
        neo4j_push.push(store, uri + "/a", run)
        with GraphDatabase.driver(uri, auth=(user, pw)) as d:
            count = lambda: d.execute_query("MATCH (n) WHERE n.key IS NOT NULL RETURN count(n) AS n").records[0]["n"]  # noqa: E731
            first = count()
            neo4j_push.push(store, uri + "/b", run)  # another target name: everything is sent again, MERGE keeps it one
            assert count() == first >= store.count("nodes")
    finally:
        close()


# -- exports -----------------------------------------------------------------------------------------
def test_neo4j_admin_export_has_id_spaces_per_label_and_the_command(store, tmp_path):
    small_case(store)
    resolved(store)
    script = export.neo4j_admin(store, tmp_path / "n4")
    cmd = script.read_text().splitlines()[-1]
    # Neo4j 5.19+ wants the database before the variadic --nodes/--relationships; quoted fields span lines
    assert cmd.startswith("neo4j-admin database import full casegraph --id-type=string ")
    assert "--multiline-fields=true" in cmd
    assert "--nodes=Person=nodes_Person.csv" in cmd and "--relationships=SENT=rels_SENT_Phone_Message.csv" in cmd
    header = (tmp_path / "n4" / "rels_SENT_Phone_Message.csv").read_text().splitlines()[0]
    assert header.startswith(
        ":START_ID(Phone),:END_ID(Message),id,record_id,exhibit_sha256,parser,parser_version,locator,ts_utc:datetime,weight:double"
    )
    phone = (tmp_path / "n4" / "nodes_Phone.csv").read_text().splitlines()[0]
    assert phone.startswith("key:ID(Phone),") and "valid:boolean" in phone and "props" not in phone


def test_neo4j_admin_and_push_give_the_same_graph_shape(store, tmp_path):
    """The two Neo4j routes must load the same labels, types and properties with the same types."""
    small_case(store)
    resolved(store)
    export.neo4j_admin(store, tmp_path / "n4")
    admin, pushed = export.neo4j_admin_schema(tmp_path / "n4"), neo4j_push.pushed_schema(store)
    assert set(admin) == set(pushed)
    for key in admin:
        # a property the push never sends for this label (always null) is only a CSV column
        sent = {k: v for k, v in admin[key].items() if k in pushed[key]}
        assert sent == pushed[key], key
    assert admin["Person"]["names"] == "string" and admin["Person"]["roles"] == "string[]"


def test_graphml_and_ftm_exports_read_back(store, tmp_path):
    from followthemoney import model

    small_case(store)
    resolved(store)
    g = nx.read_graphml(export.graphml(store, tmp_path / "g.graphml"))
    assert g.number_of_nodes() == store.count("nodes") and g.number_of_edges() == store.count("edges")
    labels = {d["label"] for _, d in g.nodes(data=True)}
    assert "Nuwan Jayawardena" in labels and "Transaction" not in labels  # Gephi shows `label`: the name
    assert {d["type"] for _, d in g.nodes(data=True)} >= {"Person", "Transaction", "Message"}
    lines = export.ftm(store, tmp_path / "e.ftm.json").read_text().splitlines()
    proxies = [model.get_proxy(json.loads(l)) for l in lines]  # noqa: E741
    schemata = {p.schema.name for p in proxies}
    assert {"Person", "BankAccount", "Payment", "Message", "Document"} <= schemata
    nuwan = next(p for p in proxies if p.schema.name == "Person" and "Nuwan Jayawardena" in p.get("name"))
    assert "+94771234567" in nuwan.get("phone")
    by_id = {p.id: p for p in proxies}
    for p in proxies:  # what the schema requires is there, and points at an entity of the export
        for prop in p.schema.required:
            assert p.get(prop), (p.schema.name, prop)
        if p.schema.name in ("Payment", "Message"):
            assert all(v in by_id for k in ("payer", "beneficiary", "sender") for v in p.get(k, quiet=True))
            assert [by_id[d].schema.name for d in p.get("proof")] == ["Document"]
    pay = next(p for p in proxies if p.schema.name == "Payment")
    assert pay.get("amount") == ["450000"] and pay.get("currency") == ["LKR"]
    doc = next(p for p in proxies if p.schema.name == "Document")
    assert "SHA-256" in doc.get("description")[0]


def test_exports_take_the_victim_redaction(store, tmp_path):
    from casegraph.reports.redact import Redactor

    small_case(store)
    resolved(store)
    kasun = next(r["id"] for r in store.rows("SELECT id, label FROM entities WHERE kind = 'person'") if "Kasun" in r["label"])
    for m in resolve.members_of(store, kasun):
        resolve.decide(store, "mark", m, "victim", "complainant", "IP Test")
    resolved(store)
    red = Redactor.victims(store)
    assert red.active
    ftm_text = export.ftm(store, tmp_path / "e.ftm.json", redact=red.text).read_text()
    gml = export.graphml(store, tmp_path / "g.graphml", redact=red.text).read_text()
    export.neo4j_admin(store, tmp_path / "n4", redact=red.text)
    admin = "".join(p.read_text() for p in (tmp_path / "n4").glob("*.csv"))
    export.i2(store, tmp_path / "i2", redact=red.text)
    i2 = "".join(p.read_text() for p in (tmp_path / "i2").glob("*.csv"))
    for text in (ftm_text, gml, admin, i2):
        assert "Kasun" not in text and "Victim-1" in text


def test_i2_export_has_one_link_per_record_with_its_provenance_and_the_spec(store, tmp_path):
    """Issue #16: for i2 Analyst's Notebook write CSV with an import specification (not GraphML)."""
    import csv

    small_case(store)
    resolved(store)
    spec = export.i2(store, tmp_path / "i2")
    links = list(csv.DictReader((tmp_path / "i2" / "i2-links.csv").open(encoding="utf-8")))
    assert list(links[0]) == list(export.I2_LINK_COLUMNS)
    money = [r for r in links if r["Link Type"] == "Transaction"]
    assert len(money) == store.count("transactions")  # each transaction once, as one payer → payee link
    said = [r for r in links if r["Link Type"] == "Message"]
    assert len(said) == store.count("messages") and all(r["Entity 2 Type"] == "Chat" for r in said)
    assert all(r["Exhibit SHA-256"] and r["Locator"] and r["Record"] and r["Direction"] == "With" for r in links)
    pay = next(r for r in money if r["Amount"] == "450000")
    assert pay["Currency"] == "LKR" and pay["Entity 1 Type"] in ("BankAccount", "Person")
    for r in money:  # a date-only statement row keeps its date and gets no invented time
        assert (r["Time"] == "") == (r["Date Basis"] == "date as the source gave it, no time")
    ids = {r["Identity"] for r in csv.DictReader((tmp_path / "i2" / "i2-entities.csv").open(encoding="utf-8"))}
    ends = {r["Entity 1 Identity"] for r in links} | {r["Entity 2 Identity"] for r in links}
    assert {i for i in ends if not i.startswith(("transactions/", "messages/"))} <= ids  # every party on the entity list
    text = spec.read_text()
    for column in (*export.I2_LINK_COLUMNS, *export.I2_ENTITY_COLUMNS):
        assert f"[{column}]" in text or column in ("Date Basis", "Exhibit SHA-256", "Parser", "Locator", "Record"), column
    assert "yyyy-MM-dd" in text and "HH:mm:ss" in text and "UTC" in text


@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="live Neo4j tests run when NEO4J_URI (and NEO4J_PASSWORD) are set")
def test_live_push_counts_match_the_admin_import_files(store, tmp_path):
    """Where a server is reachable: what `graph push` loaded has, label by label and type by type, the
    counts the neo4j-admin CSVs would load (one row per node or relationship)."""
    import csv

    from neo4j import GraphDatabase

    small_case(store)
    resolved(store)
    export.neo4j_admin(store, tmp_path / "n4")
    expected = {}
    for f in (tmp_path / "n4").glob("*.csv"):
        n = sum(1 for _ in csv.reader(f.open(encoding="utf-8"))) - 1
        key = f.stem.removeprefix("nodes_") if f.name.startswith("nodes_") else f.stem.removeprefix("rels_").split("_")[0]
        expected[key] = expected.get(key, 0) + n
    uri, user, pw = os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"]
    run, close = neo4j_push.driver_runner(uri, user, pw, None)
    try:
        with GraphDatabase.driver(uri, auth=(user, pw)) as d:
            d.execute_query("MATCH (n) WHERE n.key IS NOT NULL DETACH DELETE n")
            neo4j_push.push(store, uri + "/count", run)
            for key, n in expected.items():
                q = (
                    f"MATCH (n:`{key}`) RETURN count(n) AS n"
                    if key[0].isupper() and not key.isupper()
                    else f"MATCH ()-[r:`{key}`]->() RETURN count(r) AS n"
                )
                assert d.execute_query(q).records[0]["n"] == n, key
    finally:
        close()


def test_cli_resolve_analyze_path_export(tmp_path, fixtures):
    from casegraph.case import Case

    with Case.create(tmp_path / "c", "HTS/T/2", "IP Test") as c:
        small_case(c.store)
    r = CliRunner()
    for args in (
        ["resolve", str(tmp_path / "c")],
        ["analyze", str(tmp_path / "c")],
        ["path", str(tmp_path / "c"), "Kasun Perera", "0081234567"],
        ["graph", "export", str(tmp_path / "c"), "--format", "graphml"],
        ["graph", "export", str(tmp_path / "c"), "--format", "i2", "--redact", "victims"],
        ["entities", "list", str(tmp_path / "c")],
    ):
        res = r.invoke(main, args)
        assert res.exit_code == 0, (args, res.output)
    assert "Nuwan Jayawardena" in res.output
    res = r.invoke(main, ["path", str(tmp_path / "c"), "Nobody Known", "0081234567"])
    assert res.exit_code == 1 and "no such party" in res.output
    log = (tmp_path / "c" / "custody.jsonl").read_text()
    assert '"action": "resolve"' in log and '"action": "analyze"' in log and '"action": "graph-export"' in log


def test_trace_from_a_persons_name_uses_or_offers_their_accounts(tmp_path, monkeypatch):
    """Issue #16: `trace --from "Nuwan Agent"` said "no such account"; a person's name or id offers
    the accounts that person holds in the transactions."""
    from casegraph.case import Case

    with Case.create(tmp_path / "c", "HTS/T/3", "IP Test") as c:
        small_case(c.store)
    r = CliRunner()
    assert r.invoke(main, ["resolve", str(tmp_path / "c")]).exit_code == 0
    res = r.invoke(main, ["trace", str(tmp_path / "c"), "--from", "Nuwan Jayawardena"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "holds one account in the transactions, 0081234567 (bank, 1 transfer): tracing from it" in res.output
    assert "Where the money went: 0081234567" in res.output
    res = r.invoke(main, ["trace", str(tmp_path / "c"), "--from", "Kasun Perera"], env={"COLUMNS": "200"})
    assert res.exit_code == 1 and "is a person who holds no account that is in a transaction" in res.output
    res = r.invoke(main, ["trace", str(tmp_path / "c"), "--from", "Nobody Known"], env={"COLUMNS": "200"})
    assert res.exit_code == 1 and "nor is it a person: no person 'Nobody Known'" in res.output
    two = [{"account": "0081234567", "rail": "bank", "transfers": 1}, {"account": "TXYZ", "rail": "tron", "transfers": 3}]
    monkeypatch.setattr("casegraph.accounts.person_accounts", lambda store, entity: two)
    res = r.invoke(main, ["trace", str(tmp_path / "c"), "--from", "Nuwan Jayawardena"], env={"COLUMNS": "200"})
    assert res.exit_code == 2 and "holds 2 accounts in the transactions: pick one with --from ACCOUNT" in res.output
    assert "TXYZ" in res.output and "0081234567" in res.output
