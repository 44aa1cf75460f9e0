"""Hostile JSON in Telegram, Meta and Esplora shapes: huge integers and deep nesting are bounded
(time and memory), reported as parse issues at their JSON pointer, and the rest of the file is read.

Before: a 5,000-digit integer crashed the interpreter (ijson's C backend with exact numbers stops
at CPython's 4,300-digit int limit and segfaults), which also killed every later exhibit of the
ingest; 400 KB of nesting took more than 4 GB (ijson rebuilds its prefix string per event).

Each hostile file is parsed in a child process, so a crash is a failed test (not a dead test run),
and the child reports its peak memory. Shapes: the real-shaped fixtures already in the suite
(telegram/result.json after Telegram Desktop's export; meta/message_1.json after Meta's DYI
`messages/inbox/<thread>/message_N.json`; finance/esplora_txs.json after Blockstream's Esplora
`/tx` objects), with the hostile value put where a real id, timestamp or amount sits.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from casegraph.parsers.jsonstream import MAX_DEPTH, NumberGuard, walk

FIX = Path(__file__).parent / "fixtures"
BIG = "9" * 5000
DEEP = 200_000  # 400 KB of brackets

CHILD = r"""
import json, resource, sys
from pathlib import Path
sys.path.insert(0, "tests")
from casegraph.parsers import by_name, load_all
from parse_helpers import run_parser
load_all()
recs = run_parser(by_name(sys.argv[1]), Path(sys.argv[2]))
# peak RSS of this process's own memory (VmHWM): ru_maxrss survives exec, so it would report the
# parent's peak when pytest has grown large (torch loaded by an earlier test)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
out = {"records": {}, "issues": [], "rss_mb": hwm // 1024}
for r in recs:
    out["records"][type(r).__name__] = out["records"].get(type(r).__name__, 0) + 1
    if type(r).__name__ == "ParseIssue":
        out["issues"].append([r.severity, r.prov.locator, r.message[:300]])
    if type(r).__name__ == "Message":
        out.setdefault("texts", []).append(r.text)
print(json.dumps(out))
"""


def parse_in_child(parser: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, parser, str(path)], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1]
    )
    assert done.returncode == 0, f"child died ({done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _raw_replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def telegram(tmp_path: Path, old: str, new: str) -> Path:
    p = tmp_path / "result.json"
    p.write_text(_raw_replace((FIX / "telegram/result.json").read_text(encoding="utf-8"), old, new), encoding="utf-8")
    return p


def test_telegram_huge_integer_is_an_issue_and_the_chat_goes_on(tmp_path):
    good = parse_in_child("telegram-json", FIX / "telegram/result.json")
    path = telegram(tmp_path, '"id": 101,', f'"id": {BIG},')
    out = parse_in_child("telegram-json", path)
    assert out["records"]["Message"] == good["records"]["Message"]  # every message still read
    (issue,) = [i for i in out["issues"] if "5000 digits" in i[2]]
    assert issue[0] == "error" and issue[1] == "json:/chats/list/0/messages/0/id"


def test_telegram_huge_negative_and_exponent_numbers(tmp_path):
    path = telegram(tmp_path, '"id": 101,', f'"id": -{BIG}, "x": 1e99999999,')
    out = parse_in_child("telegram-json", path)
    located = {i[1] for i in out["issues"] if "exceeds the bounds" in i[2]}
    assert located == {"json:/chats/list/0/messages/0/id", "json:/chats/list/0/messages/0/x"}


def test_telegram_deep_nesting_is_bounded_and_the_rest_is_read(tmp_path):
    good = parse_in_child("telegram-json", FIX / "telegram/result.json")
    path = telegram(tmp_path, '"id": 101,', f'"id": 101, "x": {"[" * DEEP}{"]" * DEEP},')
    out = parse_in_child("telegram-json", path)
    assert out["rss_mb"] < 400, out["rss_mb"]
    assert out["records"]["Message"] == good["records"]["Message"] - 1  # only the message holding the nesting
    (issue,) = [i for i in out["issues"] if "nesting deeper" in i[2]]
    assert issue[1].startswith("json:/chats/list/0/messages/0/x/0/0/") and "nor the value at /chats/list/0/messages/0" in issue[2]


def test_meta_thread_with_huge_timestamp_and_deep_nesting(tmp_path):
    data = json.loads((FIX / "meta/message_1.json").read_text(encoding="utf-8"))
    text = json.dumps(data)
    text = _raw_replace(text, '"timestamp_ms": 1710400000000', f'"timestamp_ms": {BIG}')
    text = _raw_replace(text, '"timestamp_ms": 1710399000000', f'"timestamp_ms": 1710399000000, "x": {"[" * DEEP}{"]" * DEEP}')
    path = tmp_path / "message_1.json"
    path.write_text(text, encoding="utf-8")
    out = parse_in_child("meta-dyi", path)
    assert out["rss_mb"] < 400, out["rss_mb"]
    assert out["records"]["Message"] == len(data["messages"]) - 1
    located = {i[1]: i[2] for i in out["issues"] if i[0] == "error"}
    assert "json:/messages/0/timestamp_ms" in located and "5000 digits" in located["json:/messages/0/timestamp_ms"]
    assert any(loc.startswith("json:/messages/1/x/0") for loc in located)


def test_esplora_huge_value_and_deep_nesting(tmp_path):
    txs = json.loads((FIX / "finance/esplora_txs.json").read_text())
    txs = txs if isinstance(txs, list) else [txs]
    text = json.dumps(txs)
    first_value = f'"value": {txs[0]["vout"][0]["value"]}'
    text = _raw_replace(text, first_value, f'"value": {BIG}')
    text = text[:-1] + f', {{"txid": "deep", "vin": [], "vout": {"[" * DEEP}{"]" * DEEP}}}, ' + json.dumps(txs[-1]) + "]"
    path = tmp_path / "txs.json"
    path.write_text(text)
    out = parse_in_child("bitcoin-esplora", path)
    assert out["rss_mb"] < 400, out["rss_mb"]
    errors = [i for i in out["issues"] if i[0] == "error"]
    assert any(i[1] == "json:/0/vout/0/value" and "5000 digits" in i[2] for i in errors)
    assert any(i[1].startswith(f"json:/{len(txs)}/vout/0") and "nesting deeper" in i[2] for i in errors)
    assert out["records"]["Transaction"] > 0  # the transactions around them are read


def test_one_hostile_exhibit_does_not_stop_the_ingest_of_the_others(case, tmp_path):
    from casegraph.ingest.evidence import add_evidence
    from casegraph.ingest.pipeline import parse_exhibit

    hostile = telegram(tmp_path, '"id": 101,', f'"id": {BIG},')
    shas = [add_evidence(case, p, f"E{i}").sha256 for i, p in enumerate([hostile, FIX / "meta/message_1.json"])]
    outcomes = [parse_exhibit(case, s) for s in shas]
    assert [o.status for o in outcomes] == ["complete", "complete"]
    assert case.store.count("parse_issues", "WHERE locator = 'json:/chats/list/0/messages/0/id'") == 1


@pytest.mark.parametrize("chunk", [1, 7, 300, 1 << 16])
def test_the_guard_leaves_digits_in_strings_and_normal_numbers_alone(chunk):
    import io

    doc = (
        '{"a": "' + "1" * 600 + '", "b": "x\\"' + "2" * 600 + '\\\\", "c": 12345678901234567890, "d": -1.5e-300, '
        '"e": [0, "\\u00e0", "q\\\\"], "f": ' + "3" * 300 + "}"
    ).encode()

    class Slow:
        def __init__(self):
            self.f = io.BytesIO(doc)

        def read(self, n=-1):
            return self.f.read(min(chunk, n) if n and n > 0 else chunk)

    got = list(walk(Slow(), {"": "root"}))
    (problem,) = [g for g in got if g[0] == "!problem"]
    (root,) = [g[2] for g in got if g[0] == "root"]
    assert root["a"] == "1" * 600 and root["b"] == 'x"' + "2" * 600 + "\\"
    assert root["c"] == 12345678901234567890 and str(root["d"]) == "-1.5E-300" and root["e"] == [0, "à", "q\\"]
    assert root["f"] is None and problem[1] == "/f"


def test_nesting_exactly_at_the_bound_is_read():
    import io

    depth = MAX_DEPTH - 2
    doc = ('{"m": [' + "[" * depth + "1" + "]" * depth + "]}").encode()
    got = list(walk(io.BytesIO(doc), {"m.item": "x"}))
    assert [g[0] for g in got] == ["x"]


def test_guard_reads_zero_bytes_without_consuming():
    import io

    g = NumberGuard(io.BytesIO(b'{"a": 1}'))
    assert g.read(0) == b"" and g.read(100) == b'{"a": 1}' and g.read(100) == b""


def test_many_long_numbers_and_digit_strings_take_linear_time():
    import io
    import time

    run = "1" * 300
    doc = ("[" + ",".join(f'"{run}", {run}' for _ in range(3000)) + "]").encode()
    t = time.perf_counter()
    got = list(walk(io.BytesIO(doc), {"item": "x"}))
    took = time.perf_counter() - t
    assert sum(g[0] == "!problem" for g in got) == 3000 and sum(g[2] == run for g in got if g[0] == "x") == 3000
    assert took < 5, took


def test_a_deep_json_value_is_refused_before_the_decoder_recurses():
    """A JSON column nested 100,000 deep segfaulted the whole test run once another library had raised the
    recursion limit: the stdlib C decoder recursed off the C stack. It is refused by counting first."""
    from casegraph.parsers.jsonstream import loads_bounded

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        with pytest.raises(ValueError, match="nested deeper"):
            loads_bounded("[" * 100_000 + "]" * 100_000)
        assert loads_bounded(
            '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'
        ) == {"a": "[" * 102}  # brackets inside a string are text, not nesting
    finally:
        sys.setrecursionlimit(old)
