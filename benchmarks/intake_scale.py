"""Intake at scale: a directory of N small exhibits taken in as one exhibit label.

The seconds per exhibit must stay flat as the case grows (it once rose tenfold by 3,000 exhibits:
every custody append re-read the whole log to find its tail). Prints the rate for each tenth of
the run, so a quadratic step shows as a rising column.

    nice -n 10 timeout 1800 python benchmarks/intake_scale.py 1000 3000 10000
    nice -n 10 timeout 1800 python benchmarks/intake_scale.py 1000 --parse   # and `ingest` of each

Parsing had its own quadratic step (every commit re-made the record views over a list of every
segment, and binding a view reads each file's footer); --parse shows its rate stays flat too.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from casegraph.case import Case
from casegraph.ingest.evidence import take_in
from casegraph.ingest.pipeline import parse_exhibit


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
        spans = [b - a for a, b in zip([t0] + marks, marks)]  # noqa: B905, RUF005
        out = {
            "n": n,
            "taken": len(s.taken),
            "seconds": total,
            "per_exhibit": total / n,
            "first_tenth": spans[0] / step,
            "last_tenth": spans[-1] / step,
        }
        if PARSE:  # then parse each one (a WhatsApp export each: one segment per exhibit and table)
            tenths, t = [], time.perf_counter()
            for k, r in enumerate(s.taken, 1):
                parse_exhibit(c, r.sha256)
                if k % step == 0:
                    tenths.append((time.perf_counter() - t) / step)
                    t = time.perf_counter()
            out["parse_first_tenth"], out["parse_last_tenth"] = tenths[0], tenths[-1]
    return out


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            r = run(n, Path(d))
            print(
                f"{r['n']:>6} exhibits: {r['seconds']:7.1f} s, {r['per_exhibit'] * 1000:6.1f} ms/exhibit "
                f"(first tenth {r['first_tenth'] * 1000:6.1f} ms, last tenth {r['last_tenth'] * 1000:6.1f} ms)",
                flush=True,
            )
            if PARSE:
                print(
                    f"        parse: first tenth {r['parse_first_tenth'] * 1000:6.1f} ms/exhibit, "
                    f"last tenth {r['parse_last_tenth'] * 1000:6.1f} ms/exhibit",
                    flush=True,
                )


PARSE = "--parse" in sys.argv

if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:] if a != "--parse"] or [1000, 3000, 10000])
