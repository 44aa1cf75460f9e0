"""Intake at scale: a directory of N small exhibits taken in as one exhibit label.

The seconds per exhibit must stay flat as the case grows (it once rose tenfold by 3,000 exhibits:
every custody append re-read the whole log to find its tail). Prints the rate for each tenth of
the run, so a quadratic step shows as a rising column.

    nice -n 10 timeout 900 python benchmarks/intake_scale.py 1000 3000 10000
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from casegraph.case import Case
from casegraph.ingest.evidence import take_in


def run(n: int, base: Path) -> dict:
    seized = base / f"seized-{n}"
    seized.mkdir()
    for i in range(n):  # small text exhibits, each different (a chat line and a number)
        (seized / f"note-{i:05d}.txt").write_text(f"12/03/2024, 14:{i % 60:02d} - Nuwan: call 077 {i:07d}\n")
    marks, t0 = [], time.perf_counter()
    step = max(n // 10, 1)

    def tick(_):
        tick.done += 1
        if tick.done % step == 0:
            marks.append(time.perf_counter())
    tick.done = 0
    with Case.create(base / f"case-{n}", f"BENCH/{n}", "bench") as c:
        s = take_in(c, [seized], "B1", seized_from="bench", acquired_by="bench", tick=tick)
    total = time.perf_counter() - t0
    spans = [b - a for a, b in zip([t0] + marks, marks)]
    return {"n": n, "taken": len(s.taken), "seconds": total, "per_exhibit": total / n,
            "first_tenth": spans[0] / step, "last_tenth": spans[-1] / step}


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            r = run(n, Path(d))
            print(f"{r['n']:>6} exhibits: {r['seconds']:7.1f} s, {r['per_exhibit'] * 1000:6.1f} ms/exhibit "
                  f"(first tenth {r['first_tenth'] * 1000:6.1f} ms, last tenth {r['last_tenth'] * 1000:6.1f} ms)", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 3000, 10000])
