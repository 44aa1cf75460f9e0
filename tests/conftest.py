from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from casegraph.case import Case
from casegraph.store import CaseStore

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path):
    """An empty case store (no case directory): the graph tests write records into it as parsers would."""
    s = CaseStore(tmp_path / "case.duckdb")
    yield s
    s.close()


@pytest.fixture
def case(tmp_path: Path):
    with Case.create(tmp_path / "case", "HTS/TEST/1", "IP Test Examiner", "unit test case") as c:
        yield c


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    """CLI output follows COLUMNS as in a terminal; the tests read whole table rows, so they get a
    wide one (a test that checks narrow output sets its own)."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def db(fixtures, tmp_path):
    """db(script, file_name=None): a SQLite database built from tests/fixtures/sqlite/<script> (SQL text
    shaped after the real app's schema), at tmp_path/<file_name> (default: the script's name as .db)."""

    def build(name: str, file_name: str | None = None) -> Path:
        path = tmp_path / (file_name or name.replace(".sql", ".db"))
        con = sqlite3.connect(path)
        con.executescript((FIXTURES / "sqlite" / name).read_text())
        con.commit()
        con.close()
        return path

    return build


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo case (exhibits, parsing, finance and graph findings, a victim marked), built once per
    test module, so modules never see each other's changes to it."""
    from casegraph.demo.run import run_demo

    return run_demo(tmp_path_factory.mktemp("demo") / "demo", say=lambda _: None).case
