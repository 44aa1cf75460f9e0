"""One module per source format. `REGISTRY` lists every parser; detection picks by sniff score."""
from __future__ import annotations

from .base import Parser, ParseError, Probe, Source

REGISTRY: list[Parser] = []


def register(cls: type[Parser]) -> type[Parser]:
    REGISTRY.append(cls())
    return cls


def by_name(name: str) -> Parser:
    for p in REGISTRY:
        if p.name == name:
            return p
    raise KeyError(f"no parser named {name!r}; known: {', '.join(sorted(p.name for p in REGISTRY))}")


def load_all() -> list[Parser]:
    """Import every parser module so that each registers itself."""
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if mod.name not in ("base",) and not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return REGISTRY


__all__ = ["Parser", "ParseError", "Probe", "Source", "REGISTRY", "register", "by_name", "load_all"]
