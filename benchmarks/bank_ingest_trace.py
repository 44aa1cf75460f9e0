"""10,000,000-row bank ledger: casegraph's ingest beside a bare pyarrow.csv.read_csv, then a 6-hop trace.

    python benchmarks/bank_ingest_trace.py [--rows 10000000] [--repeat 3]

Generates (once) a ledger of transfers between 1,000,000 accounts in the `bank-ledger` profile's
layout, then measures, each in its own process: pyarrow.csv.read_csv of the file (all threads);
casegraph evidence intake (hash + read-only copy); casegraph ingest (parse to exact decimals and
UTC times with provenance, written to the case store: a Parquet segment registered in DuckDB, with the
parse run and its custody events); building the money graph; and a 6-hop time-respecting trace from
one account (median of 5). read_csv and ingest alternate `--repeat` times; medians are reported.
Targets (issue #4): ingest within 1.5x of read_csv; trace < 1 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"


def generate(path: Path, rows: int, accounts: int = 1_000_000, seed: int = 11) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    with pacsv.CSVWriter(
        path,
        pa.schema([(n, pa.string()) for n in ("Txn Time", "Reference", "From Account", "To Account", "Amount", "Currency", "Narration")]),
    ) as w:
        start = np.datetime64("2024-01-01T00:00:00")
        chunk = 1_000_000
        for lo in range(0, rows, chunk):
            n = min(chunk, rows - lo)
            t = start + np.sort(rng.integers(0, 365 * 86400, n)).astype("timedelta64[s]")
            frm = rng.integers(0, accounts, n)
            to = (frm + rng.integers(1, accounts, n)) % accounts
            cents = rng.lognormal(10, 1.5, n).astype(np.int64) + 100
            amount = pc.binary_join_element_wise(
                pa.array(cents // 100).cast(pa.string()), pc.utf8_lpad(pa.array(cents % 100).cast(pa.string()), 2, "0"), "."
            )
            acct = lambda a: pc.utf8_lpad(pa.array(a).cast(pa.string()), 10, "0")  # noqa: E731
            w.write_table(
                pa.table(
                    {
                        "Txn Time": pc.strftime(pa.array(t), format="%Y-%m-%d %H:%M:%S"),
                        "Reference": pc.binary_join_element_wise("FT", pa.array(np.arange(lo, lo + n)).cast(pa.string()), ""),
                        "From Account": acct(frm),
                        "To Account": acct(to),
                        "Amount": amount,
                        "Currency": pa.repeat("LKR", n),
                        "Narration": pc.binary_join_element_wise("CEFT ", acct(to), ""),
                    }
                )
            )


def run(step: str, path: str, case: str) -> dict:
    start = time.perf_counter()
    extra = {}
    if step == "read_csv":
        import pyarrow.csv as pacsv

        extra["rows"] = pacsv.read_csv(path).num_rows
    else:
        from casegraph.case import Case

        if step == "intake":
            from casegraph.ingest.evidence import add_evidence

            with Case.create(case, "BENCH/1", "benchmark") as c:
                start = time.perf_counter()
                extra["sha256"] = add_evidence(c, Path(path), "L1").sha256
        elif step == "ingest":
            from casegraph.ingest.pipeline import parse_exhibit

            with Case(case) as c:
                sha = c.store.con.execute("SELECT sha256 FROM exhibits").fetchone()[0]
                start = time.perf_counter()
                o = parse_exhibit(c, sha, force=True)  # a re-run replaces the previous run's segment
                extra.update(rows=o.records.get("transactions"), status=o.status, issues=o.issues)
        elif step == "trace":
            from casegraph.finance.flows import Flows
            from casegraph.finance.trace import trace

            with Case(case) as c:
                start = time.perf_counter()
                flows = Flows.load(c.store)
                extra["graph_seconds"] = time.perf_counter() - start
                origin = flows.accounts[int(flows.src[0])]
                for model in ("poison", "haircut", "fifo"):
                    times, reached = [], 0
                    for _ in range(5):
                        t0 = time.perf_counter()
                        reached = len(trace(c.store, origin, hops=6, model=model, flows=flows).reached)
                        times.append(time.perf_counter() - t0)
                    extra[f"trace_{model}_seconds"] = statistics.median(times)
                extra.update(trace_seconds=extra["trace_poison_seconds"], reached=reached, origin=origin)
    return {
        "step": step,
        "seconds": time.perf_counter() - start,
        **extra,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--child", nargs=3)
    ap.add_argument("--repeat", type=int, default=3, help="runs of read_csv and of ingest, alternating (medians reported)")
    ap.add_argument("--keep", default=None, help="build the case in this directory and keep it (for profiling)")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run(*a.child), default=str))
        return
    OUT.mkdir(exist_ok=True)
    path = OUT / f"ledger_{a.rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        generate(path, a.rows)
        print(f"generated {path.name} in {time.perf_counter() - t:.1f}s")
    print(f"file: {path.name}, {path.stat().st_size / 1e9:.2f} GB, {a.rows:,} rows")
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        case = a.keep or str(Path(tmp) / "case")
        res = {}
        steps = ("read_csv", "intake", "ingest", *[s for _ in range(a.repeat - 1) for s in ("read_csv", "ingest")], "trace")
        runs: dict[str, list[dict]] = {}
        for step in steps:
            p = subprocess.run([sys.executable, __file__, "--child", step, str(path), case], capture_output=True, text=True)
            if p.returncode:
                print(p.stderr[-3000:])
                raise SystemExit(f"{step} failed")
            runs.setdefault(step, []).append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[step][-1]))
    res = {step: sorted(rs, key=lambda x: x["seconds"])[len(rs) // 2] for step, rs in runs.items()}  # the median run
    r, i, g, t = res["read_csv"]["seconds"], res["ingest"]["seconds"], res["trace"]["graph_seconds"], res["trace"]["trace_seconds"]
    each = lambda step: ", ".join(f"{x['seconds']:.2f}" for x in runs[step])  # noqa: E731
    print(f"\npyarrow.csv.read_csv      {r:8.2f} s   (median of {each('read_csv')})")
    print(f"casegraph intake (hash)   {res['intake']['seconds']:8.2f} s")
    print(
        f"casegraph ingest          {i:8.2f} s   = {i / r:.2f}x read_csv (target 1.5x; median of {each('ingest')}; "
        f"peak RSS {res['ingest']['peak_rss_mb']:,.0f} MB)"
    )
    print(f"money graph build         {g:8.2f} s")
    for model in ("poison", "haircut", "fifo"):
        print(
            f"6-hop trace, {model:8} {res['trace'][f'trace_{model}_seconds']:8.3f} s   (median of 5; reached "
            f"{res['trace']['reached']:,} accounts; target < 1 s)"
        )


if __name__ == "__main__":
    main()
