"""Tamper tests: every kind of alteration is detected and named."""

import json
import os

import pytest

from casegraph.ingest.custody import event_hash
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.integrity import verify_case


@pytest.fixture
def populated(case, tmp_path):
    for i in range(4):
        f = tmp_path / f"exhibit{i}.txt"
        f.write_text(f"exhibit number {i}\n")
        add_evidence(case, f, f"P{i}")
    return case


def _lines(case):
    return case.custody.path.read_text().splitlines()


def _write(case, lines):
    case.custody.path.write_text("\n".join(lines) + "\n")


def _problems(case):
    v = verify_case(case)
    return v, " | ".join(map(str, v.problems))


def test_intact_case_verifies(populated):
    v, text = _problems(populated)
    assert v.ok, text
    assert v.events == 5 and v.exhibits_checked == 4


def test_changed_evidence_byte_is_named(populated):
    row = populated.store.rows("SELECT sha256 FROM exhibits WHERE exhibit_id='P2'")[0]
    path = populated.evidence_path(row["sha256"])
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    v, text = _problems(populated)
    assert not v.ok
    assert len(v.problems) == 1 and "exhibit P2 (exhibit2.txt)" in text and "was altered" in text


def test_edited_event_is_named(populated):
    lines = _lines(populated)
    ev = json.loads(lines[2])
    ev["actor"] = "someone else"
    lines[2] = json.dumps(ev)
    _write(populated, lines)
    v, text = _problems(populated)  # noqa: RUF059
    assert "line 3 (seq 3, intake)" in text and "content was altered" in text


def test_edited_and_rehashed_event_breaks_the_chain(populated):
    lines = _lines(populated)
    ev = json.loads(lines[2])
    ev["details"]["warrant"] = "forged"
    ev["hash"] = event_hash(ev)
    lines[2] = json.dumps(ev)
    _write(populated, lines)
    v, text = _problems(populated)  # noqa: RUF059
    assert "line 4 (seq 4)" in text and "chain broken" in text
    assert "exhibit P1" in text  # the store's record of the intake event no longer matches


def test_deleted_event_is_named(populated):
    lines = _lines(populated)
    del lines[1]
    _write(populated, lines)
    v, text = _problems(populated)  # noqa: RUF059
    assert "events deleted: seq 2 missing" in text
    assert "exhibit P0" in text and "no intake event" in text


def test_deleted_last_event_is_caught_by_the_anchor(populated):
    _write(populated, _lines(populated)[:-1])
    v, text = _problems(populated)  # noqa: RUF059
    assert "events after seq 4 were removed" in text


def test_reordered_events_are_named(populated):
    lines = _lines(populated)
    lines[1], lines[3] = lines[3], lines[1]
    _write(populated, lines)
    v, text = _problems(populated)  # noqa: RUF059
    assert "line 2 (seq 4): out of order" in text and "line 4 (seq 2): out of order" in text
    assert "line 3" not in text  # the event that stayed in place is not blamed


def test_garbage_line_is_named(populated):
    lines = _lines(populated)
    lines.insert(2, "this is not json")
    _write(populated, lines)
    v, text = _problems(populated)  # noqa: RUF059
    assert "line 3: not a valid custody event" in text


def test_missing_evidence_file_is_named(populated):
    sha = populated.store.rows("SELECT sha256 FROM exhibits WHERE exhibit_id='P3'")[0]["sha256"]
    populated.evidence_path(sha).unlink()
    v, text = _problems(populated)  # noqa: RUF059
    assert "exhibit P3" in text and "missing" in text


def test_unexpected_evidence_file_is_a_warning(populated):
    (populated.evidence_dir / "planted.bin").write_bytes(b"x")
    v = verify_case(populated)
    assert v.ok and any("planted.bin" in str(w) for w in v.warnings)
