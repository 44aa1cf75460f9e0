"""The bounded JSON walker on a large Telegram-shaped export, and on hostile nesting.

    python benchmarks/json_walk.py [--messages 150000] [--old REV]

Times `jsonstream.walk` over a generated result.json (one chat, N messages with text entities,
Sinhala text and escapes), then over 400 KB of nesting, printing wall time and peak RSS. With
--old REV the walker of that git revision runs on the same file (its ijson.parse prefixes grow
with the square of the depth, so the nesting case is not given to it).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casegraph.parsers import jsonstream

TARGETS = {"chats.list.item.messages.item": "message", "chats.list.item.name": "chat.name"}


def export(n: int) -> bytes:
    msgs = [
        {
            "id": i,
            "type": "message",
            "date": "2024-01-01T10:00:00",
            "date_unixtime": "1704103200",
            "from": "Nimal Perera",
            "from_id": "user12345",
            "text": ['call "me" \\ ', {"type": "phone", "text": "+94771234567"}, " හෙට එන්න "],
            "text_entities": [{"type": "plain", "text": "call"}, {"type": "phone", "text": "+94771234567"}],
        }
        for i in range(n)
    ]
    return json.dumps(
        {"chats": {"list": [{"name": "Kasun", "type": "personal_chat", "id": 1, "messages": msgs}]}}, ensure_ascii=False
    ).encode()


def old_walk(rev: str):
    src = subprocess.run(["git", "show", f"{rev}:casegraph/parsers/jsonstream.py"], capture_output=True, text=True, check=True).stdout
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("old_jsonstream", loader=None))
    exec(src, mod.__dict__)
    return mod.walk


def timed(label: str, walk, data: bytes, targets: dict) -> None:
    t = time.perf_counter()
    n = sum(1 for _ in walk(io.BytesIO(data), targets))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{label:<34} {n:>8} values  {time.perf_counter() - t:6.2f} s  peak RSS so far {rss} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=150_000)
    ap.add_argument("--old", default=None)
    args = ap.parse_args()
    data = export(args.messages)
    print(f"export: {len(data) >> 20} MB, {args.messages} messages")
    walkers = [("now", jsonstream.walk)] + ([(f"at {args.old}", old_walk(args.old))] if args.old else [])
    for label, walk in walkers * 2:
        timed(f"telegram export, walker {label}", walk, data, TARGETS)
    deep = b'{"messages": [{"id": 1}, ' + b"[" * 200_000 + b"]" * 200_000 + b', {"id": 3}]}'
    timed("400 KB of nesting, walker now", jsonstream.walk, deep, {"messages.item": "m"})


if __name__ == "__main__":
    main()
