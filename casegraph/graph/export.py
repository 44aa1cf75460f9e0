"""Exports of the case graph for other tools, each in the shape that tool loads.

- neo4j-admin: CSV files with the IDs in one ID space per label, every property in a typed column of
  its own (the same properties, with the same types, that `graph push` writes), and `import.sh`
  holding the exact Neo4j 5 `neo4j-admin database import full` command.
- graphml: for Gephi and yEd (networkx writer); `label` is the display name, `type` the node's kind.
- ftm: FollowTheMoney entities as JSON lines for OCCRP Aleph (followthemoney's own model), with the
  exhibits as Documents that the payments and messages cite as `proof`.
- i2: CSV for the i2 Analyst's Notebook importer (one row per link: entity 1, link, entity 2), an
  entity list, and the import specification the importer's wizard is set up from once.
Every relationship keeps its provenance (exhibit SHA-256, parser, version, locator, record). With a
redactor (`--redact victims`) every name and text an export writes is pseudonymised as in reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shlex
from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import networkx as nx

from ..store import CaseStore, sql_literal
from ..times import DAY
from .neo4j_push import property_types

FORMATS = ("neo4j-admin", "graphml", "ftm", "i2")
_REL_COLUMNS = ("id", "record_id", "exhibit_sha256", "parser", "parser_version", "locator")
Redact = Callable[[str], str]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _redacting(store: CaseStore, redact: Redact | None) -> str:
    """An SQL function name that pseudonymises text as `redact` does (identity when there is none)."""
    if redact is None:
        return ""
    with contextlib.suppress(Exception):  # not registered yet
        store.con.remove_function("cg_redact")
    store.con.create_function(
        "cg_redact", lambda s: None if s is None else redact(s), ["VARCHAR"], "VARCHAR", null_handling="special", side_effects=False
    )
    return "cg_redact"


def _typed_columns(store: CaseStore, table: str, column: str, where: str, fn: str) -> list[tuple[str, str]]:
    """(header, SQL) for each key of a JSON column, typed as `graph push` types it (neo4j_push.property_types)."""
    out = []
    for k, kind in property_types(store, table, column, where).items():
        path = sql_literal(f'$."{k}"')
        text = f"json_extract_string({column}, {path})"
        if kind == "string[]":
            items = f"CAST(json_extract({column}, {path}) AS VARCHAR[])"
            if fn:
                items = f"list_transform({items}, lambda x: {fn}(x))"
            out.append((f"{k}:string[]", f"nullif(array_to_string({items}, '|'), '')"))
        elif kind == "string":
            out.append((k, f"{fn}({text})" if fn else text))
        else:
            out.append((f"{k}:{kind}", f"CAST(json_extract({column}, {path}) AS {_SQL_TYPES[kind]})"))
    return out


_SQL_TYPES = {"long": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN"}


def neo4j_admin(store: CaseStore, out: Path, database: str = "casegraph", redact: Redact | None = None) -> Path:
    """Writes nodes_<Label>.csv, rels_<TYPE>_<Start>_<End>.csv and import.sh; returns import.sh."""
    out.mkdir(parents=True, exist_ok=True)
    fn = _redacting(store, redact)
    red = (lambda sql: f"{fn}({sql})") if fn else (lambda sql: sql)
    # Neo4j 5.19+: the database name comes before the variadic --nodes/--relationships options
    args = [
        "neo4j-admin",
        "database",
        "import",
        "full",
        database,
        "--id-type=string",
        "--array-delimiter=|",
        "--multiline-fields=true",
        "--overwrite-destination=true",
    ]
    for r in store.rows("SELECT DISTINCT label FROM nodes ORDER BY label"):
        label = r["label"]
        f = out / f"nodes_{_safe(label)}.csv"
        where = f"label = {sql_literal(label)}"
        props = _typed_columns(store, "nodes", "props", where, fn)
        name = [] if any(h.split(":")[0] == "name" for h, _ in props) else [f'{red("name")} AS "name"']
        cols = ", ".join([f'id AS "key:ID({label})"', *name, *(f'{sql} AS "{h}"' for h, sql in props), f'{sql_literal(label)} AS ":LABEL"'])
        store.con.execute(f"""COPY (SELECT {cols} FROM nodes WHERE {where} ORDER BY id)
                              TO {sql_literal(str(f))} (HEADER, QUOTE '"')""")
        args.append(f"--nodes={label}={f.name}")
    for r in store.rows("""SELECT DISTINCT e.kind, s.label AS sl, d.label AS dl FROM edges e
                           JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst ORDER BY ALL"""):
        kind, sl, dl = r["kind"], r["sl"], r["dl"]
        f = out / f"rels_{_safe(kind)}_{_safe(sl)}_{_safe(dl)}.csv"
        where = (
            f"id IN (SELECT e.id FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst "
            f"WHERE e.kind = {sql_literal(kind)} AND s.label = {sql_literal(sl)} AND d.label = {sql_literal(dl)})"
        )
        attrs = [
            (h, sql.replace("attrs", "e.attrs"))
            for h, sql in _typed_columns(store, "edges", "attrs", where, fn)
            if h.split(":")[0] not in (*_REL_COLUMNS, "ts_utc", "weight")
        ]
        cols = ", ".join(
            [
                f'e.src AS ":START_ID({sl})"',
                f'e.dst AS ":END_ID({dl})"',
                *(f"e.{c}" for c in _REL_COLUMNS),
                "strftime(e.ts_utc AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS \"ts_utc:datetime\"",
                'e.weight AS "weight:double"',
                *(f'{sql} AS "{h}"' for h, sql in attrs),
                f'{sql_literal(kind)} AS ":TYPE"',
            ]
        )
        store.con.execute(f"""COPY (SELECT {cols} FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
                                    WHERE e.kind = {sql_literal(kind)} AND s.label = {sql_literal(sl)} AND d.label = {sql_literal(dl)}
                                    ORDER BY e.id) TO {sql_literal(str(f))} (HEADER, QUOTE '"')""")
        args.append(f"--relationships={kind}={f.name}")
    script = out / "import.sh"
    script.write_text(
        "#!/bin/sh\n# Load this case into an empty Neo4j 5 database (the server stopped), from this directory:\n"
        f'cd "$(dirname "$0")"\n{shlex.join(args)}\n'
    )
    script.chmod(0o755)
    return script


_NEO4J_TYPES = {"long": int, "double": float, "boolean": bool, "string[]": list, "string": str, "datetime": "datetime"}


def neo4j_admin_schema(out: Path) -> dict[str, dict[str, str]]:
    """What an admin import of `out` creates: {label or TYPE(start,end): {property: type}} from the CSV headers."""
    import csv

    schema: dict[str, dict[str, str]] = {}
    for f in sorted(out.glob("*.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        props = {}
        for h in header:
            name, _, kind = h.partition(":")
            if not name or (name == "key" and kind.startswith("ID")):
                continue
            props[name] = kind or "string"
        if f.name.startswith("nodes_"):
            label = next(h for h in header if h.startswith("key:ID(")).removeprefix("key:ID(")[:-1]
            schema[label] = props | {"key": "string"}
        else:
            start = next(h for h in header if h.startswith(":START_ID("))[10:-1]
            end = next(h for h in header if h.startswith(":END_ID("))[8:-1]
            kind = f.name.removeprefix("rels_").removesuffix(f"_{_safe(start)}_{_safe(end)}.csv")
            schema[f"{kind}({start},{end})"] = props
    return schema


def to_networkx(store: CaseStore, redact: Redact | None = None) -> nx.MultiDiGraph:
    """The graph with display names as `label` (what Gephi shows) and the node's kind as `type`."""
    red = redact or (lambda x: x)
    g = nx.MultiDiGraph()
    for r in store.rows("SELECT id, label, name, CAST(props AS VARCHAR) AS props FROM nodes ORDER BY id"):
        g.add_node(r["id"], label=red(r["name"] or r["id"]), type=r["label"], props=red(r["props"] or "{}"))
    for r in store.rows(
        f"SELECT src, dst, kind, ts_utc, weight, CAST(attrs AS VARCHAR) AS attrs, {', '.join(_REL_COLUMNS)} FROM edges ORDER BY id"
    ):
        g.add_edge(
            r["src"],
            r["dst"],
            key=r["id"],
            label=r["kind"],
            kind=r["kind"],
            ts_utc=r["ts_utc"].isoformat() if r["ts_utc"] else "",
            weight=r["weight"] or 0.0,
            attrs=red(r["attrs"] or "{}"),
            **{c: r[c] or "" for c in _REL_COLUMNS if c != "id"},
        )
    return g


