"""WhatsApp exports with many media files: parse time must grow linearly with the number of members.

    python benchmarks/archive_members.py [--sizes 2000 8000] [--old REV]

Builds an iOS-style export (zip and tar) whose `_chat.txt` attaches N photos, each a member beside
it, and times the WhatsApp parser on each (every attachment is opened and hashed). With --old REV,
the archive reader of that git revision is timed too (the one that scanned the member list on
every open: 12.7 s for 2,000 media and 119 s for 8,000).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from parse_helpers import run_parser

from casegraph.parsers import whatsapp_export


def export(n: int) -> dict[str, bytes]:
    t, lines, members = datetime(2024, 3, 14, 9, 0), [], {}
    for i in range(n):
        t += timedelta(seconds=37)
        name = f"{i:08d}-PHOTO-{t:%Y-%m-%d-%H-%M-%S}.jpg"
        lines.append(f"[{t:%d/%m/%Y, %H:%M:%S}] Kasun Perera: \u200e<attached: {name}>")
        members[f"WhatsApp Chat - Kasun/{name}"] = b"\xff\xd8\xff\xe0" + i.to_bytes(4, "big") * 64
    members["WhatsApp Chat - Kasun/_chat.txt"] = ("\n".join(lines) + "\n").encode()
    return members


def build(kind: str, n: int, where: Path) -> Path:
    members = export(n)
    path = where / f"WhatsApp Chat - Kasun {n}.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in members.items():
                z.writestr(name, data)
    else:
        with tarfile.open(path, "w") as t:
            for name, data in members.items():
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return path


def old_reader(rev: str):
    """The SafeArchive of an older revision, adapted to what today's parser asks of it."""
    src = subprocess.run(["git", "show", f"{rev}:casegraph/ingest/archive.py"], capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("old_archive", loader=None)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_archive"] = mod  # dataclasses look their module up
    exec(src, mod.__dict__)
    return type("OldSafeArchive", (mod.SafeArchive,), {"notes": []})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000])
    ap.add_argument("--old", default=None, help="git revision whose archive reader to time as well")
    args = ap.parse_args()
    readers = [("now", whatsapp_export.SafeArchive)] + ([(f"at {args.old}", old_reader(args.old))] if args.old else [])
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("zip", "tar"):
            for n in args.sizes:
                path = build(kind, n, Path(tmp))
                for label, reader in readers:
                    whatsapp_export.SafeArchive = reader
                    t = time.perf_counter()
                    recs = run_parser(whatsapp_export.WhatsAppExport(), path)
                    took = time.perf_counter() - t
                    hashed = sum(1 for r in recs if getattr(r, "media_sha256", None))
                    print(f"{kind} {n:>6} media  {label:<14} {took:7.2f} s  ({hashed} attachments hashed)", flush=True)
        whatsapp_export.SafeArchive = readers[0][1]


if __name__ == "__main__":
    main()
