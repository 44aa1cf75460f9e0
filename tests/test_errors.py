"""One exception base: every error the examiner can act on is a CaseGraphError, which the CLI prints
as one line with its exit status."""

from casegraph.errors import CaseGraphError
from casegraph.extras import MissingExtra
from casegraph.ingest.custody import CustodyBroken


def test_missing_extra_and_broken_custody_are_casegraph_errors():
    for cls in (MissingExtra, CustodyBroken):
        assert issubclass(cls, CaseGraphError)
        assert cls("x").code == 1
    assert issubclass(MissingExtra, ImportError)  # callers that fall back on ImportError still do
