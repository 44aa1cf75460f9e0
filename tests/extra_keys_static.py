"""The `extra` keys written in casegraph/parsers, read from the source with `ast` (no fixture needed): the
string keys of dict literals and of comprehensions over constant tuples given as `extra=` or assigned to
`extra`, `extra["key"] = …`, and `for key in ("a", "b"): … extra[key] = …`. Keys built any other way are
seen only by the fixture test."""

from __future__ import annotations

import ast
from pathlib import Path

PARSERS = Path(__file__).resolve().parent.parent / "casegraph" / "parsers"
RECORDS = {
    "Message": "messages",
    "Call": "calls",
    "Contact": "contacts",
    "Transaction": "transactions",
    "Location": "locations",
    "TextBlock": "ocr_text",
}


def _is_extra(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "extra") or (isinstance(node, ast.Attribute) and node.attr == "extra")


def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keys(node: ast.AST) -> list[str]:
    out: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            out += [k for k in map(_str, (k for k in sub.keys if k is not None)) if k is not None]
        elif isinstance(sub, ast.DictComp):
            lower = isinstance(sub.key, ast.Call) and isinstance(sub.key.func, ast.Attribute) and sub.key.func.attr == "lower"
            for gen in sub.generators:
                if isinstance(gen.iter, ast.Tuple):
                    for e in gen.iter.elts:
                        k = _str(e.elts[0]) if isinstance(e, ast.Tuple) and e.elts else _str(e)
                        if k is not None:
                            out.append(k.lower() if lower else k)
    return out


def written_keys() -> dict[str, set[str]]:
    """key -> the places (file:line, with the record type when the call names it) that write it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PARSERS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            keys: list[str] = []
            table = ""
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
                for kw in node.keywords:
                    if kw.arg == "extra":
                        keys += _keys(kw.value)
                        table = RECORDS.get(name, "")
                if isinstance(node.func, ast.Attribute) and node.func.attr == "update" and _is_extra(node.func.value):
                    keys += [k for a in node.args for k in _keys(a)]
            elif isinstance(node, ast.Assign):
                if any(_is_extra(t) for t in node.targets):
                    keys += _keys(node.value)
                keys += [k for t in node.targets if isinstance(t, ast.Subscript) and _is_extra(t.value) and (k := _str(t.slice))]
            elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
                writes = any(
                    isinstance(s, ast.Assign) and any(isinstance(t, ast.Subscript) and _is_extra(t.value) for t in s.targets)
                    for s in ast.walk(node)
                )
                if writes:
                    keys += [k for e in node.iter.elts if (k := _str(e))]
            for k in keys:
                found.setdefault(k, set()).add(f"{path.relative_to(PARSERS)}:{node.lineno}" + (f" ({table})" if table else ""))
    return found
