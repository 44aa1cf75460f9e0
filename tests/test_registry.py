"""The parser registry: unique names, helper modules kept apart, declared metadata, and the fixture
claims generated from it (each parser claims its own fixtures and no other parser claims them)."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import casegraph.parsers as parsers
from casegraph.ingest.detect import scores
from casegraph.parsers import REGISTRY, DuplicateParserError, Parser, load_all, register

ROOT = Path(__file__).parents[1]
FIX = ROOT / "tests" / "fixtures"
CLAIMS = sorted((f, p.name) for p in load_all() for f in p.fixtures)


def test_every_module_is_declared_a_parser_or_a_helper():
    modules = {m.name for m in pkgutil.iter_modules(parsers.__path__) if not m.name.startswith("_")}
    assert modules == set(parsers.PARSER_MODULES) | set(parsers.HELPER_MODULES)
    assert not set(parsers.PARSER_MODULES) & set(parsers.HELPER_MODULES)


def test_helper_modules_register_no_parser():
    load_all()
    owners = {type(p).__module__.split(".")[2] for p in REGISTRY}
    assert owners == set(parsers.PARSER_MODULES)
    assert not owners & set(parsers.HELPER_MODULES)


def test_a_duplicate_name_is_an_error():
    taken = load_all()[0].name
    before = list(REGISTRY)
    with pytest.raises(DuplicateParserError, match=taken):

        @register
        class Impostor(Parser):
            name = taken
            version = "0"

    assert before == REGISTRY


def test_every_parser_declares_what_it_reads():
    for p in load_all():
        assert p.name and p.version and p.reads and p.locators, p.name
        assert p.section in ("comms", "money"), p.name


def test_the_registry_declares_the_fixtures():
    assert len(CLAIMS) >= 9
    for rel, _ in CLAIMS:
        assert (FIX / rel).is_file(), rel


@pytest.mark.parametrize("rel, parser", CLAIMS)
def test_each_declared_fixture_is_claimed_by_its_parser_and_no_other(rel, parser):
    claims = [p.name for s, p in scores(FIX / rel) if s >= 0.5]
    assert claims == [parser], claims


def test_readme_format_tables_are_generated_from_the_registry():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "format_table.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_loading_the_parsers_builds_no_arrow_array():
    """pyarrow imports pandas (0.7 s) the first time any Arrow array is built; the ingest pipeline starts that
    import on a thread of its own before parsing (pipeline._import_pandas_behind), which only helps if
    importing the parsers does not build an array first (a module-level pa.array constant would)."""
    code = "import sys; from casegraph.parsers import load_all; load_all(); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
