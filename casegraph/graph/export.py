"""Exports of the case graph for other tools.

- neo4j-admin: CSV files with the IDs in one ID space per label, and `import.sh` holding the exact
  Neo4j 5 `neo4j-admin database import full` command (fastest way to load a large case).
- graphml: for Gephi, yEd and i2 Analyst's Notebook imports (networkx writer).
- ftm: FollowTheMoney entities as JSON lines for OCCRP Aleph (followthemoney's own model).
Every relationship keeps its provenance columns (exhibit SHA-256, parser, version, locator, record).
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from datetime import timezone

import networkx as nx

from ..store import CaseStore, sql_literal
from ..times import DAY

FORMATS = ("neo4j-admin", "graphml", "ftm")
_REL_COLUMNS = ("id", "record_id", "exhibit_sha256", "parser", "parser_version", "locator")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def neo4j_admin(store: CaseStore, out: Path, database: str = "casegraph") -> Path:
    """Writes nodes_<Label>.csv, rels_<TYPE>_<Start>_<End>.csv and import.sh; returns import.sh."""
    out.mkdir(parents=True, exist_ok=True)
    args = ["neo4j-admin", "database", "import", "full", "--id-type=string", "--array-delimiter=|",
            "--overwrite-destination=true"]
    for r in store.rows("SELECT DISTINCT label FROM nodes ORDER BY label"):
        label = r["label"]
        f = out / f"nodes_{_safe(label)}.csv"
        store.con.execute(f"""COPY (SELECT id AS "key:ID({label})", name, CAST(props AS VARCHAR) AS props, {sql_literal(label)} AS ":LABEL"
                                    FROM nodes WHERE label = {sql_literal(label)} ORDER BY id) TO {sql_literal(str(f))} (HEADER, QUOTE '"')""")
        args.append(f"--nodes={label}={f.name}")
    for r in store.rows("""SELECT DISTINCT e.kind, s.label AS sl, d.label AS dl FROM edges e
                           JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst ORDER BY ALL"""):
        kind, sl, dl = r["kind"], r["sl"], r["dl"]
        f = out / f"rels_{_safe(kind)}_{_safe(sl)}_{_safe(dl)}.csv"
        cols = ", ".join(f"e.{c}" for c in _REL_COLUMNS)
        store.con.execute(f"""COPY (SELECT e.src AS ":START_ID({sl})", e.dst AS ":END_ID({dl})", {cols},
                                           strftime(e.ts_utc, '%Y-%m-%dT%H:%M:%S.%fZ') AS "ts_utc:datetime", e.weight AS "weight:double",
                                           CAST(e.attrs AS VARCHAR) AS attrs, {sql_literal(kind)} AS ":TYPE"
                                    FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
                                    WHERE e.kind = {sql_literal(kind)} AND s.label = {sql_literal(sl)} AND d.label = {sql_literal(dl)}
                                    ORDER BY e.id) TO {sql_literal(str(f))} (HEADER, QUOTE '"')""")
        args.append(f"--relationships={kind}={f.name}")
    args.append(database)
    script = out / "import.sh"
    script.write_text("#!/bin/sh\n# Load this case into an empty Neo4j 5 database (the server stopped), from this directory:\n"
                      f"cd \"$(dirname \"$0\")\"\n{shlex.join(args)}\n")
    script.chmod(0o755)
    return script


def to_networkx(store: CaseStore) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for r in store.rows("SELECT id, label, name, CAST(props AS VARCHAR) AS props FROM nodes ORDER BY id"):
        g.add_node(r["id"], label=r["label"], name=r["name"] or "", props=r["props"] or "{}")
    for r in store.rows(f"SELECT src, dst, kind, ts_utc, weight, CAST(attrs AS VARCHAR) AS attrs, {', '.join(_REL_COLUMNS)} FROM edges ORDER BY id"):
        g.add_edge(r["src"], r["dst"], key=r["id"], kind=r["kind"], ts_utc=r["ts_utc"].isoformat() if r["ts_utc"] else "",
                   weight=r["weight"] or 0.0, attrs=r["attrs"] or "{}",
                   **{c: r[c] or "" for c in _REL_COLUMNS if c != "id"})
    return g


def graphml(store: CaseStore, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(to_networkx(store), out, encoding="utf-8", prettyprint=False)
    return out


# -- FollowTheMoney -------------------------------------------------------------------------------
_FTM_IDENTIFIER = {"Phone": None, "Email": None, "BankAccount": "BankAccount", "Wallet": "CryptoWallet",
                   "Account": "UserAccount", "NIC": "Identification", "Passport": "Passport"}


def ftm(store: CaseStore, out: Path, dataset: str = "casegraph") -> Path:
    """Persons, accounts, wallets, identity documents, messages, calls and payments as FtM entities."""
    from followthemoney import model

    out.parent.mkdir(parents=True, exist_ok=True)
    nodes = {r["id"]: r for r in store.rows("SELECT id, label, name, props FROM nodes")}
    ftm_id = {}
    uses: dict[str, list[str]] = {}
    user_of: dict[str, str] = {}  # identifier → the first person using it
    for r in store.rows("SELECT src, dst FROM edges WHERE kind = 'USES' ORDER BY src, dst"):
        uses.setdefault(r["src"], []).append(r["dst"])
        user_of.setdefault(r["dst"], r["src"])
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        def emit(entity) -> None:
            nonlocal n
            f.write(json.dumps(entity.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1

        def make(schema: str, key: str):
            e = model.make_entity(schema)
            e.make_id(dataset, key)
            ftm_id[key] = e.id
            return e

        for nid, r in sorted(nodes.items()):
            props = json.loads(r["props"] or "{}")
            if r["label"] == "Person":
                p = make("Person", nid)
                p.add("name", r["name"])
                p.add("alias", [x for x in props.get("names", {}) if x != r["name"]])
                for used in uses.get(nid, []):
                    label, value = nodes[used]["label"], nodes[used]["name"]
                    if label == "Phone":
                        p.add("phone", value)
                    elif label == "Email":
                        p.add("email", value)
                    elif label == "NIC":
                        p.add("idNumber", value)
                    elif label == "Passport":
                        p.add("passportNumber", value)
                emit(p)
        for nid, r in sorted(nodes.items()):
            schema = _FTM_IDENTIFIER.get(r["label"])
            if not schema:
                continue
            props = json.loads(r["props"] or "{}")
            e = make(schema, nid)
            holder = ftm_id.get(user_of.get(nid))
            if schema == "BankAccount":
                e.add("iban" if props.get("kind") == "iban" else "accountNumber", r["name"])
            elif schema == "CryptoWallet":
                e.add("publicKey", r["name"])
                e.add("blockchain", props.get("kind"))
                e.add("holder", holder)
            elif schema == "UserAccount":
                e.add("username", r["name"])
                e.add("owner", holder)
            else:  # Identification / Passport
                e.add("number", r["name"])
                e.add("holder", holder)
                if schema == "Identification":
                    e.add("type", "NIC")
                    e.add("country", "lk")
            emit(e)
        for r in store.rows("""SELECT t.id, t.ts_utc, t.ts_local, t.ts_precision, t.amount, t.currency, t.reference, t.description, t.locator, t.exhibit_sha256,
                                      p.src AS payer, b.dst AS payee
                               FROM transactions t LEFT JOIN edges p ON p.dst = t.id AND p.kind = 'PAID'
                               LEFT JOIN edges b ON b.src = t.id AND b.kind = 'PAID_TO' ORDER BY t.id"""):
            pay = make("Payment", r["id"])
            pay.add("date", _ftm_date(r))
            pay.add("amount", f"{r['amount']:f}" if r["amount"] is not None else None)
            pay.add("currency", r["currency"])
            pay.add("transactionNumber", r["reference"])
            pay.add("purpose", r["description"])
            pay.add("recordId", r["id"])
            pay.add("payerAccount" if nodes.get(r["payer"], {}).get("label") == "BankAccount" else "payer", ftm_id.get(r["payer"]))
            pay.add("beneficiaryAccount" if nodes.get(r["payee"], {}).get("label") == "BankAccount" else "beneficiary",
                    ftm_id.get(r["payee"]))
            pay.add("summary", f"exhibit {r['exhibit_sha256']} {r['locator']}")
            if pay.has("payer") or pay.has("payerAccount") or pay.has("beneficiary") or pay.has("beneficiaryAccount"):
                emit(pay)
        for r in store.rows("""SELECT m.id, m.ts_utc, m.ts_local, m.ts_precision, m.text, m.locator, m.exhibit_sha256, s.src AS sender
                               FROM messages m LEFT JOIN edges s ON s.dst = m.id AND s.kind = 'SENT'
                               WHERE m.text IS NOT NULL ORDER BY m.id"""):
            msg = make("Message", r["id"])
            msg.add("bodyText", r["text"])
            msg.add("date", _ftm_date(r))
            msg.add("messageId", r["id"])
            sender = r["sender"]
            if sender in ftm_id and nodes[sender]["label"] == "Person":
                msg.add("sender", ftm_id[sender])
            msg.add("description", f"exhibit {r['exhibit_sha256']} {r['locator']}")
            emit(msg)
    return out


def export(store: CaseStore, fmt: str, out: Path) -> Path:
    if fmt == "neo4j-admin":
        return neo4j_admin(store, out)
    if fmt == "graphml":
        return graphml(store, out if out.suffix else out / "graph.graphml")
    if fmt == "ftm":
        return ftm(store, out if out.suffix else out / "entities.ftm.json")
    raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")


def _ftm_date(r: dict) -> str | None:
    """A FollowTheMoney date: the source's own date when it gave no time (never the UTC day of an invented
    midnight), else the UTC time to the second (FtM dates carry no zone)."""
    if r["ts_precision"] == DAY:
        return r["ts_local"].date().isoformat()
    if r["ts_utc"] is None:
        return None
    return r["ts_utc"].astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
