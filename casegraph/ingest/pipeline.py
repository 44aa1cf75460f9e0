"""Parse exhibits into the case store.

One exhibit, one parser, one transaction: the records and the parse_runs row commit together or
not at all. A "parse-start" event is logged before and a "parse" event (with the digest of what
the run stored, see `digest`) after, so an interrupted ingest is visible in the custody log and leaves no
half-written rows. Re-parsing the same exhibit with the same parser version is a no-op.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..case import Case
from ..model import Batch, ParseIssue, Provenance, Record
from ..parsers import Parser, Source, by_name, load_all
from ..store import RECORD_TABLES, rows_table, to_json
from .detect import UNRECOGNISED, examine
from .digest import DIGEST_VERSION, run_digest, table_digest

BATCH = 20_000


def _import_pandas_behind() -> None:
    """Start importing pandas on a thread of its own. pyarrow imports it (0.7 s of the GIL) the first time any
    Arrow array is built from Python or numpy, and a parse builds its first one only once its run is logged
    and the exhibit probed: by then the import, begun here, is done instead of stalling the first block.
    (The parser modules build no Arrow array when imported, so that this can run first; a test keeps it so.)"""
    if "pandas" not in sys.modules:
        threading.Thread(target=_import_quietly, args=("pandas",), name="casegraph-import-pandas").start()


def _import_quietly(name: str) -> None:
    with contextlib.suppress(ImportError):  # pyarrow then finds no pandas either, and goes on without it
        importlib.import_module(name)


@dataclass
class ParseOutcome:
    sha256: str
    exhibit_id: str
    name: str
    parser: str | None
    status: str  # complete | partial | skipped | unrecognised
    records: dict[str, int] = field(default_factory=dict)
    issues: int = 0
    message: str = ""


def configured(parser: Parser, options: dict[str, str] | None) -> Parser:
    """A parser instance with examiner-given options (e.g. date_order=DMY, languages=eng+sin)."""
    if not options:
        return parser
    accepted = set(inspect.signature(type(parser).__init__).parameters) - {"self"}
    unknown = set(options) - accepted
    if unknown:
        raise ValueError(
            f"parser {parser.name} takes no option {', '.join(sorted(unknown))} (it takes: {', '.join(sorted(accepted)) or 'none'})"
        )
    return type(parser)(**options)


def option_names(parser: Parser) -> set[str]:
    """The options (--option KEY=VALUE) a parser takes."""
    return set(inspect.signature(type(parser).__init__).parameters) - {"self"}


def _chosen(path: Path, name: str, recorded: str | None, parser_name: str | None) -> Parser:
    """The parser a run of this exhibit file uses: the one forced, else the format recorded at intake."""
    load_all()
    parser: Parser | None = by_name(parser_name) if parser_name else _recorded(recorded)
    if parser is None:  # no parser reads it: a run of `unrecognised` records why (issue, run, custody event)
        parser = examine(path, name).parser or by_name(UNRECOGNISED)
    return parser


def options_per_file(
    case: Case, sha256s: list[str], parser_name: str | None, options: dict[str, str]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Which of the examiner's options each exhibit file's parser takes: an exhibit often holds a chat,
    images and contacts, and date_order means something only to the chat's parser. Returns the options
    per file and one line per option naming the files parsed without it. An option that no file's
    parser takes is an error naming the parsers that take it."""
    files = {
        r["sha256"]: r
        for r in case.store.rows("SELECT sha256, exhibit_id, original_name, format FROM exhibits WHERE list_contains(?, sha256)", [sha256s])
    }
    parsers = {sha: _chosen(case.evidence_path(sha), files[sha]["original_name"], files[sha]["format"], parser_name) for sha in sha256s}
    per_file = {sha: {k: v for k, v in options.items() if k in option_names(p)} for sha, p in parsers.items()}
    lines = []
    for key in options:
        takers = [sha for sha in sha256s if key in per_file[sha]]
        if not takers:
            able = sorted(p.name for p in load_all() if key in option_names(p))
            here = ", ".join(sorted({p.name for p in parsers.values()}))
            if not able:
                raise ValueError(f"option {key}: no parser takes it (see 'casegraph parsers')")
            raise ValueError(
                f"option {key}: no parser of the files chosen takes it (they are read by {here}); it is taken by "
                f"{', '.join(able)}. Pick one file with --exhibit SHA256-PREFIX (see 'casegraph evidence list'), or a parser with --parser"
            )
        left = [f"{files[sha]['original_name']} ({parsers[sha].name})" for sha in sha256s if key not in per_file[sha]]
        if left:
            used = ", ".join(f"{files[sha]['original_name']} ({parsers[sha].name})" for sha in takers)
            lines.append(f"option {key} applies to {used}; parsed without it (their parser does not take it): {', '.join(left)}")
    return per_file, lines


