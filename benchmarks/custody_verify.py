"""`custody verify` on the 10,000,000-transaction case, without and with --reparse.

    nice -n 10 python benchmarks/custody_verify.py [--rows 10000000]

Builds the case from the ledger benchmarks/bank_ingest_trace.py generates (the same file, made
once in benchmarks/out/), then times, each in its own process: intake, ingest, `custody verify`
(re-hash of the evidence and the Parquet segment, the chain, every parse run's digest and the
derived tables), and `custody verify --reparse` (every record derived again from the evidence in
a scratch case and compared). Prints one JSON line per step and a summary.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bank_ingest_trace import OUT, child, ingest, intake, ledger


def run(step: str, path: str, case: str) -> dict:
    if step == "intake":
        extra = intake(path, case, "BENCH/15")
    elif step == "ingest":
        extra = ingest(case, force=False)
    else:
        from casegraph.case import Case
        from casegraph.ingest.integrity import verify_case

        with Case(case) as c:
            start = time.perf_counter()
            v = verify_case(c, reparse=step == "verify-reparse")
            extra = {
                "seconds": time.perf_counter() - start,
                "verdict": v.verdict,
                "problems": [str(p) for p in v.problems][:5],
                "runs": v.runs_checked,
                "segments": v.segments_checked,
                "reparsed": v.reparsed,
            }
    return {"step": step, **extra, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--child", nargs=3)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run(*a.child), default=str))
        return
    path = ledger(a.rows)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        case = str(Path(tmp) / "case")
        res = {step: child(__file__, step, path, case) for step in ("intake", "ingest", "verify", "verify-reparse")}
    print(f"\ncasegraph ingest                 {res['ingest']['seconds']:8.2f} s")
    print(f"custody verify                   {res['verify']['seconds']:8.2f} s   ({res['verify']['verdict']})")
    print(
        f"custody verify --reparse         {res['verify-reparse']['seconds']:8.2f} s   ({res['verify-reparse']['verdict']}, "
        f"{res['verify-reparse']['reparsed']} run(s) re-derived)"
    )


if __name__ == "__main__":
    main()
