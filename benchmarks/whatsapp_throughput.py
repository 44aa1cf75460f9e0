"""WhatsApp .txt parsing: casegraph beside chat-miner and whatstk on the same generated file.

    python benchmarks/whatsapp_throughput.py [--messages 1000000]

Generates a deterministic Android export (day-first, 24 h; multi-line messages, system lines,
media lines, unsaved numbers as senders), then parses it with each tool in its own process and
prints wall time, messages/second and peak RSS side by side. casegraph also runs on a quarter of
the file, to show its peak memory does not grow with the file. Needs: pip install chat-miner whatstk.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "out"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # time this checkout's casegraph, not an installed one
NAMES = [
    "Nuwan Agent",
    "Kasun",
    "Tharindu Silva",
    "Priya",
    "Rizwan Bro",
    "\u202a+94 76 222 3344\u202c",
    "~\u202fDilshan",
    "Chen Thailand",
    "Amma",
    "Nimal Aiya",
]
WORDS = (
    "salli passport visa ticket job Thailand Dubai agency fee advance balance slip bank account ewanna "
    "hari ow nehe mata gedara yanna ona kalabala wenna epa company contract salary USD LKR 450,000 "
    "airport tourist work permit pick up heta ada hondai"
).split()


def generate(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    t = datetime(2023, 1, 1, 8, 0)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(
            f"{t:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted. No one outside of this chat, "
            "not even WhatsApp, can read or listen to them. Tap to learn more.\n"
        )
        for i in range(n - 1):  # noqa: B007
            t += timedelta(seconds=rng.randint(5, 60))
            head = f"{t:%d/%m/%Y, %H:%M} - "
            r = rng.random()
            if r < 0.01:
                f.write(f"{head}Nuwan Agent added +94 7{rng.randint(0, 8)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}\n")
            elif r < 0.04:
                f.write(f"{head}{rng.choice(NAMES)}: <Media omitted>\n")
            else:
                body = " ".join(rng.choices(WORDS, k=rng.randint(3, 14)))
                if r > 0.9:
                    body += "\n" + " ".join(rng.choices(WORDS, k=rng.randint(2, 8)))
                f.write(f"{head}{rng.choice(NAMES)}: {body}\n")


def run_casegraph(path: str) -> int:
    from casegraph.ingest.hashing import sha256_file
    from casegraph.model import Batch
    from casegraph.parsers import Source
    from casegraph.parsers.whatsapp_export import WhatsAppExport

    src = Source(Path(path), sha256_file(Path(path)), Path(path).name)
    start = time.perf_counter()
    n = sum(len(r) for r in WhatsAppExport().parse(src) if isinstance(r, Batch) and r.table == "messages")
    return n, time.perf_counter() - start


def run_chatminer(path: str):
    from chatminer.chatparsers import WhatsAppParser

    start = time.perf_counter()
    p = WhatsAppParser(path)
    p.parse_file()
    n = len(p.parsed_messages.get_df())
    return n, time.perf_counter() - start


def run_whatstk(path: str):
    from whatstk import df_from_whatsapp

    start = time.perf_counter()
    df = df_from_whatsapp(path, auto_header=False, hformat="%d/%m/%Y, %H:%M - %name:", max_size=None)
    return len(df), time.perf_counter() - start


TOOLS = {"casegraph": run_casegraph, "chat-miner": run_chatminer, "whatstk": run_whatstk}


def child(tool: str, path: str) -> None:
    import logging

    logging.disable(logging.CRITICAL)  # chat-miner logs every system line it skips
    before = resource.getrusage(resource.RUSAGE_SELF)
    n, seconds = TOOLS[tool](path)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime  # all threads; steady on a busy machine
    print(json.dumps({"tool": tool, "messages": n, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": usage.ru_maxrss / 1024}))


def measure(tool: str, path: Path, repeat: int = 1) -> dict:
    """The run with the median time of `repeat` runs, each in a fresh process."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", tool, str(path)], capture_output=True, text=True)
        if out.returncode != 0:
            return {"tool": tool, "error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda r: r["seconds"])
    return {**runs[len(runs) // 2], "runs": len(runs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--child", nargs=2, metavar=("TOOL", "FILE"))
    ap.add_argument("--tools", default="casegraph,chat-miner,whatstk")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool (median reported); chat-miner runs once")
    a = ap.parse_args()
    if a.child:
        return child(*a.child)
    OUT.mkdir(exist_ok=True)
    big, small = OUT / f"whatsapp_{a.messages}.txt", OUT / f"whatsapp_{a.messages // 4}.txt"
    for path, n in ((big, a.messages), (small, a.messages // 4)):
        if not path.exists():
            generate(path, n)
    print(f"file: {big.name}, {big.stat().st_size / 1e6:.1f} MB, {a.messages:,} messages; machine: {os.cpu_count()} cores")
    rows = [measure(t, big, 1 if t == "chat-miner" else a.repeat) for t in a.tools.split(",")]
    rows.append({**measure("casegraph", small, a.repeat), "tool": f"casegraph (1/4 file: {a.messages // 4:,})"})
    print(f"{'tool':34} {'messages':>10} {'seconds':>9} {'cpu s':>8} {'msg/s':>10} {'peak RSS MB':>12}  (median of runs)")
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:34} error: {r['error']}")
            continue
        print(
            f"{r['tool']:34} {r['messages']:>10,} {r['seconds']:>9.2f} {r['cpu_seconds']:>8.2f} {r['messages'] / r['seconds']:>10,.0f} "
            f"{r['peak_rss_mb']:>12.0f}  ({r['runs']})"
        )
    ok = [r for r in rows if "error" not in r]
    ours = next((r for r in ok if r["tool"] == "casegraph"), None)
    others = [r for r in ok if r["tool"] in ("chat-miner", "whatstk")]
    if ours and others:
        best = min(others, key=lambda r: r["seconds"])
        print(
            f"casegraph is {best['seconds'] / ours['seconds']:.1f}x faster than the faster other tool ({best['tool']}) "
            f"in wall time, {best['cpu_seconds'] / ours['cpu_seconds']:.1f}x in CPU time; target 3x; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
