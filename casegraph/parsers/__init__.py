"""One module per source format. `REGISTRY` lists every parser; detection picks by sniff score.

`PARSER_MODULES` names the modules that hold parsers (each registers its classes with `@register`);
`HELPER_MODULES` names the shared pieces they use, which register nothing. A new module goes in one
of the two lists (tests/test_registry.py fails otherwise)."""

from __future__ import annotations

import importlib

from ..errors import CaseGraphError
from .base import ParseError, Parser, Probe, Source

REGISTRY: list[Parser] = []

# In the order of the README's format tables.
PARSER_MODULES = (
    "whatsapp",
    "whatsapp_android_db",
    "whatsapp_ios_db",
    "whatsapp_ios_calls",
    "signal_desktop",
    "signal_export",
    "telegram_json",
    "meta_dyi",
    "sms_backup_xml",
    "android_db",
    "ios_sms_db",
    "vcard",
    "image_ocr",
    "ufdr",
    "transaction_table",
    "goaml_xml",
    "bitcoin_esplora",
    "eth_acquisition",
    "unrecognised",  # the run of an exhibit no parser reads (its reason as a parse issue)
)
HELPER_MODULES = (
    "base",
    "sqlite",
    "jsonstream",
    "mentions",
    "prefetch",
    "locations",
    "exif_gps",
    "ciphertext",
    "rate_table",
    "tables",
    "whatsapp_db",  # what the WhatsApp databases share (JID kinds, identifiers and call records)
    "telephony",  # Android's telephony codes, shared by SMS Backup & Restore XML and mmssms.db/calllog.db
    "whatsapp_export",  # the old import path of the whatsapp package
)


class DuplicateParserError(CaseGraphError, ValueError):
    """Two parser classes claim one name: detection and `--parser NAME` would be ambiguous."""


def register(cls: type[Parser]) -> type[Parser]:
    for i, p in enumerate(REGISTRY):
        if p.name == cls.name:
            same = (type(p).__module__, type(p).__qualname__) == (cls.__module__, cls.__qualname__)
            if not same:
                raise DuplicateParserError(
                    f"parser name {cls.name!r} is taken by {type(p).__module__}.{type(p).__qualname__};"
                    f" {cls.__module__}.{cls.__qualname__} needs another name"
                )
            REGISTRY[i] = cls()  # the same class, its module reloaded
            return cls
    REGISTRY.append(cls())
    return cls


def by_name(name: str) -> Parser:
    for p in REGISTRY:
        if p.name == name:
            return p
    raise KeyError(f"no parser named {name!r}; known: {', '.join(sorted(p.name for p in REGISTRY))}")


def load_all() -> list[Parser]:
    """Import every parser module so that each registers itself (helper modules are not parsers)."""
    for mod in sorted(PARSER_MODULES):  # alphabetical, as detection has always seen them (ties keep this order)
        importlib.import_module(f"{__name__}.{mod}")
    return REGISTRY


__all__ = [
    "HELPER_MODULES",
    "PARSER_MODULES",
    "REGISTRY",
    "DuplicateParserError",
    "ParseError",
    "Parser",
    "Probe",
    "Source",
    "by_name",
    "load_all",
    "register",
]