def parse_exhibit(
    case: Case,
    sha256: str,
    parser_name: str | None = None,
    *,
    force: bool = False,
    options: dict[str, str] | None = None,
    actor: str | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ParseOutcome:
    store = case.store
    ex = store.rows("SELECT exhibit_id, original_name, format FROM exhibits WHERE sha256 = ?", [sha256])
    if not ex:
        raise KeyError(f"no exhibit with sha256 {sha256}")
    exhibit_id, name, recorded = ex[0]["exhibit_id"], ex[0]["original_name"], ex[0]["format"]
    path = case.evidence_path(sha256)
    parser = configured(_chosen(path, name, recorded, parser_name), options)
    done = store.one(
        "SELECT status FROM parse_runs WHERE exhibit_sha256=? AND parser=? AND parser_version=?", [sha256, parser.name, parser.version]
    )
    if done and not force:
        if parser.name == UNRECOGNISED:
            return ParseOutcome(sha256, exhibit_id, name, None, "unrecognised", message=_reason(store, sha256))
        return ParseOutcome(
            sha256, exhibit_id, name, parser.name, "skipped", message=f"already parsed by {parser.name} {parser.version} ({done[0]})"
        )

    _import_pandas_behind()  # a parse is about to run (a skipped one builds no array and should not wait for it at exit)
    ref = {"exhibit_id": exhibit_id, "sha256": sha256, "name": name}
    settings = {"parser": parser.name, "parser_version": parser.version, "options": options or {}, "force": force}
    case.log("parse-start", actor, inputs=[ref], details=settings)
    started = datetime.now(UTC)
    src = Source(path, sha256, name)
    counts: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    status = "unrecognised" if parser.name == UNRECOGNISED else "complete"
    with store.transaction() as con:
        # a run replaces whatever this parser (any version, any options) derived from the exhibit before
        con.execute("DELETE FROM parse_runs WHERE exhibit_sha256=? AND parser=?", [sha256, parser.name])
        store.clear(sha256, parser.name)
        batch: list[Record] = []
        try:
            for rec in parser.parse(src):
                batch.append(rec)
                if len(batch) >= BATCH or isinstance(rec, Batch):
                    _flush(store, batch, counts, severities, on_batch)
        except Exception as e:  # a fatal error mid-exhibit: keep what was read, record why it stopped
            status = "partial"
            batch.append(
                ParseIssue(
                    prov=Provenance(sha256, parser.name, parser.version, "exhibit"),
                    message=f"{name}: parsing stopped: {type(e).__name__}: {e}",
                )
            )
        _flush(store, batch, counts, severities, on_batch)
        issues = severities["error"] + severities["warning"]
        # columnar batches are in Parquet segments, hashed as they were written; row records are digested
        # as stored, so that custody verify can recompute the same digest from the store
        store.seal()
        segs = [
            dict(zip(("file", "tbl", "rows", "sha256"), r, strict=True))
            for r in con.execute(
                "SELECT file, tbl, rows, sha256 FROM segments WHERE exhibit_sha256=? AND parser=? ORDER BY tbl, file", [sha256, parser.name]
            ).fetchall()
        ]
        tables = {
            t: d
            for t in RECORD_TABLES
            if t in counts  # only the tables this run wrote
            if (d := table_digest(con, rows_table(t), "WHERE exhibit_sha256 = ? AND parser = ?", [sha256, parser.name]))["rows"]
        }
        output_sha256 = run_digest(tables, segs)
        con.execute(
            "INSERT INTO parse_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [sha256, parser.name, parser.version, started, datetime.now(UTC), status, to_json(dict(counts)), issues, output_sha256],
        )
    event = case.log(
        "parse",
        actor,
        inputs=[ref],
        outputs=[
            {
                "records": dict(counts),
                "sha256": output_sha256,
                "digest": DIGEST_VERSION,
                "tables": tables,
                "segments": segs,
                "note": "per table, a sha256 over the sorted sha256 of each stored row's canonical JSON; "
                "each Parquet segment by the sha256 of its bytes; the run's sha256 over both",
            }
        ],
        details={**settings, "status": status},
    )
    con.execute(
        "UPDATE parse_runs SET custody_event_hash=? WHERE exhibit_sha256=? AND parser=? AND parser_version=?",
        [event["hash"], sha256, parser.name, parser.version],
    )
    if parser.name == UNRECOGNISED:
        return ParseOutcome(sha256, exhibit_id, name, None, status, dict(counts), issues, _reason(store, sha256))
    return ParseOutcome(sha256, exhibit_id, name, parser.name, status, dict(counts), issues)


def _reason(store, sha256: str) -> str:
    """The reason the `unrecognised` run recorded for an exhibit."""
    row = store.one("SELECT message FROM parse_issues WHERE exhibit_sha256=? AND parser=? ORDER BY locator LIMIT 1", [sha256, UNRECOGNISED])
    return row[0] if row else "format not recognised by any parser; name one with --parser"


def _recorded(fmt: str | None) -> Parser | None:
    """The parser intake detected (and recorded on the exhibit), if it still exists."""
    try:
        return by_name(fmt) if fmt else None
    except KeyError:
        return None


def _flush(store, batch: list[Record], counts: Counter, severities: Counter, on_batch) -> None:
    if not batch:
        return
    rows = 0
    for r in batch:
        if isinstance(r, Batch):  # columnar: hashed as its segment file is written
            rows += len(r)
            continue
        if isinstance(r, ParseIssue):
            severities[r.severity] += 1
        rows += 1
    before = store.time_issues
    counts.update(store.write(batch))
    severities["warning"] += store.time_issues - before  # DST fold/gap warnings the store wrote for these records
    if on_batch:
        on_batch(rows)
    batch.clear()


def known_parsers() -> list[Parser]:
    return sorted(load_all(), key=lambda p: p.name)