def graphml(store: CaseStore, out: Path, redact: Redact | None = None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(to_networkx(store, redact), out, encoding="utf-8", prettyprint=False)
    return out


# -- FollowTheMoney -------------------------------------------------------------------------------
_FTM_IDENTIFIER = {
    "Phone": None,
    "Email": None,
    "BankAccount": "BankAccount",
    "Wallet": "CryptoWallet",
    "Account": "UserAccount",
    "NIC": "Identification",
    "Passport": "Passport",
}


def _amount(value: Decimal) -> str:
    """An exact amount without the store's padding: 450000.000000000000000000 → 450000."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _sha1(path: Path) -> str | None:
    """Aleph addresses a document's bytes by SHA-1; the evidence file gives it (None when absent)."""
    if not path.is_file():
        return None
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def ftm(store: CaseStore, out: Path, dataset: str = "casegraph", redact: Redact | None = None) -> Path:
    """Exhibits (Document), persons, accounts, wallets, identity documents, messages and payments as
    FtM entities. Every Payment has a payer and a beneficiary and every Message a sender, as the schema
    requires: the person who uses the account or phone, else a LegalEntity named as the record writes it."""
    from ..extras import need
    from ..redact import _walk

    model = need("followthemoney", "ftm", "the FollowTheMoney export").model

    out.parent.mkdir(parents=True, exist_ok=True)
    evidence = store.path.parent / "evidence"
    nodes = {r["id"]: r for r in store.rows("SELECT id, label, name, props FROM nodes")}
    ftm_id: dict[str, str] = {}
    uses: dict[str, list[str]] = {}
    user_of: dict[str, str] = {}  # identifier → the first person using it
    for r in store.rows("SELECT src, dst FROM edges WHERE kind = 'USES' ORDER BY src, dst"):
        uses.setdefault(r["src"], []).append(r["dst"])
        user_of.setdefault(r["dst"], r["src"])
    n = 0
    with open(out, "w", encoding="utf-8") as f:

        def emit(entity) -> None:
            nonlocal n
            data = entity.to_dict()
            f.write(json.dumps(_walk(data, redact) if redact else data, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1

        def make(schema: str, key: str):
            e = model.make_entity(schema)
            e.make_id(dataset, key)
            ftm_id[key] = e.id
            return e

        def party(node: str | None, written: str | None, fallback: str) -> str:
            """The FtM id of who stands at one end: a person, the person using the account or phone, or a
            LegalEntity named as the record writes it (made once per node or name)."""
            if node in nodes and nodes[node]["label"] == "Person":
                return ftm_id[node]
            if node in user_of and user_of[node] in ftm_id:
                return ftm_id[user_of[node]]
            key = f"party:{node or written or fallback}"
            if key not in ftm_id:
                le = make("LegalEntity", key)
                name = written or (f"holder of {nodes[node]['label']} {nodes[node]['name']}" if node in nodes else fallback)
                le.add("name", name)
                if node in nodes and nodes[node]["label"] == "Phone":
                    le.add("phone", nodes[node]["name"])
                le.add("description", "named as the record writes it; not resolved to a person")
                emit(le)
            return ftm_id[key]

        for ex in store.rows("""SELECT sha256, md5, size, exhibit_id, original_name, format, seized_from FROM exhibits
                                UNION ALL SELECT DISTINCT exhibit_sha256, NULL, NULL, NULL, NULL, NULL, NULL
                                FROM (SELECT exhibit_sha256 FROM messages UNION SELECT exhibit_sha256 FROM transactions)
                                WHERE exhibit_sha256 NOT IN (SELECT sha256 FROM exhibits) ORDER BY sha256"""):
            doc = make("Document", f"Exhibit:{ex['sha256']}")
            doc.add("fileName", ex["original_name"] or ex["sha256"])
            doc.add(
                "title",
                f"Exhibit {ex['exhibit_id']}: {ex['original_name'] or ''}"
                if ex["exhibit_id"]
                else f"Source {ex['sha256'][:16]} (not in the exhibit register)",
            )
            doc.add("fileSize", ex["size"])
            doc.add("contentHash", _sha1(evidence / ex["sha256"]))
            doc.add(
                "description",
                f"SHA-256 {ex['sha256']}"
                + (
                    f"; MD5 {ex['md5']}; format {ex['format'] or 'unrecognised'}; seized from {ex['seized_from'] or 'not stated'}"
                    if ex["md5"]
                    else ""
                ),
            )
            emit(doc)
        for nid, r in sorted(nodes.items()):
            props = json.loads(r["props"] or "{}")
            if r["label"] == "Person":
                p = make("Person", nid)
                p.add("name", r["name"])
                p.add("alias", [x for x in props.get("names", {}) if x != r["name"]])
                p.add("proof", [ftm_id.get(f"Exhibit:{x}") for x in props.get("exhibits", []) if isinstance(x, str)])
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
        for (
            r
        ) in store.rows("""SELECT t.id, t.ts_local, t.ts_utc, t.ts_precision, t.amount, t.currency, t.reference, t.description, t.locator,
                                      t.exhibit_sha256, t.from_account, t.to_account, t.from_name, t.to_name,
                                      p.src AS payer, b.dst AS payee
                               FROM transactions t LEFT JOIN edges p ON p.dst = t.id AND p.kind = 'PAID'
                               LEFT JOIN edges b ON b.src = t.id AND b.kind = 'PAID_TO' ORDER BY t.id"""):
            pay = make("Payment", r["id"])
            pay.add("date", _ftm_date(r))  # the date as the statement writes it
            pay.add("amount", _amount(r["amount"]) if r["amount"] is not None else None)
            pay.add("currency", r["currency"])
            pay.add("transactionNumber", r["reference"])
            pay.add("purpose", r["description"])
            pay.add("recordId", r["id"])
            narration = f"counterparty not stated (narration: {r['description']})" if r["description"] else "counterparty not stated"
            pay.add("payer", party(r["payer"], r["from_name"] or r["from_account"], narration))
            pay.add("beneficiary", party(r["payee"], r["to_name"] or r["to_account"], narration))
            if nodes.get(r["payer"], {}).get("label") == "BankAccount":
                pay.add("payerAccount", ftm_id.get(r["payer"]))
            if nodes.get(r["payee"], {}).get("label") == "BankAccount":
                pay.add("beneficiaryAccount", ftm_id.get(r["payee"]))
            pay.add("proof", ftm_id.get(f"Exhibit:{r['exhibit_sha256']}"))
            pay.add("summary", f"exhibit {r['exhibit_sha256']} {r['locator']}")
            emit(pay)
        for r in store.rows("""SELECT m.id, m.ts_utc, m.ts_local, m.ts_precision, m.text, m.locator, m.exhibit_sha256, m.sender_name,
                                      m.sender_id, s.src AS sender
                               FROM messages m LEFT JOIN edges s ON s.dst = m.id AND s.kind = 'SENT'
                               WHERE m.text IS NOT NULL ORDER BY m.id"""):
            msg = make("Message", r["id"])
            msg.add("bodyText", r["text"])
            msg.add("date", _ftm_date(r))
            msg.add("messageId", r["id"])
            msg.add("sender", party(r["sender"], r["sender_name"] or r["sender_id"], "sender not stated (system line)"))
            msg.add("proof", ftm_id.get(f"Exhibit:{r['exhibit_sha256']}"))
            msg.add("description", f"exhibit {r['exhibit_sha256']} {r['locator']}")
            emit(msg)
    return out


# -- i2 Analyst's Notebook ------------------------------------------------------------------------
# The importer's own specification file (.ximp) is written by its wizard and not documented, so it is
# not imitated: the CSV has one fixed header, and i2-import-specification.txt says once which column
# goes to which property (docs.i2group.com/anb: "Import data", "Identities", "Defining date and time
# formats"). A transaction or a message is a link, as on a chart: payer → payee, sender → chat.
I2_LINK_COLUMNS = (
    "Entity 1 Identity",
    "Entity 1 Label",
    "Entity 1 Type",
    "Link Type",
    "Link Label",
    "Direction",
    "Date",
    "Time",
    "Date Basis",
    "Amount",
    "Currency",
    "Entity 2 Identity",
    "Entity 2 Label",
    "Entity 2 Type",
    "Exhibit SHA-256",
    "Parser",
    "Locator",
    "Record",
)
I2_ENTITY_COLUMNS = ("Identity", "Label", "Type", "Exhibits")
_I2_FOLDED = ("PAID", "PAID_TO", "SENT", "IN", "FROM_EXHIBIT")  # made into links, or provenance columns


def i2(store: CaseStore, out: Path, redact: Redact | None = None) -> Path:
    """Writes i2-links.csv, i2-entities.csv and i2-import-specification.txt into `out`; returns the spec."""
    out.mkdir(parents=True, exist_ok=True)
    fn = _redacting(store, redact)
    red = (lambda sql: f"{fn}({sql})") if fn else (lambda sql: sql)
    # a date-only source value (edge attrs.date) keeps its own date and no time; a timed one is in UTC
    links = f"""
        WITH money AS (
            SELECT t.id, p.src AS a, q.dst AS b, p.ts_utc, p.attrs, t.props, p.exhibit_sha256, p.parser, p.locator, p.record_id
            FROM nodes t JOIN edges p ON p.dst = t.id AND p.kind = 'PAID' LEFT JOIN edges q ON q.src = t.id AND q.kind = 'PAID_TO'
            WHERE t.label = 'Transaction'
            UNION ALL
            SELECT t.id, t.id, q.dst, q.ts_utc, q.attrs, t.props, q.exhibit_sha256, q.parser, q.locator, q.record_id
            FROM nodes t JOIN edges q ON q.src = t.id AND q.kind = 'PAID_TO'
            WHERE t.label = 'Transaction' AND NOT EXISTS (SELECT 1 FROM edges p WHERE p.dst = t.id AND p.kind = 'PAID')
        ), said AS (
            SELECT m.id, coalesce(s.src, m.id) AS a, i.dst AS b, i.ts_utc, m.props, i.exhibit_sha256, i.parser, i.locator, i.record_id
            FROM nodes m JOIN edges i ON i.src = m.id AND i.kind = 'IN' LEFT JOIN edges s ON s.dst = m.id AND s.kind = 'SENT'
            WHERE m.label = 'Message'
        ), rows AS (
            SELECT a, 'Transaction' AS link_type, m.props->>'description' AS link_label,
                   coalesce(json_extract_string(m.attrs, '$.date'), strftime(m.ts_utc AT TIME ZONE 'UTC', '%Y-%m-%d')) AS d,
                   CASE WHEN json_extract_string(m.attrs, '$.date') IS NULL
                        THEN strftime(m.ts_utc AT TIME ZONE 'UTC', '%H:%M:%S') END AS tm,
                   m.props->>'amount' AS amount, m.props->>'currency' AS currency, coalesce(b, m.id) AS b,
                   exhibit_sha256, parser, locator, record_id
            FROM money m
            UNION ALL
            SELECT a, 'Message', left(props->>'text', 200), strftime(ts_utc AT TIME ZONE 'UTC', '%Y-%m-%d'),
                   strftime(ts_utc AT TIME ZONE 'UTC', '%H:%M:%S'), NULL, NULL, b, exhibit_sha256, parser, locator, record_id
            FROM said
            UNION ALL
            SELECT e.src, e.kind, coalesce(json_extract_string(e.attrs, '$.context'), json_extract_string(e.attrs, '$.role')),
                   strftime(e.ts_utc AT TIME ZONE 'UTC', '%Y-%m-%d'), strftime(e.ts_utc AT TIME ZONE 'UTC', '%H:%M:%S'),
                   NULL, NULL, e.dst, e.exhibit_sha256, e.parser, e.locator, e.record_id
            FROM edges e WHERE e.kind NOT IN ({", ".join(sql_literal(k) for k in _I2_FOLDED)})
        )
        SELECT {red("r.a")} AS "Entity 1 Identity", {red("coalesce(na.name, r.a)")} AS "Entity 1 Label", na.label AS "Entity 1 Type",
               r.link_type AS "Link Type", {red("r.link_label")} AS "Link Label", 'With' AS "Direction",
               r.d AS "Date", r.tm AS "Time",
               CASE WHEN r.d IS NULL THEN NULL WHEN r.tm IS NULL THEN 'date as the source gave it, no time' ELSE 'UTC' END AS "Date Basis",
               CASE WHEN contains(r.amount, '.') THEN rtrim(rtrim(r.amount, '0'), '.') ELSE r.amount END AS "Amount",
               r.currency AS "Currency",
               {red("r.b")} AS "Entity 2 Identity", {red("coalesce(nb.name, r.b)")} AS "Entity 2 Label", nb.label AS "Entity 2 Type",
               r.exhibit_sha256 AS "Exhibit SHA-256", r.parser AS "Parser", r.locator AS "Locator", {red("r.record_id")} AS "Record"
        FROM rows r LEFT JOIN nodes na ON na.id = r.a LEFT JOIN nodes nb ON nb.id = r.b
        ORDER BY r.exhibit_sha256, r.locator, r.link_type, r.a, r.b"""
    store.con.execute(f"COPY ({links}) TO {sql_literal(str(out / 'i2-links.csv'))} (HEADER, QUOTE '\"')")
    entities = f"""SELECT {red("id")} AS "Identity", {red("coalesce(name, id)")} AS "Label", label AS "Type",
                          array_to_string(CAST(coalesce(props->'exhibits', '[]') AS VARCHAR[]), '|') AS "Exhibits"
                   FROM nodes WHERE label NOT IN ('Transaction', 'Message', 'Exhibit') ORDER BY label, id"""
    store.con.execute(f"COPY ({entities}) TO {sql_literal(str(out / 'i2-entities.csv'))} (HEADER, QUOTE '\"')")
    spec = out / "i2-import-specification.txt"
    spec.write_text(_I2_SPEC, encoding="utf-8")
    return spec


_I2_SPEC = """i2 Analyst's Notebook import specification for the casegraph export (classic, not schema-aligned)

Files: i2-links.csv (one link per row) and i2-entities.csv (every party, also those with no link).
Both: comma-separated, UTF-8, one header row, values in double quotes where they hold a comma, a quote
or a line break. Set this up once in the Import wizard (Home > Import > Import from File) and save it
there as a specification: the wizard writes its own .ximp file, which is not imitated here.

i2-links.csv, import design "Entity - Link - Entity":
  Entity 1: Identity = [Entity 1 Identity]; Label = [Entity 1 Label]; Type from [Entity 1 Type]
  Link:     Type from [Link Type]; Label = [Link Label]; Direction = [Direction] ("With": from entity 1
            to entity 2); Date = [Date], format yyyy-MM-dd; Time = [Time], format HH:mm:ss;
            attributes: Amount = [Amount] (exact, in [Currency]; never add amounts of two currencies),
            Currency = [Currency], Exhibit SHA-256, Parser, Locator, Record (the record the link rests on)
  Entity 2: Identity = [Entity 2 Identity]; Label = [Entity 2 Label]; Type from [Entity 2 Type]
  Date Basis: "UTC" when the source gave a time (Date and Time are in UTC; choose time zone UTC in the
  wizard's Date & Time Format page); "date as the source gave it, no time" when it gave only a date
  (Time is empty: do not let the wizard invent midnight).
  Match entities by identity (the identities are casegraph's node ids: the same party always has the
  same identity, in this file and in i2-entities.csv).

Link types: Transaction (payer to payee; an end the records do not name is the transaction itself),
Message (sender to chat; a system line with no sender starts at the message itself), USES (a person
uses a phone or account), MENTIONS (a message names a party), and the other relationships of the
case graph by their own names.

i2-entities.csv, import design "Entity":
  Identity = [Identity]; Label = [Label]; Type from [Type]; attribute Exhibits = [Exhibits] (SHA-256s,
  separated by |).

With --redact victims, every name and text in both files is pseudonymised as in the reports.
"""


def export(store: CaseStore, fmt: str, out: Path, redact: Redact | None = None) -> Path:
    if fmt == "i2":
        return i2(store, out, redact)
    if fmt == "neo4j-admin":
        return neo4j_admin(store, out, redact=redact)
    if fmt == "graphml":
        return graphml(store, out if out.suffix else out / "graph.graphml", redact)
    if fmt == "ftm":
        return ftm(store, out if out.suffix else out / "entities.ftm.json", redact=redact)
    raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")


def _ftm_date(r: dict) -> str | None:
    """A FollowTheMoney date: the source's own date when it gave no time (never the UTC day of an invented
    midnight), else the UTC time to the second (FtM dates carry no zone)."""
    if r["ts_precision"] == DAY:
        return r["ts_local"].date().isoformat()
    if r["ts_utc"] is None:
        return None
    return r["ts_utc"].astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
