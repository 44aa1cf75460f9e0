"""Run a parser on a fixture the way ingest does, and look at what it produced."""

from __future__ import annotations

from pathlib import Path

from casegraph.ingest.hashing import sha256_file
from casegraph.model import Batch, Identifier, Message, ParseIssue
from casegraph.parsers import Probe, Source


def run_parser(parser, path: Path, name: str | None = None):
    """Everything the parser yields, with columnar batches expanded into record objects."""
    path = Path(path)
    src = Source(path, sha256_file(path), name or path.name)
    out = []
    for r in parser.parse(src):
        out.extend(r.records() if isinstance(r, Batch) else [r])
    return out


def sniff(parser, path: Path, name: str | None = None) -> float:
    return parser.sniff(Probe.of(Path(path), name))


def of(records, cls):
    return [r for r in records if isinstance(r, cls)]


def messages(records) -> list[Message]:
    return of(records, Message)


def issues(records, severity: str | None = None) -> list[ParseIssue]:
    return [r for r in of(records, ParseIssue) if severity is None or r.severity == severity]


def identifiers(records) -> list[Identifier]:
    return of(records, Identifier)
