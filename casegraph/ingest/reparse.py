"""`custody verify --reparse`: derive every parse run's records again from the evidence, with the
parser version and options its custody event records, in a scratch case, and compare them with the
stored records table by table. This shows the parsers operating properly on these exhibits (the
certificate's "proper operation"), not only that nothing changed since they ran.

Records are compared by the same canonical digest the parse event records: the row tables as
stored, the Parquet segments by the SHA-256 of their bytes, and where the bytes differ (another
Arrow version writes other bytes for the same rows) by the canonical digest of the rows they hold.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import duckdb

from ..case import Case
from ..parsers import by_name, load_all
from ..store import rows_table
from .custody import Problem
from .digest import grouped


def reparse_case(case: Case, labels: dict[str, str], v) -> int:
    """Re-derive every parse run; problems go to `v`. Returns how many runs were re-derived."""
    load_all()
    store = case.store
    by_hash = {e["hash"]: e for e in case.custody.events()}
    runs = store.rows("SELECT exhibit_sha256, parser, parser_version, custody_event_hash FROM parse_runs ORDER BY 1, 2")
    done = 0
    tmp = Path(tempfile.mkdtemp(prefix=".reparse-", dir=case.root))
    try:
        scratch = Case.create(tmp / "case", case.info.case_no, case.info.examiner, timezone=case.info.timezone)
        with scratch:
            for run in runs:
                key = (run["exhibit_sha256"], run["parser"])
                where = f"--reparse: run {key[1]} on {labels.get(key[0], key[0][:16])}"
                ev = by_hash.get(run["custody_event_hash"] or "")
                details = (ev or {}).get("details") or {}
                try:
                    parser = by_name(key[1])
                except KeyError:
                    v.problems.append(Problem(where, f"cannot re-derive: this casegraph has no parser {key[1]}"))
                    continue
                if parser.version != run["parser_version"] or details.get("parser_version") != run["parser_version"]:
                    v.problems.append(
                        Problem(
                            where,
                            f"cannot re-derive: the run used version {details.get('parser_version')}, this casegraph has {parser.version}",
                        )
                    )
                    continue
                if not _stage(case, scratch, key[0]):
                    v.problems.append(Problem(where, "cannot re-derive: its evidence file is missing"))
                    continue
                from .pipeline import parse_exhibit

                options = details.get("options") if isinstance(details.get("options"), dict) else None
                try:
                    parse_exhibit(scratch, key[0], key[1], force=True, options=options or None)
                except (KeyError, ValueError, OSError) as e:
                    v.problems.append(Problem(where, f"cannot re-derive: {type(e).__name__}: {e}"))
                    continue
                for problem in _compare(store, scratch.store, key):
                    v.problems.append(Problem(where, problem))
                done += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done


def _stage(case: Case, scratch: Case, sha: str) -> bool:
    """The exhibit in the scratch case: its bytes linked (not copied), its row copied."""
    src, dst = case.evidence_path(sha), scratch.evidence_path(sha)
    if not src.is_file():
        return False
    if not dst.exists():
        try:
            os.link(src, dst)
        except OSError:
            os.symlink(src.resolve(), dst)
    if not scratch.store.one("SELECT 1 FROM exhibits WHERE sha256 = ?", [sha]):
        row = case.store.rows("SELECT * FROM exhibits WHERE sha256 = ?", [sha])[0]
        cols = list(row)
        scratch.store.con.execute(f"INSERT INTO exhibits ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(row.values()))
    return True


def _compare(stored, fresh, key: tuple[str, str]) -> list[str]:
    from ..store import RECORD_TABLES

    where, params = "WHERE exhibit_sha256 = ? AND parser = ?", list(key)
    out = []
    for table in RECORD_TABLES:
        a = grouped(stored.con, rows_table(table), [], where, params).get((), {"rows": 0, "sha256": None})
        b = grouped(fresh.con, rows_table(table), [], where, params).get((), {"rows": 0, "sha256": None})
        sa, sb = _segments(stored, table, key), _segments(fresh, table, key)
        if a == b and sa == sb:
            continue
        if sa != sb:  # the bytes differ: compare the rows the segments hold
            try:
                a = grouped(stored.con, table, [], where, params).get((), {"rows": 0, "sha256": None})
            except duckdb.Error as e:
                out.append(f"table {table}: a stored segment cannot be read ({str(e).splitlines()[0][:120]})")
                continue
            b = grouped(fresh.con, table, [], where, params).get((), {"rows": 0, "sha256": None})
            if a == b:
                continue
        out.append(
            f"table {table}: the stored records differ from those derived again from the evidence "
            f"({a['rows']} stored, {b['rows']} derived again" + (", content differs)" if a["rows"] == b["rows"] else ")")
        )
    return out


def _segments(store, table: str, key: tuple[str, str]) -> Counter:
    return Counter(
        store.con.execute("SELECT rows, sha256 FROM segments WHERE tbl = ? AND exhibit_sha256 = ? AND parser = ?", [table, *key]).fetchall()
    )
