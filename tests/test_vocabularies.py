"""Coded columns and `extra` keys hold only what model.py declares.

Every fixture under tests/fixtures is parsed by the parser that claims it most (as detection would),
and each record's coded values (kinds, directions, roles, rails, severities, location kinds) and
`extra` keys are looked up in the vocabularies of casegraph/model.py. The `extra` keys the parsers'
source writes on paths no fixture reaches are read with `ast` (tests/extra_keys_static.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from extra_keys_static import written_keys
from parse_helpers import run_parser

from casegraph import model
from casegraph.parsers import Probe, load_all

FIXTURES = Path(__file__).parent / "fixtures"
CODED = {
    (model.Message, "kind"): model.MESSAGE_KINDS,
    (model.Message, "direction"): model.MESSAGE_DIRECTIONS,
    (model.Call, "direction"): model.CALL_DIRECTIONS,
    (model.Identifier, "kind"): model.IDENTIFIER_KINDS,
    (model.Identifier, "role"): model.IDENTIFIER_ROLES,
    (model.Transaction, "rail"): model.RAILS,
    (model.ParseIssue, "severity"): model.SEVERITIES,
    (model.Location, "source_kind"): tuple(model.LOCATION_KINDS),
}


def _parsed():
    parsers = load_all()
    for path in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):
        try:
            probe = Probe.of(path, path.name)
            score, parser = max(((p.sniff(probe), p) for p in parsers), key=lambda t: t[0])
            records = run_parser(parser, path) if score >= 0.5 else None
        except Exception:  # the refused and broken fixtures (encrypted zips, ...) have their own tests
            continue
        if records is not None:
            yield path, records


@pytest.fixture(scope="module")
def parsed():
    return list(_parsed())


def test_coded_values_are_declared(parsed):
    bad = {
        (type(r).__name__, column, getattr(r, column), path.name)
        for path, records in parsed
        for r in records
        for (cls, column), allowed in CODED.items()
        if isinstance(r, cls) and getattr(r, column) not in allowed
    }
    assert not bad, f"values not declared in casegraph/model.py: {sorted(bad)}"


def test_extra_keys_are_declared(parsed):
    """Every key of every fixture record's `extra`, in every table (contacts and transactions included)."""
    bad = {
        (r.table, key, path.name)
        for path, records in parsed
        for r in records
        for key in getattr(r, "extra", None) or {}
        if key not in model.EXTRA_KEYS.get(r.table, {})
    }
    assert not bad, f"extra keys not declared in model.EXTRA_KEYS: {sorted(bad)}"


def test_every_table_with_extra_declares_its_keys():
    with_extra = {c.table for c in model.RECORD_TYPES if "extra" in c.__dataclass_fields__}
    assert with_extra == set(model.EXTRA_KEYS), sorted(with_extra ^ set(model.EXTRA_KEYS))


def test_the_parsers_source_writes_only_declared_keys():
    """Also the keys of paths no fixture reaches: read from the parsers' source (tests/extra_keys_static.py),
    per table where the record type is named at the write, else against every table's keys."""
    every = set().union(*model.EXTRA_KEYS.values())
    bad = {}
    for key, places in written_keys().items():
        for place in places:
            table = place.rpartition("(")[2].rstrip(")") if place.endswith(")") else None
            if key not in (model.EXTRA_KEYS[table] if table else every):
                bad.setdefault(key, []).append(place)
    assert not bad, f"extra keys written in casegraph/parsers but not declared in model.EXTRA_KEYS: {bad}"


def test_the_source_reader_sees_the_writes():
    keys = written_keys()
    assert {"tel_types", "balance", "engine", "wa_name", "x-socialprofile", "spent_txid"} <= set(keys)
    assert any(p.endswith("(contacts)") for p in keys["wa_name"])


def test_the_fixtures_cover_the_comms_tables(parsed):
    tables = {r.table for _, records in parsed for r in records}
    assert {"messages", "calls", "locations", "identifiers", "parse_issues"} <= tables


def test_vocabularies_are_literals_with_one_tuple_each():
    assert model.SEVERITIES == ("error", "warning", "info")
    assert "mentioned" in model.IDENTIFIER_ROLES and "phone" in model.IDENTIFIER_KINDS
    assert len(set(model.MESSAGE_KINDS)) == len(model.MESSAGE_KINDS)
