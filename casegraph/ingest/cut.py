"""Cutting a record's locator out of its exhibit: the exact bytes a record was read from.

Used by the notebook API (`casegraph.api.Case.source`), the workspace's source view
(`casegraph.sources`) and the offline viewer; it sits in intake because it reads the evidence
through the same bounds as parsing (SafeArchive, the parsers' own probes)."""

from __future__ import annotations

import html
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """The evidence behind one record: the exhibit's hash, the locator, and the bytes found there
    (None, with a note, where the locator's form cannot be cut out of the file here)."""

    exhibit_sha256: str
    locator: str
    data: bytes | None
    note: str = ""

    @property
    def text(self) -> str | None:
        return None if self.data is None else self.data.decode("utf-8", errors="replace")

    def _repr_html_(self) -> str:
        body = html.escape(self.text) if self.data is not None else f"<i>{html.escape(self.note)}</i>"
        return (
            f"<div><b>exhibit</b> <code>{self.exhibit_sha256}</code> <b>at</b> <code>{html.escape(self.locator)}</code>"
            f"<pre style='white-space:pre-wrap'>{body}</pre></div>"
        )


def _cut(path: Path, sha: str, locator: str, parser: str | None = None, name: str | None = None) -> Source:
    inner, data = locator, None
    if locator.startswith("zip:") and "#" in locator:
        member, inner = locator[4:].split("#", 1)
        from .archive import SafeArchive

        with SafeArchive(path) as archive:  # the same bounds as parsing: no bomb, no traversal
            if member not in archive.names():
                return Source(sha, locator, None, f"member {member!r} not found in the archive")
            data = archive.read(member)
    elif not path.is_file():
        return Source(sha, locator, None, "the exhibit's bytes are not in this case's evidence store")
    kind, _, where = inner.partition(":")
    if kind == "line":
        first, _, last = where.partition("-")
        lines = (data if data is not None else path.read_bytes()).splitlines(keepends=True)
        lo, hi = int(first), int(last or first)
        return Source(sha, locator, b"".join(lines[lo - 1 : hi]))
    if kind == "row" and data is None and where.isdigit():
        return _csv_row(path, sha, locator, int(where), parser, name)
    if kind == "json":
        doc = json.loads(data if data is not None else path.read_bytes())
        for part in [p for p in where.split("/") if p]:
            doc = doc[int(part)] if isinstance(doc, list) else doc[part.replace("~1", "/").replace("~0", "~")]
        return Source(sha, locator, json.dumps(doc, ensure_ascii=False, indent=1).encode())
    if kind == "sqlite" and data is None and "/rowid=" in where:
        table, rowid = where.split("/rowid=", 1)
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            cur = con.execute(f'SELECT * FROM "{table.replace(chr(34), "")}" WHERE rowid = ?', [int(rowid)])
            names = [d[0] for d in cur.description]
            row = cur.fetchone()
        finally:
            con.close()
        if row is None:
            return Source(sha, locator, None, f"no row {rowid} in table {table}")
        return Source(sha, locator, json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=repr, indent=1).encode())
    return Source(sha, locator, None, f"locators of the form {kind}: are not cut out here; open the exhibit at {locator}")


def _csv_row(path: Path, sha: str, locator: str, n: int, parser: str | None, name: str | None) -> Source:
    """`row:N` of a statement: the N-th record after the header the parser found, as the file's lines
    (decoded as the parser decoded them, given here in UTF-8)."""
    import csv
    import io

    from ..parsers import by_name, load_all
    from ..parsers.base import Probe

    load_all()
    probe = Probe.of(path, name)
    find = getattr(by_name(parser), "_probe_layout", None) if parser else None
    layout = find(probe) if find else None
    if layout is None or probe.suffix == ".xlsx":
        return Source(sha, locator, None, f"row locators of {parser or 'this parser'} are not cut out here; open the exhibit at {locator}")
    enc = probe.encoding
    text = path.read_bytes()[enc.skip :].decode(enc.codec, errors="replace")
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    start, index = 0, -1
    for record in reader:  # noqa: B007
        index += 1
        end = reader.line_num
        if index == layout.header_index + n:
            return Source(
                sha, locator, "".join(lines[start:end]).encode("utf-8"), f"record {n} after the header on line {layout.header_index + 1}"
            )
        start = end
    return Source(sha, locator, None, f"the exhibit has fewer than {n} rows after its header")
