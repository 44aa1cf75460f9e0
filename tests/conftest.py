from __future__ import annotations

from pathlib import Path

import pytest

from casegraph.case import Case

FIXTURES = Path(__file__).parent / "fixtures"


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
