"""A large run's batches dealt over two segment files (casegraph.segments.SegmentWriter): the same input gives
the same files byte for byte, the rows read back are those a one-file run stores, and `custody verify` names a
changed, removed or unregistered second file. The ledger is made here in the `bank-ledger` profile's layout
(the benchmark's), and read in small blocks so that a few thousand rows make many batches."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from casegraph import segments
from casegraph.case import Case
from casegraph.ingest.evidence import add_evidence
from casegraph.ingest.integrity import verify_case
from casegraph.ingest.pipeline import parse_exhibit
from casegraph.parsers.tables import readers

ROWS = 3000


@pytest.fixture
def ledger(tmp_path) -> Path:
    path = tmp_path / "ledger.csv"
    start = datetime(2024, 3, 1, 8, 0)
    lines = ['"Txn Time","Reference","From Account","To Account","Amount","Currency","Narration"']
    for i in range(ROWS):
        t = start + timedelta(minutes=7 * i)
        frm, to = f"{(i * 7919) % 100_000:010d}", f"{(i * 104_729 + 1) % 100_000:010d}"
        lines.append(f'"{t:%Y-%m-%d %H:%M:%S}","FT{i}","{frm}","{to}","{i * 37 % 100_000}.{i % 100:02d}","LKR","CEFT {to}"')
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(readers, "BLOCK_SIZE", 16 << 10)  # ~190 rows a block: 16 batches
    monkeypatch.setattr(segments, "SPLIT_ROWS", 500)


def _ingest(folder: Path, source: Path) -> Path:
    with Case.create(folder, "HTS/TEST/14", "IP Test Examiner") as c:
        sha = add_evidence(c, source, "L1").sha256
        assert parse_exhibit(c, sha).status == "complete"
    return folder


def _segments(folder: Path) -> list[dict]:
    with Case(folder) as c:
        return c.store.rows("SELECT file, rows, sha256 FROM segments ORDER BY file")


def _rows(folder: Path) -> set[tuple]:
    with Case(folder) as c:
        return set(
            c.store.con.execute(
                "SELECT id, ts_utc, reference, from_account, to_account, amount, currency, description, seq, locator FROM transactions"
            ).fetchall()
        )


def test_the_same_input_gives_the_same_two_files_and_the_rows_of_one_file(tmp_path, ledger, small_batches, monkeypatch):
    a, b = _ingest(tmp_path / "a", ledger), _ingest(tmp_path / "b", ledger)
    sa, sb = _segments(a), _segments(b)
    assert len(sa) == 2 and [s["file"].rsplit("-", 1)[1] for s in sa] == ["0.parquet", "1.parquet"]
    assert sum(s["rows"] for s in sa) == ROWS and min(s["rows"] for s in sa) > ROWS // 3  # dealt evenly
    assert [(s["rows"], s["sha256"]) for s in sa] == [(s["rows"], s["sha256"]) for s in sb]  # byte for byte
    with Case(a) as c:  # a forced re-run writes the same bytes again, and no duplicates
        sha = c.store.one("SELECT sha256 FROM exhibits")[0]
        assert parse_exhibit(c, sha, force=True).records["transactions"] == ROWS
        assert c.store.count("transactions") == ROWS and c.store.count("segments") == 2
    assert [(s["rows"], s["sha256"]) for s in _segments(a)] == [(s["rows"], s["sha256"]) for s in sa]
    assert len(list((a / "case.segments").rglob("*.parquet*"))) == 2  # the replaced files are gone
    monkeypatch.setattr(segments, "FILES", 1)
    one = _ingest(tmp_path / "one", ledger)
    assert len(_segments(one)) == 1
    rows = _rows(a)
    assert len(rows) == ROWS and rows == _rows(one)  # the same records as a one-file run
    assert sorted(r[8] for r in rows) == list(range(1, ROWS + 1))  # every statement row once, numbered


@pytest.fixture
def two_files(tmp_path, ledger, small_batches) -> tuple[Path, Path]:
    case = _ingest(tmp_path / "case", ledger)
    second = case / "case.segments" / _segments(case)[1]["file"]
    with Case(case) as c:
        assert verify_case(c).ok
    return case, second


def test_a_reparse_derives_the_same_two_files(two_files):
    case, _ = two_files
    with Case(case) as c:
        v = verify_case(c, reparse=True)
    assert v.ok and v.reparsed == 1, "\n".join(map(str, v.problems))


def _problems(case: Path) -> str:
    with Case(case) as c:
        return "\n".join(map(str, verify_case(c).problems))


def test_verify_names_a_changed_second_file(two_files):
    case, second = two_files
    data = bytearray(second.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside a data page: the file still opens
    second.write_bytes(bytes(data))
    assert f"segment {second.relative_to(case / 'case.segments').as_posix()}" in _problems(case)
    assert "altered: its bytes hash to" in _problems(case)


def test_verify_names_a_removed_second_file(two_files):
    case, second = two_files
    rows = _segments(case)[1]["rows"]
    second.unlink()  # the view globs the folder: its rows are simply gone from it, and verify says so
    text = _problems(case)
    assert f"missing: its {rows} records no longer appear in transactions" in text


def test_verify_names_an_unregistered_second_file(two_files):
    case, second = two_files
    name = second.relative_to(case / "case.segments").as_posix()
    with Case(case) as c:
        c.store.con.execute("DELETE FROM segments WHERE file = ?", [name])
    with pytest.warns(UserWarning, match="removed 1 segment file"):  # swept as debris when the store opens
        text = _problems(case)
    assert f"segment {name} (transactions" in text and "unregistered: parse event seq" in text


def test_an_interrupted_two_file_run_leaves_the_last_commit(two_files, monkeypatch):
    case, _ = two_files
    before = _segments(case)
    real = segments._File.write
    seen = []

    def power_cut(self, data, schema):
        seen.append(self.name)
        if len(seen) == 12:  # both files open and written to
            raise KeyboardInterrupt("power cut")
        return real(self, data, schema)

    monkeypatch.setattr(segments._File, "write", power_cut)
    with Case(case) as c, pytest.raises(KeyboardInterrupt):
        parse_exhibit(c, c.store.one("SELECT sha256 FROM exhibits")[0], force=True)
    assert len({n.rsplit("-", 1)[1] for n in seen}) == 2
    assert _segments(case) == before
    assert sorted(p.relative_to(case / "case.segments").as_posix() for p in (case / "case.segments").rglob("*.parquet*")) == [
        s["file"] for s in before
    ]
    with Case(case) as c:
        assert c.store.count("transactions") == ROWS
