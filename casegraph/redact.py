"""Victim protection: persons an examiner marked as victim, witness or minor get a pseudonym
(Victim-1, Witness-1, Minor-1) everywhere a report or bundle shows text.

What is replaced, per protected person: every name the case knows them by (a single given name
also takes the capitalised word after it, so "Kasun" covers "Kasun Perera"), and every
identifier they use, in its stored raw forms and, for phone numbers, in any local or
international spelling with spaces or dashes. Pseudonyms are numbered in entity-id order, so
the same case always gives the same pseudonyms.

Findings level (it reads only the case store), so the reports and the graph exports redact alike
without one reaching into the other; casegraph.reports.redact re-exports it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .store import CaseStore

PROTECTED = ("minor", "victim", "witness")  # a minor who is also a victim is shown as a minor


def _phone_pattern(e164: str) -> str | None:
    """+94771234567 → a pattern for 0771234567, 94 77 123 4567, +94-77-123-4567 ..."""
    if not e164.startswith("+94") or len(e164) != 12:
        return re.escape(e164) if e164.startswith("+") else None
    digits = e164[3:]
    return r"(?<!\d)(?:\+?94[\s-]?|0)?" + r"[\s-]?".join(digits) + r"(?!\d)"


def _name_pattern(name: str) -> str:
    words = name.split()
    core = r"\s+".join(re.escape(w) for w in words)
    tail = r"(?-i:\s+[A-Z][a-z]+)?" if len(words) == 1 else ""  # a surname is capitalised, whatever the flags
    return rf"(?<!\w){core}{tail}(?!\w)"


class Redactor:
    """Replaces protected persons' names and identifiers in text; `none()` changes nothing."""

    def __init__(self, people: dict[str, tuple[str, list[str], list[str]]]):
        # entity id → (pseudonym, names, identifier values)
        self.pseudonyms = {eid: p for eid, (p, _, _) in people.items()}
        pats: list[tuple[str, str]] = []
        for pseudonym, names, values in people.values():
            for n in sorted(set(names), key=len, reverse=True):
                if len(n) >= 3:
                    pats.append((_name_pattern(n), pseudonym))
            for v in sorted(set(values), key=len, reverse=True):
                p = _phone_pattern(v) if v.startswith("+") else (re.escape(v) if len(v) >= 5 else None)
                if p:
                    pats.append((p, f"[{pseudonym} identifier]"))
        self._subs = [(re.compile(p, re.IGNORECASE), r) for p, r in pats]

    @classmethod
    def none(cls) -> Redactor:
        return cls({})

    @classmethod
    def victims(cls, store: CaseStore) -> Redactor:
        counters: dict[str, int] = {}
        people: dict[str, tuple[str, list[str], list[str]]] = {}
        for e in store.rows("SELECT id, label, attrs FROM entities WHERE kind = 'person' ORDER BY id"):
            attrs = json.loads(e["attrs"] or "{}")
            role = next((r for r in PROTECTED if r in attrs.get("roles", [])), None)
            if role is None:
                continue
            counters[role] = counters.get(role, 0) + 1
            names = [e["label"], *attrs.get("names", {})]
            values = [i["value"] for i in attrs.get("identifiers", [])]
            raw = store.rows(
                """SELECT DISTINCT i.value FROM identifiers i JOIN identifier_keys k USING (kind, value)
                                JOIN entity_members m ON m.member = 'id:' || k.node WHERE m.entity_id = ?""",
                [e["id"]],
            )
            people[e["id"]] = (f"{role.capitalize()}-{counters[role]}", names, values + [r["value"] for r in raw])
        return cls(people)

    @property
    def active(self) -> bool:
        return bool(self._subs)

    def text(self, s: str) -> str:
        for pat, rep in self._subs:
            s = pat.sub(rep, s)
        return s

    def __call__(self, obj: Any) -> Any:
        """`obj` with every string in it (keys too) redacted; dicts, lists and tuples are rebuilt."""
        return _walk(obj, self.text) if self.active else obj


def _walk(obj: Any, f: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return f(obj)
    if isinstance(obj, dict):
        return {(f(k) if isinstance(k, str) else k): _walk(v, f) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_walk(v, f) for v in obj)
    return obj
