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
