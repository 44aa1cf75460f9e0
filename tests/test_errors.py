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


def _custom_exceptions() -> list[type[BaseException]]:
    """Every exception class defined in casegraph (each module imported, as the test suite runs them all)."""
    import importlib
    import inspect
    import pkgutil

    import casegraph

    out = []
    for info in pkgutil.walk_packages(casegraph.__path__, "casegraph."):
        module = importlib.import_module(info.name)
        out += [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseException) and c.__module__ == info.name and c is not CaseGraphError
        ]
    return out


def test_every_custom_exception_is_a_casegraph_error():
    """So the CLI's one handler (cli._Main) prints each as one line with its exit status, never a traceback."""
    found = _custom_exceptions()
    assert len(found) >= 20  # the walk saw the package (ReviewError, SeizureError, RateTableError, StaleFindings, ...)
    wrong = sorted(f"{c.__module__}.{c.__qualname__}" for c in found if not issubclass(c, CaseGraphError))
    assert not wrong, f"derive these from casegraph.errors.CaseGraphError: {wrong}"
    assert all(c.code in (1, 2) for c in found)


def test_a_library_error_keeps_its_old_base_and_ends_as_one_line():
    """Deriving from CaseGraphError keeps the builtin base that callers catch (a LookupError stays one), and
    the CLI's one handler prints it as one line with its exit status."""
    import click
    from click.testing import CliRunner

    from casegraph.cli import _Main
    from casegraph.ingest.seizure import SeizureError
    from casegraph.parsers.rate_table import RateTableError
    from casegraph.reports.report import StaleFindings
    from casegraph.review import ReviewError

    assert issubclass(ReviewError, LookupError) and issubclass(SeizureError, ValueError)
    assert issubclass(RateTableError, ValueError) and issubclass(StaleFindings, ValueError)

    @click.group(cls=_Main)
    def group() -> None:
        pass

    @group.command()
    def report() -> None:
        raise StaleFindings("the case changed after some findings were made")

    r = CliRunner().invoke(group, ["report"])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.output.count("error:") == 1 and "the case changed after some findings were made" in r.output
