"""The Python API for analysts' notebooks: a case as pandas DataFrames and Arrow tables.

    import casegraph
    case = casegraph.open("CASE")                        # read-only: nothing can change the case
    case.messages(chat="Recruits Batch 7", since="2024-04-01")
    case.transactions(account="0081234567", currency="LKR")
    case.trace("0081234567").findings                    # the same library call as `casegraph trace`
    case.sql("SELECT rail, count(*) FROM transactions GROUP BY ALL")

Every table keeps its provenance columns (exhibit_sha256, parser, parser_version, locator), and
`case.source(record_id)` gives the exact bytes a record was read from. Opened with
`casegraph.open(CASE, examiner="IP …")` the case is writable, and each write (`resolve`, `mark`,
`merge`, `save_findings`) goes through the same library step as the CLI and is logged in custody.
This module is the public surface: names here stay stable.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from .case import Case as _CaseDir
from .errors import CaseGraphError
from .findings import Finding as _Finding
from .findings import write_findings
from .ingest.cut import Source, _cut  # the cutter lives in intake; Source is re-exported here
from .store import CaseStore

__all__ = ["Case", "FindingView", "Person", "Result", "Source", "open"]


class ReadOnlyCase(CaseGraphError, PermissionError):
    """A write was asked of a case opened read-only."""


def open(path: str | Path, examiner: str | None = None) -> Case:
    """Open a case directory: read-only unless an `examiner` is named, who then owns every write."""
    return Case(Path(path), examiner)


def _frame(table: pa.Table, arrow: bool) -> pd.DataFrame | pa.Table:
    return table if arrow else table.to_pandas()


def _when(value: str | date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class FindingView:
    """One finding as stored, with its evidence records (ids, locators, exhibits)."""

    id: str
    kind: str
    title: str
    summary: str
    detector: str
    evidence: list[dict[str, Any]]
    attrs: dict[str, Any]

    def evidence_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.evidence)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(e.get('table', '')))}</td><td><code>{html.escape(str(e.get('locator', '')))}</code></td>"
            f"<td><code>{html.escape(str(e.get('exhibit_sha256', ''))[:16])}…</code></td></tr>"
            for e in self.evidence[:20]
        )
        more = f"<p>… and {len(self.evidence) - 20} more records</p>" if len(self.evidence) > 20 else ""
        return (
            f"<div><h4>{html.escape(self.title)}</h4><p>{html.escape(self.summary)}</p>"
            f"<p><small>{html.escape(self.kind)} · {html.escape(self.detector)} · finding {self.id}</small></p>"
            f"<table><tr><th>table</th><th>locator</th><th>exhibit</th></tr>{rows}</table>{more}</div>"
        )


@dataclass
class Person:
    """A resolved person: names seen, identifiers, exhibits, roles an examiner marked."""

    id: str
    label: str
    attrs: dict[str, Any]

    def _repr_html_(self) -> str:
        a = self.attrs
        ids = "".join(f"<li>{html.escape(i['kind'])} {html.escape(str(i['value']))}</li>" for i in a.get("identifiers", [])[:20])
        names = ", ".join(html.escape(n) for n in a.get("names", {}))
        roles = ", ".join(a.get("roles", [])) or "none"
        return (
            f"<div><h4>{html.escape(self.label)}</h4><p><small>{self.id} · marked: {html.escape(roles)}</small></p>"
            f"<p>names seen: {names}</p><ul>{ids}</ul><p>{len(a.get('exhibits', []))} exhibit(s)</p></div>"
        )


@dataclass
class Result:
    """What an analysis call returns: its rows as a DataFrame and the findings it would write."""

    frame: pd.DataFrame
    findings: list[_Finding] = field(default_factory=list)
    detector: str = ""
    raw: Any = None

    def findings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"kind": f.kind, "title": f.title, "summary": f.summary, "records": len(f.evidence), "detector": f.detector}
                for f in self.findings
            ]
        )

    def _repr_html_(self) -> str:
        return self.frame._repr_html_()


def _rows_frame(items: list[Any]) -> pd.DataFrame:
    """Dataclass results (trace reach, path hops) as a flat DataFrame; nested values kept as objects."""
    return pd.DataFrame([asdict(i) if is_dataclass(i) else dict(i) for i in items])


class Case:
    """A case directory opened for analysis. Use `casegraph.open`."""

    def __init__(self, root: Path, examiner: str | None = None):
        # read-only: the store opens read-only (DuckDB refuses every write) under a shared case lock;
        # writable: the exclusive lock, as a CLI command that changes the case takes it
        self._dir = _CaseDir(root, read_only=examiner is None).acquire(f"casegraph.open ({examiner or 'read-only'})")
        self.examiner = examiner

    # -- the case ----------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self._dir.root

    @property
    def info(self) -> dict[str, Any]:
        return asdict(self._dir.info)

    @property
    def read_only(self) -> bool:
        return self.examiner is None

    @property
    def store(self) -> CaseStore:
        return self._dir.store

    def close(self) -> None:
        self._dir.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, query: str, params: list | None = None, arrow: bool = False) -> pd.DataFrame | pa.Table:
        """Any query on the case store (record tables already include their segments)."""
        rel = self.store.con.sql(query, params=params or None)
        return _frame(rel.to_arrow_table() if rel is not None else pa.table({}), arrow)

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    # -- tables ------------------------------------------------------------------------------
    def _select(self, table: str, where: list[str], params: list, order: str, arrow: bool) -> pd.DataFrame | pa.Table:
        sql = f"SELECT * FROM {table}" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {order}"
        return self.sql(sql, params, arrow)

    def exhibits(self, arrow: bool = False) -> pd.DataFrame | pa.Table:
        return self._select("exhibits", [], [], "exhibit_id, original_name, sha256", arrow)

    def messages(
        self, chat: str | None = None, since: Any = None, until: Any = None, person: str | None = None, arrow: bool = False
    ) -> pd.DataFrame | pa.Table:
        """Messages, oldest first: of one chat (name or id), in a time window (UTC), sent by or to a person
        (an entity id, unique prefix or name, as `entities show` takes)."""
        where, params = [], []
        if chat:
            where.append("(chat_name = ? OR chat_id = ?)")
            params += [chat, chat]
        if since is not None:
            where.append("ts_utc >= ?")
            params.append(_when(since))
        if until is not None:
            where.append("ts_utc <= ?")
            params.append(_when(until))
        if person:
            pid = self.person(person).id
            where.append("""id IN (SELECT e.dst FROM edges e WHERE e.kind = 'SENT' AND (e.src = ? OR e.src IN (
                                       SELECT dst FROM edges WHERE kind = 'USES' AND src = ?))
                                   UNION SELECT e.src FROM edges e WHERE e.kind = 'TO' AND e.dst IN (
                                       SELECT dst FROM edges WHERE kind = 'USES' AND src = ?))""")
            params += [pid, pid, pid]
        return self._select("messages", where, params, "ts_utc NULLS LAST, exhibit_sha256, locator", arrow)

    def transactions(
        self, account: str | None = None, currency: str | None = None, person: str | None = None, arrow: bool = False
    ) -> pd.DataFrame | pa.Table:
        """Transactions, oldest first: to or from an account (as written), in one currency, or to or
        from any account or wallet a person uses. Amounts are exact decimals with their currency."""
        where, params = [], []
        if account:
            where.append("(from_account = ? OR to_account = ?)")
            params += [account, account]
        if currency:
            where.append("currency = ?")
            params.append(currency)
        if person:
            pid = self.person(person).id
            where.append("""id IN (SELECT e.dst FROM edges e WHERE e.kind = 'PAID' AND e.src IN (
                                       SELECT dst FROM edges WHERE kind = 'USES' AND src = ?)
                                   UNION SELECT e.src FROM edges e WHERE e.kind = 'PAID_TO' AND e.dst IN (
                                       SELECT dst FROM edges WHERE kind = 'USES' AND src = ?))""")
            params += [pid, pid]
        return self._select("transactions", where, params, "ts_utc NULLS LAST, exhibit_sha256, locator", arrow)

    def contacts(self, arrow: bool = False) -> pd.DataFrame | pa.Table:
        return self._select("contacts", [], [], "exhibit_sha256, locator", arrow)

    def calls(self, arrow: bool = False) -> pd.DataFrame | pa.Table:
        return self._select("calls", [], [], "ts_utc NULLS LAST, exhibit_sha256, locator", arrow)

    def parse_issues(self, arrow: bool = False) -> pd.DataFrame | pa.Table:
        return self._select("parse_issues", [], [], "exhibit_sha256, locator", arrow)

    def findings(self, kind: str | None = None, detector: str | None = None, arrow: bool = False) -> pd.DataFrame | pa.Table:
        """Findings as stored; `evidence` and `attrs` are JSON text (see `finding(id)` for one parsed)."""
        from .review import finding_filter

        where, params = finding_filter(kind, detector)
        return self._select("findings", where, params, "kind, detector, title, id", arrow)

    def finding(self, ref: str) -> FindingView:
        """One finding by id or unique prefix."""
        from . import review

        f = review.finding(self.store, ref)
        return FindingView(f.id, f.kind, f.title, f.summary, f"{f.detector} {f.detector_version}", f.evidence, f.attrs)

    def entities(self, arrow: bool = False) -> pd.DataFrame | pa.Table:
        return self._select("entities", [], [], "kind, label, id", arrow)

    def person(self, ref: str) -> Person:
        """A resolved person by id, unique prefix or name."""
        from .graph.resolve import find_entity

        row = find_entity(self.store, ref)
        return Person(row["id"], row["label"], json.loads(row["attrs"] or "{}"))

    def custody(self, arrow: bool = False) -> pd.DataFrame | pa.Table:
        """The custody log, one event a row (inputs, outputs and details as Python objects)."""
        events = self._dir.custody.events()
        frame = pd.DataFrame(events)
        return pa.Table.from_pandas(frame.astype(str)) if arrow else frame

    # -- evidence ----------------------------------------------------------------------------
    def source(self, record_id: str) -> Source:
        """The exact bytes a record was read from, with the exhibit's SHA-256 and the locator."""
        table = record_id.split("/", 1)[0]
        row = (
            self.store.one(
                f"""SELECT r.exhibit_sha256, r.locator, r.parser, e.original_name FROM {table} r
                                 LEFT JOIN exhibits e ON e.sha256 = r.exhibit_sha256 WHERE r.id = ?""",
                [record_id],
            )
            if table.isidentifier()
            else None
        )
        if row is None:
            raise KeyError(f"no record {record_id!r} in this case")
        sha, locator, parser, name = row
        return _cut(self._dir.evidence_path(sha), sha, locator, parser, name)

    # -- graphs and analyses (computed, not written) -------------------------------------------
    def party_graph(self, edges: bool = False):
        """Parties (people, phones, accounts, wallets …) and their ties: a networkx Graph, or with
        `edges=True` an edge DataFrame (source, target, weight, kinds, first, last) for large cases."""
        from .graph import analysis, steps

        if not self.read_only:
            steps.ensure(self._dir)
        g = analysis.party_graph(self.store)
        if not edges:
            return g
        return pd.DataFrame(
            [
                {"source": a, "target": b, "weight": d["weight"], "kinds": d["kinds"], "first": d["first"], "last": d["last"]}
                for a, b, d in g.edges(data=True)
            ]
        )

    def money_graph(self, edges: bool = False):
        """Transfers between accounts as they are written: a networkx MultiDiGraph (one edge per transfer,
        with amount, currency, time and locator), or with `edges=True` the edge DataFrame."""
        frame = self.sql("""SELECT coalesce(from_account, '(unknown)') AS source, coalesce(to_account, '(unknown)') AS target,
                                   amount, currency, ts_utc, status, rail, id AS record, exhibit_sha256, locator
                            FROM transactions WHERE amount IS NOT NULL ORDER BY ts_utc NULLS LAST, exhibit_sha256, locator""")
        if edges:
            return frame
        import networkx as nx

        return nx.from_pandas_edgelist(frame, "source", "target", edge_attr=True, create_using=nx.MultiDiGraph)

    def trace(
        self,
        account: str,
        *,
        hops: int = 6,
        backward: bool = False,
        model: str = "haircut",
        links: dict[str, str] | None = None,
        resolved: bool = True,
        since: Any = None,
        until: Any = None,
        **options: Any,
    ) -> Result:
        """`casegraph trace` as a call: the accounts reached (a DataFrame) and the findings it writes there."""
        from .finance.workflow import run_trace
        from .graph.resolve import trace_links

        # the same library call as `casegraph trace`, without writing (save_findings writes)
        r = run_trace(
            self._dir,
            account,
            resolved=trace_links(self.store) if resolved else None,
            actor=self.examiner,
            hops=hops,
            backward=backward,
            since=_when(since),
            until=_when(until),
            model=model,
            links=links,
            link_source="casegraph.api trace(links=…)",
            write=False,
            **options,
        )
        result, detector, found = r.result, r.detector, r.findings
        return Result(_rows_frame(result.reached), found, detector, result)

    def path(self, a: str, b: str) -> Result:
        """`casegraph path` as a call: the hops from A to B with the records each rests on."""
        from .graph import analysis

        _, hops = analysis.shortest_path(self.store, a, b)
        return Result(_rows_frame(hops), [], "path", hops)

    def typologies(self, **settings: Any) -> Result:
        """`casegraph typologies` as a call (settings as the CLI's options), the findings as rows."""
        from .finance import typologies

        s = typologies.Settings(**settings) if settings else None
        found = typologies.detect(self.store, s)
        frame = pd.DataFrame([{"kind": f.kind, "title": f.title, "summary": f.summary, "records": len(f.evidence)} for f in found])
        return Result(frame, found, "typologies", None)

    # -- writes (an examiner named; each logged as the CLI logs it) ----------------------------
    def _writable(self) -> _CaseDir:
        if self.read_only:
            raise ReadOnlyCase(f"{self.root} is open read-only; open it with casegraph.open(..., examiner='…') to change it")
        return self._dir

    def resolve(self) -> dict:
        from .graph import steps

        counts, _ = steps.resolve_case(self._writable())
        return counts

    def mark(self, person: str, role: str, reason: str, remove: bool = False) -> dict:
        from .graph import steps

        return steps.mark(self._writable(), person, role, reason, remove=remove, actor=self.examiner)

    def merge(self, first: str, second: str, reason: str) -> dict:
        from .graph import steps

        return steps.merge(self._writable(), first, second, reason, actor=self.examiner)

    def save_findings(self, result: Result, details: dict[str, Any] | None = None) -> str:
        """Write an analysis result's findings (replacing its detector's earlier ones) and log it."""
        c = self._writable()
        digest = write_findings(c.store, result.findings, result.detector)
        c.log(
            "api-findings",
            actor=self.examiner,
            state=("findings",),
            details={"detector": result.detector, **(details or {})},
            outputs=[{"findings": len(result.findings), "sha256": digest, "detector": result.detector}],
        )
        return digest

    # -- notebooks ---------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        info = self._dir.info
        counts = self.counts()
        cells = "".join(f"<tr><td>{t}</td><td style='text-align:right'>{n:,}</td></tr>" for t, n in counts.items())
        mode = "read-only" if self.read_only else f"writable by {html.escape(self.examiner or '')}"
        return (
            f"<div><h4>Case {html.escape(info.case_no)}: {html.escape(info.title)}</h4>"
            f"<p><small>{html.escape(str(self.root))} · examiner {html.escape(info.examiner)} · zone "
            f"{html.escape(info.timezone)} · {mode}</small></p><table>{cells}</table></div>"
        )

    def __repr__(self) -> str:
        return f"<casegraph case {self._dir.info.case_no} at {self.root} ({'read-only' if self.read_only else 'writable'})>"
