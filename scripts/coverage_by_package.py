"""Per-package line coverage from coverage's JSON report (pytest --cov-report=json:PATH), and the
modules with no or low coverage.  .venv/bin/python scripts/coverage_by_package.py coverage.json"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import PurePath

LOW = 60.0  # percent


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        files = json.load(f)["files"]
    pkgs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    low = []
    for name, f in files.items():
        s = f["summary"]
        pkg = ".".join(PurePath(name).parent.parts[PurePath(name).parts.index("casegraph") :])
        pkgs[pkg][0] += s["covered_lines"]
        pkgs[pkg][1] += s["num_statements"]
        if s["num_statements"] and s["percent_covered"] < LOW:
            low.append((s["percent_covered"], name))
    print(f"{'package':32} {'statements':>10} {'covered':>8}")
    for pkg, (cov, n) in sorted(pkgs.items()):
        print(f"{pkg:32} {n:>10} {100 * cov / max(n, 1):>7.1f}%")
    if low:
        print(f"modules under {LOW:.0f}% line coverage:")
        for pct, name in sorted(low):
            print(f"  {pct:5.1f}%  {name}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "coverage.json")
