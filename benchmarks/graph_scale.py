"""Graph build and link analysis at scale: 1M identifiers, 5M edges.

A generated store: 1,000,000 Sri Lankan mobile numbers (+9477…) exchanging 2,500,000 SMS, each
message with a sender and a recipient identifier (5,000,000 identifier rows → 5,000,000 SENT/TO
edges, plus IN and FROM_EXHIBIT), contacts cards naming 100,000 of the numbers, and communities:
numbers talk mostly inside groups of ~50. Then the steps `casegraph resolve` and `casegraph
analyze` run, timed, with the process's peak memory.

    .venv/bin/python benchmarks/graph_scale.py [--phones 1000000 --messages 2500000]
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import time
from pathlib import Path

from casegraph.findings import write_findings
from casegraph.graph import analysis, build, keys, resolve
from casegraph.store import CaseStore, rows_table

OUT = Path(__file__).parent / "out" / "graph_scale"
EX = "e" * 64


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1024**3


def generate(store: CaseStore, phones: int, messages: int, group: int = 50) -> None:
    con = store.con
    con.execute(
        "INSERT INTO exhibits (sha256, md5, size, exhibit_id, original_name, format, added_at, intake_event_hash) "
        "VALUES (?, 'x', 0, 'P1', 'generated', 'android-mmssms', now(), 'x')",
        [EX],
    )
    number = "'+9477' || lpad(CAST({} AS VARCHAR), 7, '0')"
    # a sender and, mostly, a recipient in the sender's group of `group` numbers; 5% anywhere
    con.execute(f"""
        CREATE TEMP TABLE gen AS
        SELECT i, s, CASE WHEN hash(i, 1) % 20 = 0 THEN hash(i, 2) % {phones}
                          ELSE (s // {group}) * {group} + hash(i, 3) % {group} END % {phones} AS r
        FROM (SELECT i, hash(i) % {phones} AS s FROM range({messages}) t(i))""")
    con.execute(f"""
        INSERT INTO {rows_table('messages')} (platform, chat_id, ts_local, ts_utc, utc_offset, tz_basis, sender_id, recipient_id, direction, kind,
                              text, edited, extra, exhibit_sha256, parser, parser_version, locator)
        SELECT 'sms', NULL, TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND,
               TIMESTAMPTZ '2024-01-01' + INTERVAL (i) SECOND, '+05:30', 'source', {number.format("s")}, {number.format("r")},
               'outgoing', 'text', 'msg ' || i, false, '{{}}', '{EX}', 'android-mmssms', '4', 'sqlite:sms/rowid=' || i FROM gen""")
    for role, col in (("sender", "s"), ("recipient", "r")):
        con.execute(f"""
            INSERT INTO {rows_table('identifiers')} (kind, value, role, record_id, platform, exhibit_sha256, parser, parser_version, locator)
            SELECT 'phone', {number.format(col)}, '{role}', 'messages/{EX[:32]}/android-mmssms/sqlite:sms/rowid=' || i, 'sms',
                   '{EX}', 'android-mmssms', '4', 'sqlite:sms/rowid=' || i FROM gen""")
    con.execute(f"""
        INSERT INTO {rows_table('contacts')} (source, name, phones, emails, usernames, extra, exhibit_sha256, parser, parser_version, locator)
        SELECT 'android-contacts', 'Person ' || translate(left(md5(CAST(p AS VARCHAR)), 10), '0123456789', 'ghijklmnop'), [{number.format("p")}], [], [], '{{}}', '{EX}', 'android-contacts2', '3',
               'sqlite:raw_contacts/rowid=' || p FROM range(0, {phones}, 10) t(p)""")  # noqa: E501
    con.execute(f"""
        INSERT INTO {rows_table('identifiers')} (kind, value, role, record_id, platform, exhibit_sha256, parser, parser_version, locator)
        SELECT 'phone', {number.format("p")}, 'contact', 'contacts/{EX[:32]}/android-contacts2/sqlite:raw_contacts/rowid=' || p, 'phone',
               '{EX}', 'android-contacts2', '3', 'sqlite:raw_contacts/rowid=' || p FROM range(0, {phones}, 10) t(p)""")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phones", type=int, default=1_000_000)
    ap.add_argument("--messages", type=int, default=2_500_000)
    args = ap.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    store = CaseStore(OUT / "case.duckdb")
    steps = []

    def step(name, fn):
        t = time.perf_counter()
        out = fn()
        steps.append((name, time.perf_counter() - t, peak_gb()))
        print(f"{name:28} {steps[-1][1]:8.1f} s   peak RSS so far {steps[-1][2]:5.2f} GB   RSS after {rss_gb():5.2f} GB", flush=True)
        return out

    step("generate store", lambda: generate(store, args.phones, args.messages))
    step("identifier keys", lambda: keys.refresh(store))
    res = step("resolve entities", lambda: resolve.resolve(store))
    step("write entities", lambda r=res: resolve.write(store, r))
    del res  # the resolution (every member in Python) is not needed by the steps after it
    gc.collect()
    built = step("build property graph", lambda: build.build(store))
    g = step("party graph (networkx)", lambda: analysis.party_graph(store))
    print(
        f"  party graph: {g.number_of_nodes():,} nodes, {g.number_of_edges():,} ties; property graph: "
        + ", ".join(f"{v:,} {k}" for k, v in built.items())
    )
    del g
    _, findings = step("analyse (all analyses)", lambda: analysis.analyse(store))
    step("write findings", lambda: write_findings(store, findings, analysis.DETECTOR))
    print(f"total {sum(s[1] for s in steps[1:]):.1f} s after generation; {len(findings)} findings; peak RSS {peak_gb():.2f} GB")
    store.close()


if __name__ == "__main__":
    main()
