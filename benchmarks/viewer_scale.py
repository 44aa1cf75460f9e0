"""The portable case viewer on a generated chat: build time and size of its files, then in headless
Chromium (Debian's package, Playwright) over file://: time to open, a search, a thread page.

    python benchmarks/viewer_scale.py [--messages 100000]

The chat is whatsapp_throughput's deterministic Android export. The whole database is loaded into
the page's memory (sql.js), so the open time and the page's memory grow with the case.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from whatsapp_throughput import generate

from casegraph.case import Case
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.pipeline import parse_exhibit
from casegraph.reports import content, viewer
from casegraph.reports.redact import Redactor


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    n = ap.parse_args().messages
    with tempfile.TemporaryDirectory() as tmp:
        chat = Path(tmp) / "WhatsApp Chat with Nuwan Agent.txt"
        generate(chat, n)
        with Case.create(Path(tmp) / "case", "BENCH/1", "IP Bench", "viewer benchmark") as c:
            sha = add_evidence(c, chat, "X1").sha256
            parse_exhibit(c, sha)
            t = time.perf_counter()
            files = viewer.files_for(c, content.gather(c), Redactor.none())
            build = time.perf_counter() - t
        out = Path(tmp) / "viewer"
        for name, data in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        size = {k.split("/")[-1]: len(v) for k, v in files.items()}
        total = sum(size.values()) / 1e6
        print(f"{n:,} messages: viewer built in {build:.1f} s; case-data.js {size['case-data.js'] / 1e6:.1f} MB, all files {total:.1f} MB")
        from playwright.sync_api import sync_playwright

        url = (out / "viewer" / "index.html").as_uri()
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = b.new_page()
            page.set_default_timeout(600_000)
            t = time.perf_counter()
            page.goto(url, timeout=600_000)
            page.wait_for_selector("body[data-ready='1']", timeout=600_000)
            took = time.perf_counter() - t
            print(f"open (read the scripts, unpack, load the database, overview shown): {took:.2f} s; {page.evaluate('window.__cgTiming')}")
            for what, hash_, sel in (
                ("search 'passport' (count + first page)", "#/search?q=passport", "#hits"),
                ("search 'passport ticket'", "#/search?q=passport%20ticket", "#hits"),
                ("thread, first page", "#/chats?chat=" + c_key(files), "#thread"),
                ("thread, jump to a late date", "#/chats?chat=" + c_key(files) + "&day=2023-02-20", "#thread"),
                ("timeline", "#/timeline", "#bars"),
                ("graph", "#/graph", "#cy"),
            ):
                t = time.perf_counter()
                page.evaluate(f"location.hash = {hash_!r}")
                page.wait_for_selector(sel)
                page.wait_for_timeout(0)
                print(f"{what}: {time.perf_counter() - t:.3f} s")
                page.evaluate("location.hash = '#/overview'")
            b.close()


def c_key(files: dict[str, bytes]) -> str:
    import sqlite3

    con = sqlite3.connect(":memory:")
    con.deserialize(viewer.read_database(files["viewer/case-data.js"]))
    return str(con.execute("SELECT n FROM chats ORDER BY messages DESC LIMIT 1").fetchone()[0])


if __name__ == "__main__":
    main()
