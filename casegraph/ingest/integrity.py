"""`custody verify`: re-hash every exhibit, the custody chain, every segment and every derived
record, and name exactly what changed (table, parse run, exhibit).

What is checked against what:
- the custody log: each line's shape and hash, the prev links, seq order, and the store's anchor of
  every event it logged (a cut or rewritten tail); `expect_head`, a head kept outside the case;
- exhibits: the evidence bytes against their SHA-256, each exhibit row against its intake event;
- parse runs: each `parse_runs` row against its parse event; the run's records, recomputed from the
  row tables (a canonical digest, see `digest`) and its Parquet segments (re-hashed, each against
  the registry and the parse event), against the digest that event recorded; records that belong
  to no run; every parse-start without its parse;
- findings, entities, decisions, annotations and the graph tables: against the digest recorded by
  the newest custody event that wrote them.
A problem an examiner acknowledged (`custody acknowledge`) is listed as acknowledged, not hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..case import Case
from ..hashing import sha256_file
from ..store import EXHIBIT_SEIZURE_COLUMNS, RECORD_TABLES, rows_table
from ..wording import plural
from .custody import HEX64, Problem, verify_chain
from .digest import DIGEST_VERSION, STATE_TABLES, grouped, run_digest, table_digest

ACKNOWLEDGE = "custody-acknowledge"


@dataclass
class Verdict:
    events: int = 0
    exhibits_checked: int = 0
    segments_checked: int = 0
    runs_checked: int = 0
    tables_checked: int = 0
    head: tuple[int, str] | None = None
    reparsed: int | None = None  # runs re-derived from the evidence (--reparse), None when not asked
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    acknowledged: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> str:
        if self.problems:
            return f"NOT INTACT ({plural(len(self.problems), 'problem')})"
        return "INTACT" + (f" (with {plural(len(self.acknowledged), 'acknowledged problem')})" if self.acknowledged else "")

    def summary(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "problems": [str(p) for p in self.problems],
            "warnings": [str(p) for p in self.warnings],
            "acknowledged": [str(p) for p in self.acknowledged],
            "events": self.events,
            "exhibits_checked": self.exhibits_checked,
            "segments_checked": self.segments_checked,
            "runs_checked": self.runs_checked,
            "tables_checked": self.tables_checked,
            "reparse": self.reparsed is not None,
            "reparsed_runs": self.reparsed,
            "head": list(self.head) if self.head else None,
        }


def _acknowledgements(events: list[dict]) -> tuple[set[tuple[int, str]], dict[str, dict]]:
    """Anchors and problems examiners acknowledged: (anchors, problem text → its ack event)."""
    anchors, problems = set(), {}
    for ev in events:
        if ev.get("action") != ACKNOWLEDGE:
            continue
        d = ev.get("details") or {}
        for a in d.get("anchors") or []:
            if isinstance(a, list) and len(a) == 2 and type(a[0]) is int and isinstance(a[1], str):
                anchors.add((a[0], a[1]))
        for p in d.get("problems") or []:
            if isinstance(p, str):
                problems[p] = ev
    return anchors, problems


def verify_logged(
    case: Case, actor: str | None = None, *, expect_head: str | None = None, reparse: bool = False, log: bool = True
) -> Verdict:
    """`casegraph custody verify` as one call (the CLI's, the workspace's, the demo's): `verify_case`, and its
    verdict logged as a `custody-verify` event, appended after whatever the log ends with (`log=False`: a
    read-only workspace checks without writing)."""
    v = verify_case(case, expect_head=expect_head, reparse=reparse)
    if log:
        case.log("custody-verify", actor, details=v.summary(), unanchored=True)
    return v


def verify_case(case: Case, expect_head: str | None = None, reparse: bool = False) -> Verdict:
    v = Verdict()
    anchors = case.anchors()
    raw_events = case.custody.events()
    ack_anchors, ack_problems = _acknowledgements(raw_events)
    events, v.problems = verify_chain(case.custody, anchors, acknowledged=ack_anchors)
    v.events = len(events)
    if events:
        last = max(events, key=lambda e: e["seq"])
        v.head = (last["seq"], last["hash"])
    if events and not anchors:
        v.problems.append(
            Problem(
                "case.duckdb custody_anchor",
                "the case store holds no custody anchor (deleted): a cut at the end of the log could not be seen",
            )
        )
    if expect_head is not None:
        _check_head(expect_head, events, v)
    _verify_case_file(case, events, v)
    _verify_output_heads(case, events, v)
    _verify_outputs(case, events, v)
    labels = _verify_exhibits(case, events, v)
    _verify_runs(case, events, labels, v)
    _verify_state(case, events, v)
    if reparse:
        from .reparse import reparse_case

        v.reparsed = reparse_case(case, labels, v)
    # what an examiner acknowledged stays listed, apart
    for p in list(v.problems):
        ack = ack_problems.get(str(p))
        if ack is not None:
            v.problems.remove(p)
            v.acknowledged.append(
                Problem(
                    p.where,
                    f"{p.what} [acknowledged at seq {ack['seq']} by {ack.get('actor')}: {(ack.get('details') or {}).get('reason')}]",
                )
            )
    for a_seq, a_hash in sorted(ack_anchors):
        v.acknowledged.append(Problem(f"anchor seq {a_seq} ({a_hash[:16]}…)", "superseded by an acknowledged break"))
    return v


def _check_head(expect: str, events: list[dict], v: Verdict) -> None:
    seq, _, digest = expect.strip().lower().rpartition(":")
    if not HEX64.fullmatch(digest):
        v.problems.append(Problem("--expect-head", f"{expect!r} is not a custody head (SHA-256 hex, or SEQ:SHA-256)"))
        return
    found = [e for e in events if e["hash"] == digest]
    if not found or (seq and str(found[0]["seq"]) != seq):
        v.problems.append(
            Problem("--expect-head", f"the log holds no event {expect}: the events up to the head you hold were removed or rewritten")
        )
    elif v.head and found[0]["seq"] != v.head[0]:
        v.warnings.append(
            Problem("--expect-head", f"seq {found[0]['seq']} found; {v.head[0] - found[0]['seq']} event(s) were logged after it")
        )


def _verify_case_file(case: Case, events: list[dict], v: Verdict) -> None:
    """case.toml against the case-created event (case number, examiner, time zone ...)."""
    created = next((e for e in events if e.get("action") == "case-created"), None)
    if created is None:
        if events:
            v.problems.append(Problem("custody log", "has no case-created event (deleted)"))
        return
    d = created.get("details") or {}
    edited = [k for k, val in d.items() if getattr(case.info, k, val) != val]
    if edited:
        v.problems.append(
            Problem("case.toml", f"edited: {', '.join(sorted(edited))} differ from the case-created event seq {created['seq']}")
        )


def _verify_output_heads(case: Case, events: list[dict], v: Verdict) -> None:
    """Every custody head a report or bundle in the case directory states must still be in the log."""
    held = {(e["seq"], e["hash"]) for e in events}
    stated: list[tuple[str, str]] = []
    for f in sorted((case.root / "reports").glob("*.findings.json")):
        try:
            a = json.loads(f.read_bytes())["as_of"]
            stated.append((f"reports/{f.name}", f"{a['seq']} {a['hash']}"))
        except (OSError, ValueError, KeyError, TypeError):
            v.warnings.append(Problem(f"reports/{f.name}", "cannot be read for the custody head it states"))
    for f in sorted((case.root / "bundles").glob("*/bag-info.txt")):
        try:
            line = next(ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.startswith("Casegraph-Custody-Head:"))
            stated.append((f"bundles/{f.parent.name}", line.partition(":")[2].strip()))
        except (OSError, ValueError, StopIteration):
            v.warnings.append(Problem(f"bundles/{f.parent.name}", "cannot be read for the custody head it states"))
    for where, head in stated:
        seq, _, digest = head.partition(" ")
        if not (seq.isdigit() and (int(seq), digest) in held):
            v.problems.append(
                Problem(
                    where,
                    f"states custody head {head[:80]}, which the log no longer holds (events removed or rewritten after it was written)",
                )
            )


def _in_case(case: Case, recorded: str) -> Path:
    """A path an event recorded, found again in this case directory if the case was moved or copied."""
    parts = Path(recorded).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in ("reports", "bundles"):
            return case.root.joinpath(*parts[i:])
    return Path(recorded)


def _verify_outputs(case: Case, events: list[dict], v: Verdict) -> None:
    """Reports and bundles still in the case directory against the hashes their events recorded."""
    latest: dict[Path, tuple[dict, str]] = {}
    for ev in sorted(events, key=lambda e: e["seq"]):
        if ev.get("action") not in ("report-written", "bundle-written"):
            continue
        for out in ev.get("outputs") or []:
            if isinstance(out.get("path"), str) and isinstance(out.get("sha256"), str):
                path = _in_case(case, out["path"])
                latest[path / "tagmanifest-sha256.txt" if ev["action"] == "bundle-written" else path] = (ev, out["sha256"])
    for path, (ev, sha) in sorted(latest.items()):
        if path.is_file() and sha256_file(path) != sha:
            shown = path.relative_to(case.root) if path.is_relative_to(case.root) else path
            v.problems.append(Problem(str(shown), f"altered after custody event seq {ev['seq']} ({ev['action']}) recorded its SHA-256"))


def _first_output(ev: dict) -> dict:
    outs = ev.get("outputs") or []
    return outs[0] if outs and isinstance(outs[0], dict) else {}


def _input_sha(ev: dict) -> str | None:
    ins = ev.get("inputs") or []
    return ins[0].get("sha256") if ins and isinstance(ins[0], dict) and isinstance(ins[0].get("sha256"), str) else None


def _verify_exhibits(case: Case, events: list[dict], v: Verdict) -> dict[str, str]:
    intakes = {}
    for ev in events:
        if ev.get("action") == "intake":
            sha = _first_output(ev).get("sha256")
            if isinstance(sha, str):
                intakes[sha] = ev
            else:
                v.problems.append(Problem(f"intake event seq {ev['seq']}", "names no exhibit sha256 in its outputs (edited)"))
    exhibits = case.store.rows("SELECT * FROM exhibits ORDER BY added_at")
    labels = {}
    for ex in exhibits:
        sha, label = ex["sha256"], f"exhibit {ex['exhibit_id']} ({ex['original_name']})"
        labels[sha] = label
        ev = intakes.get(sha)
        if ev is None:
            v.problems.append(Problem(label, f"no intake event for sha256 {sha[:16]}… in the custody log (event deleted?)"))
        elif ev["hash"] != ex["intake_event_hash"]:
            v.problems.append(Problem(label, "intake event in the custody log differs from the one recorded at intake"))
        else:
            d = ev.get("details") or {}
            edited = [
                k for k in ("exhibit_id", "md5", "size", "seized_from", "acquired_by", "warrant", "notes") if k in d and d[k] != ex[k]
            ]
            edited += [k for k in EXHIBIT_SEIZURE_COLUMNS if d.get(k) != ex.get(k)]  # seizure details (#16), NULL before them
            if edited:
                v.problems.append(Problem(label, f"exhibits row edited: {', '.join(edited)} differ from its intake event seq {ev['seq']}"))
        path = case.evidence_path(sha)
        if not path.is_file():
            v.problems.append(Problem(label, f"evidence file evidence/{sha} is missing"))
            continue
        now = sha256_file(path)
        v.exhibits_checked += 1
        if now != sha:
            v.problems.append(Problem(label, f"evidence/{sha[:16]}… was altered: it now hashes to {now[:16]}…"))
    for sha in intakes.keys() - labels.keys():
        v.problems.append(
            Problem(f"intake event seq {intakes[sha]['seq']}", f"exhibit sha256 {str(sha)[:16]}… has no record in the case store")
        )
    for f in sorted(case.evidence_dir.iterdir()) if case.evidence_dir.is_dir() else []:
        if f.name not in labels:
            kind = "interrupted intake (temporary file)" if f.name.startswith(".incoming-") else "unexpected file"
            v.warnings.append(Problem(f"evidence/{f.name}", f"{kind}: not a recorded exhibit"))
    return labels


def _run_key(ev: dict) -> tuple[str, str] | None:
    parser = (ev.get("details") or {}).get("parser")
    sha = _input_sha(ev)
    return (sha, parser) if sha and isinstance(parser, str) else None


def run_records(con) -> dict[tuple[str, str], dict[str, dict]]:
    """Each run's row-table records, per table: {(exhibit, parser): {table: {rows, sha256}}}."""
    out: dict[tuple[str, str], dict[str, dict]] = {}
    for table in RECORD_TABLES:
        for (sha, parser), d in grouped(con, rows_table(table), ["exhibit_sha256", "parser"]).items():
            out.setdefault((sha, parser), {})[table] = d
    return out


def _verify_runs(case: Case, events: list[dict], labels: dict[str, str], v: Verdict) -> None:
    store = case.store
    latest: dict[tuple[str, str], dict] = {}
    started: dict[tuple[str, str], list[dict]] = {}
    unfinished: list[tuple[dict, tuple[str, str]]] = []
    for ev in sorted(events, key=lambda e: e["seq"]):
        if ev.get("action") not in ("parse-start", "parse"):
            continue
        key = _run_key(ev)
        if key is None:
            v.problems.append(Problem(f"custody event seq {ev['seq']} ({ev['action']})", "names no exhibit and parser (edited)"))
            continue
        if ev["action"] == "parse-start":
            if started.get(key):
                unfinished.append((started[key].pop(), key))
            started.setdefault(key, []).append(ev)
        else:
            latest[key] = ev
            if started.get(key):
                started[key].pop()
    unfinished += [(ev, key) for key, evs in started.items() for ev in evs]
    for ev, key in sorted(unfinished, key=lambda x: x[0]["seq"]):
        later = latest.get(key)
        again = f"; parsed again at seq {later['seq']}" if later and later["seq"] > ev["seq"] else ""
        v.warnings.append(
            Problem(
                f"custody event seq {ev['seq']} (parse-start)",
                f"{labels.get(key[0], key[0][:16])}, parser {key[1]}: no parse event follows: the ingest "
                f"did not finish, its records were not committed{again}",
            )
        )

    def name(key: tuple[str, str]) -> str:
        return f"run {key[1]} on {labels.get(key[0], 'exhibit sha256 ' + key[0][:16] + '…')}"

    rows = run_records(store.con)
    segs: dict[tuple[str, str], list[dict]] = {}
    for s in store.rows("SELECT file, tbl, exhibit_sha256, parser, rows, sha256 FROM segments ORDER BY file"):
        segs.setdefault((s["exhibit_sha256"], s["parser"]), []).append(s)
        _check_segment_file(store.segments_dir, s, name((s["exhibit_sha256"], s["parser"])), v)
    runs = {
        (r["exhibit_sha256"], r["parser"]): r
        for r in store.rows(
            "SELECT exhibit_sha256, parser, parser_version, status, CAST(records AS VARCHAR) AS records, issues, output_sha256, "
            "custody_event_hash FROM parse_runs"
        )
    }
    by_hash = {ev["hash"]: ev for ev in events}
    for key in sorted(runs.keys() | latest.keys() | rows.keys() | segs.keys()):
        run, ev = runs.get(key), latest.get(key)
        where = f"parse_runs: {name(key)}"
        if run is None:
            if ev is not None:
                v.problems.append(
                    Problem(where, f"deleted: parse event seq {ev['seq']} recorded it ({_counts(_first_output(ev).get('records'))})")
                )
            else:
                v.problems.append(
                    Problem(
                        f"records of {name(key)}",
                        "belong to no parse run and no parse event (inserted): "
                        + _counts(
                            {t: d["rows"] for t, d in rows.get(key, {}).items()}
                            | {f"{s['tbl']} (segment)": s["rows"] for s in segs.get(key, [])}
                        ),
                    )
                )
            continue
        if run["custody_event_hash"] is None:
            v.problems.append(
                Problem(
                    where,
                    "committed, but its parse event was never logged (the ingest stopped between "
                    "the two): its records are not covered by the custody log; ingest it again with --force",
                )
            )
            continue
        logged = by_hash.get(run["custody_event_hash"])
        if logged is None or logged.get("action") != "parse":
            v.problems.append(Problem(where, f"its parse event {run['custody_event_hash'][:16]}… is not in the custody log"))
            continue
        if ev is not None and logged["seq"] != ev["seq"]:
            v.problems.append(Problem(where, f"rests on parse event seq {logged['seq']}, but seq {ev['seq']} parsed the exhibit later"))
        _check_run(key, run, logged, rows.get(key, {}), segs.get(key, []), where, v)
        v.runs_checked += 1


def _counts(records: Any) -> str:
    if not isinstance(records, dict) or not records:
        return "no records"
    return ", ".join(f"{t} {n}" for t, n in sorted(records.items()))


def _check_segment_file(root: Path, s: dict, run: str, v: Verdict) -> None:
    where = f"segment {s['file']} ({s['tbl']}, {run})"
    path = root / s["file"]
    if ".." in Path(s["file"]).parts or Path(s["file"]).is_absolute():
        v.problems.append(Problem(where, "the registry names a file outside case.segments/ (edited)"))
    elif not path.is_file():
        v.problems.append(Problem(where, f"missing: its {s['rows']} records no longer appear in {s['tbl']}"))
    else:
        now = sha256_file(path)
        v.segments_checked += 1
        if now != s["sha256"]:
            v.problems.append(Problem(where, f"altered: its bytes hash to {now[:16]}…, the registry records {s['sha256'][:16]}…"))


def _check_run(key, run: dict, ev: dict, tables: dict[str, dict], segs: list[dict], where: str, v: Verdict) -> None:
    out, d = _first_output(ev), ev.get("details") or {}
    before = len(v.problems)
    if d.get("parser_version") != run["parser_version"] or d.get("status") != run["status"]:
        v.problems.append(
            Problem(
                where,
                f"edited: version {run['parser_version']}, status {run['status']} in the table; "
                f"{d.get('parser_version')}, {d.get('status')} in parse event seq {ev['seq']}",
            )
        )
    try:
        recorded_counts = json.loads(run["records"] or "{}")
    except ValueError:
        recorded_counts = None
    if recorded_counts != out.get("records") or run["output_sha256"] != out.get("sha256"):
        v.problems.append(Problem(where, f"edited: its record counts or digest differ from parse event seq {ev['seq']}"))
    if out.get("digest") != DIGEST_VERSION:
        v.warnings.append(
            Problem(
                where,
                f"recorded by a casegraph without record digests (parse event seq {ev['seq']}): "
                "its records cannot be checked against the log; ingest again with --force",
            )
        )
        return
    logged_segs = {s.get("file"): s for s in out.get("segments") or [] if isinstance(s, dict)}
    for s in segs:
        was = logged_segs.get(s["file"])
        if was is None:
            v.problems.append(
                Problem(
                    f"segment {s['file']} ({s['tbl']})",
                    f"registered, but parse event seq {ev['seq']} of {where[12:]} did not write it (planted)",
                )
            )
        elif (was.get("tbl"), was.get("rows"), was.get("sha256")) != (s["tbl"], s["rows"], s["sha256"]):
            v.problems.append(
                Problem(
                    f"segment {s['file']} ({s['tbl']})",
                    f"registry row edited: table, rows or SHA-256 differ from parse event seq {ev['seq']}",
                )
            )
    for file in logged_segs.keys() - {s["file"] for s in segs}:
        was = logged_segs[file]
        v.problems.append(
            Problem(
                f"segment {file} ({was.get('tbl')}, {where[12:]})",
                f"unregistered: parse event seq {ev['seq']} wrote it; its {was.get('rows')} records no longer appear in {was.get('tbl')}",
            )
        )
    logged_tables = out.get("tables") if isinstance(out.get("tables"), dict) else {}
    for t in sorted(logged_tables.keys() | tables.keys()):
        was, now = logged_tables.get(t) or {}, tables.get(t, {"rows": 0, "sha256": None})
        if not isinstance(was, dict) or (was.get("rows"), was.get("sha256")) != (now["rows"], now["sha256"]):
            rows_was = was.get("rows", 0) if isinstance(was, dict) else "?"
            change = f"{rows_was} rows recorded, {now['rows']} now" if rows_was != now["rows"] else f"{now['rows']} rows, content changed"
            v.problems.append(Problem(f"table {t}: {where[12:]}", f"records altered since parse event seq {ev['seq']} ({change})"))
    if len(v.problems) == before and run_digest(tables, segs) != out.get("sha256"):
        v.problems.append(Problem(where, f"its records do not give the digest recorded by parse event seq {ev['seq']}"))


def _verify_state(case: Case, events: list[dict], v: Verdict) -> None:
    latest: dict[str, dict] = {}
    for ev in sorted(events, key=lambda e: e["seq"]):
        state = (ev.get("details") or {}).get("state")
        if isinstance(state, dict):
            for t in state:
                latest[t] = ev
    con = case.store.con
    for table, by in STATE_TABLES.items():
        now = table_digest(con, table)
        v.tables_checked += 1
        ev = latest.get(table)
        if ev is None:
            if now["rows"]:
                v.problems.append(Problem(f"table {table}", f"{now['rows']} rows written by no logged command (inserted)"))
            continue
        was = ev["details"]["state"][table]
        if not isinstance(was, dict):
            v.problems.append(Problem(f"table {table}", f"custody event seq {ev['seq']} records no digest for it (edited)"))
            continue
        if (was.get("rows"), was.get("sha256")) == (now["rows"], now["sha256"]):
            continue
        recorded = f"custody event seq {ev['seq']} ({ev.get('action')})"
        parts = []
        if by and isinstance(was.get("by"), dict):
            groups = {str(k[0]): d for k, d in grouped(con, table, [by]).items()}
            for g in sorted(was["by"].keys() | groups.keys()):
                a, b = was["by"].get(g) or {}, groups.get(g, {"rows": 0, "sha256": None})
                if (a.get("rows"), a.get("sha256")) != (b["rows"], b["sha256"]):
                    parts.append(
                        f"{by} {g}: "
                        + (
                            f"{a.get('rows', 0)} rows recorded, {b['rows']} now"
                            if a.get("rows", 0) != b["rows"]
                            else f"{b['rows']} rows, content changed"
                        )
                    )
        detail = "; ".join(parts) or (
            f"{was.get('rows')} rows recorded, {now['rows']} now"
            if was.get("rows") != now["rows"]
            else f"{now['rows']} rows, content changed"
        )
        v.problems.append(Problem(f"table {table}", f"altered since {recorded}: {detail}"))
