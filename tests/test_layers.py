"""The import graph points downwards, as ARCHITECTURE.md draws it:

    cli / api / demo / serve → graph, finance, ai, reports → findings → store, segments → model
    ingest (with case) → parsers → model, and parsers never touch the store

Every `import` and `from … import` in casegraph (also those inside functions) is read with `ast`
and its module placed in a layer; an import into a layer not listed for the importer fails, and so
does an import sideways between graph, finance, ai and reports, or between two parsers other than
through the helper modules (parsers.HELPER_MODULES). KNOWN lists the arrows that are still wrong,
each with why; it may only shrink (an entry that no longer occurs fails too, so it is removed).
"""

from __future__ import annotations

import ast
from pathlib import Path

from casegraph.parsers import HELPER_MODULES, PARSER_MODULES

PACKAGE = Path(__file__).resolve().parent.parent / "casegraph"

# the layer of each top-level module or package of casegraph
LAYER = {
    **dict.fromkeys(
        ("model", "errors", "extras", "amounts", "times", "identifiers", "hashing", "archive", "lock", "wording", "texts", "ranges"), "base"
    ),
    **dict.fromkeys(("store", "segments"), "store"),
    "parsers": "parsers",
    **dict.fromkeys(("ingest", "case"), "intake"),  # intake writes the custody log the case directory keeps
    # browse, profile: the workspace's read queries; quotes, redact: how reports and review show records;
    # ties: the store's party graph, which the report draws and the graph analyses rank
    **dict.fromkeys(("findings", "review", "browse", "profile", "quotes", "redact", "ties", "accounts"), "findings"),
    **dict.fromkeys(("graph", "finance", "ai", "reports", "textsearch", "thumbnails"), "analysis"),
    **dict.fromkeys(("cli", "api", "demo", "serve", "sources"), "top"),  # sources: the workspace's source view over api
}
# which layers each layer may import (its own included)
MAY_IMPORT = {
    "base": {"base"},
    "store": {"base", "store"},
    "parsers": {"base", "parsers"},
    "intake": {"base", "store", "parsers", "intake"},
    "findings": {"base", "store", "findings"},
    "analysis": {"base", "store", "findings", "intake", "analysis"},
    "top": {"base", "store", "parsers", "intake", "findings", "analysis", "top"},
}
SIDEWAYS = {"graph", "finance", "ai", "reports"}  # analysis packages: the caller composes them

# (importer, imported): arrows still pointing the wrong way, each with why. Empty, and to stay so: a new
# exception needs a reason a reviewer accepts (the usual fix is to move the shared piece down, or to pass
# the data in from the caller that composes the layers).
KNOWN: dict[tuple[str, str], str] = {}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The casegraph modules a file imports (a `from pkg import name` counts as pkg.name when that is a module)."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "casegraph"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "casegraph":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if _exists(sub) else target)
    return out


def _exists(module: str) -> bool:
    rel = Path(*module.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _top(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None  # None: the package root (version, tool name)


def _wrong(importer: str, imported: str) -> str | None:
    a, b = _top(importer), _top(imported)
    if a is None or b is None or (a == b and a != "parsers"):
        return None
    if a not in LAYER or b not in LAYER:
        return f"{a if a not in LAYER else b} has no layer: add it to LAYER in tests/test_layers.py"
    la, lb = LAYER[a], LAYER[b]
    if lb not in MAY_IMPORT[la]:
        return f"{la} may not import {lb}"
    if a != b and a in SIDEWAYS and b in SIDEWAYS:
        return f"{a} and {b} are side by side: the caller composes them"
    if a == b == "parsers":
        return _parser_to_parser(importer, imported)
    return None


def _parser_to_parser(importer: str, imported: str) -> str | None:
    """A parser module uses the helpers, never another parser module."""
    mine, theirs = (m.split(".")[2] if len(m.split(".")) > 2 else "" for m in (importer, imported))
    if mine == theirs or theirs in ("", *HELPER_MODULES) or mine == "whatsapp_export":  # the old path of the whatsapp package
        return None
    if theirs in PARSER_MODULES:
        return f"parser {mine} imports parser {theirs}: move what they share into a helper module"
    return f"{theirs} is in neither PARSER_MODULES nor HELPER_MODULES"


def _arrows() -> dict[tuple[str, str], str]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module(path)
        for imported in sorted(_imports(path)):
            why = _wrong(importer, imported)
            if why:
                found[(importer, imported)] = why
    return found


def test_imports_point_downwards():
    wrong = {k: v for k, v in _arrows().items() if k not in KNOWN}
    assert not wrong, "imports against the layers:\n" + "\n".join(f"  {a} → {b}: {why}" for (a, b), why in sorted(wrong.items()))


def test_known_exceptions_still_exist():
    stale = set(KNOWN) - set(_arrows())
    assert not stale, f"fixed, so remove from KNOWN in tests/test_layers.py: {sorted(stale)}"


def test_every_module_has_a_layer():
    tops = {
        p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.glob("*") if p.suffix == ".py" or (p / "__init__.py").is_file()
    }
    assert tops - {"__init__"} <= set(LAYER), sorted(tops - {"__init__"} - set(LAYER))


def test_the_checker_sees_a_violation():
    assert _wrong("casegraph.parsers.vcard", "casegraph.store")
    assert _wrong("casegraph.parsers.ufdr", "casegraph.parsers.whatsapp_android_db")
    assert _wrong("casegraph.store", "casegraph.findings")
    assert _wrong("casegraph.finance.trace", "casegraph.graph.resolve")
    assert _wrong("casegraph.parsers.ufdr", "casegraph.parsers.whatsapp_db") is None
    assert _wrong("casegraph.cli.graph_cmds", "casegraph.graph.steps") is None


def test_commands_leave_custody_to_the_library():
    """The CLI, the demo and the workspace's views write no custody event of their own: each step's library
    call (finance.workflow.run_trace, graph.steps, ingest.integrity.verify_logged, ...) does the step and
    logs it, so every caller leaves the same record."""
    callers = [*(PACKAGE / "cli").glob("*.py"), *(PACKAGE / "demo").glob("*.py"), *(PACKAGE / "serve" / "views").glob("*.py")]
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path in callers
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "log"
        and node.args
        and isinstance(node.args[0], ast.Constant)  # case.log("action", ...); logging calls name no action first
    ]
    assert len(callers) > 10
    assert not found, f"custody events written by a caller instead of its library step: {found}"
