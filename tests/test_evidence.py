import hashlib
import stat

import pytest

from casegraph.case import Case, CaseError
from casegraph.ingest.evidence import IntakeError, add_evidence, expand


def test_case_init_creates_layout(case):
    for name in ("case.toml", "evidence", "custody.jsonl", "case.duckdb", "reports", "bundles"):
        assert (case.root / name).exists(), name
    events = case.custody.events()
    assert [e["action"] for e in events] == ["case-created"]
    assert events[0]["details"]["case_no"] == "HTS/TEST/1"


def test_case_init_refuses_existing_case_and_bad_zone(case, tmp_path):
    with pytest.raises(CaseError, match="already a case"):
        Case.create(case.root, "X", "Y")
    with pytest.raises(CaseError, match="unknown time zone"):
        Case.create(tmp_path / "other", "X", "Y", timezone="Mars/Olympus")


def test_intake_hashes_stores_read_only_and_logs(case, tmp_path):
    original = tmp_path / "chat.txt"
    data = b"12/03/2024, 14:23 - Nuwan: hello\n" * 1000
    original.write_bytes(data)
    r = add_evidence(case, original, "P1", seized_from="suspect", acquired_by="IP A", warrant="B/1/2024")
    assert r.sha256 == hashlib.sha256(data).hexdigest()
    assert r.md5 == hashlib.md5(data).hexdigest()
    stored = case.evidence_path(r.sha256)
    assert stored.read_bytes() == data and original.read_bytes() == data
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    row = case.store.rows("SELECT * FROM exhibits")[0]
    assert (row["exhibit_id"], row["md5"], row["size"], row["warrant"]) == ("P1", r.md5, len(data), "B/1/2024")
    event = case.custody.events()[-1]
    assert event["action"] == "intake" and event["inputs"][0]["sha256"] == r.sha256
    assert event["hash"] == row["intake_event_hash"]
    assert event["tool"].startswith("casegraph ") and event["time"][-6] in "+-"  # zone-qualified time


def test_same_bytes_twice_is_recorded_not_duplicated(case, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "copy-of-a.txt"
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    first = add_evidence(case, a, "P1")
    second = add_evidence(case, b, "P7")
    assert second.duplicate_of == "P1" and second.sha256 == first.sha256
    assert case.store.count("exhibits") == 1
    assert len(list(case.evidence_dir.iterdir())) == 1
    dup = case.custody.events()[-1]
    assert dup["action"] == "intake-duplicate" and dup["details"]["first_taken_as"] == "P1"
    assert dup["inputs"][0]["name"] == "copy-of-a.txt"


def test_expand_walks_directories_in_stable_order(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.txt", "d/a.txt", "d/sub/c.txt"):
        (tmp_path / name).write_text(name)
    assert [p.name for p in expand([tmp_path / "d"])] == ["a.txt", "b.txt", "c.txt"]
    with pytest.raises(IntakeError, match="missing: no such file or directory"):
        list(expand([tmp_path / "missing"]))
