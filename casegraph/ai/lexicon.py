"""The rule layer of trafficking-indicator detection: word lists and patterns per language
(lexicon.toml), readable by an examiner and a court, needing no model.

A hit names the indicator, the rule, the language it is written for, the words that matched
and where (character offsets in the message), so every flag can be checked against the text.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from ..texts import JOINERS
from .normalise import fold

VERSION = "1.1.0"  # 1.1: matched against normalise.fold


LATIN_LANGS = ("en", "si-Latn", "ta-Latn")
_SCRIPTS = {"Latn": re.compile("[a-z]"), "si": re.compile("[\u0d80-\u0dff]"), "ta": re.compile("[\u0b80-\u0bff]")}


@dataclass(frozen=True)
class Rule:
    id: str
    lang: str
    weight: float
    any: tuple[re.Pattern, ...]
    all: tuple[re.Pattern, ...]
    gate: re.Pattern | None = None  # all of `any` as one alternation: one search tells that none matches


def _gate(patterns: tuple[re.Pattern, ...]) -> re.Pattern | None:
    """One pattern matching where any of `patterns` does (None if they cannot be joined, e.g. named groups twice)."""
    if len(patterns) < 2:
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:
        return None


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    description: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Hit:
    indicator: str
    rule: str
    lang: str
    score: float
    matched: tuple[str, ...]  # the matching words, as they appear in the normalised text
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Lexicon:
    indicators: tuple[Indicator, ...]
    sha256: str
    source: str

    @property
    def version(self) -> str:
        return f"{VERSION}+{self.sha256[:12]}"

    def by_id(self, indicator: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator)


def normalise(text: str) -> str:
    """What patterns are matched against: normalise.fold (NFC, lower case, no zero-width joiners,
    emoji in words, held letters shortened, chat abbreviations spelt out, single spaces).
    Offsets refer to this form."""
    return fold(text)


@cache
def load(path: str | None = None) -> Lexicon:
    """The lexicon in `path`, or the one that ships with casegraph. Bad patterns are an error that
    names the indicator and rule."""
    raw = Path(path).read_bytes() if path else files(__package__).joinpath("lexicon.toml").read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    out = []
    for ind_id, spec in data.items():
        rules = []
        for r in spec.get("rules", []):
            try:
                any_ = tuple(re.compile(normalise_pattern(p)) for p in r.get("any", []))
                rules.append(
                    Rule(
                        r["id"],
                        r["lang"],
                        float(r.get("weight", 0.7)),
                        any_,
                        tuple(re.compile(normalise_pattern(p)) for p in r.get("all", [])),
                        _gate(any_),
                    )
                )
            except (KeyError, re.error) as e:
                raise ValueError(f"{path or 'lexicon.toml'}: indicator {ind_id}, rule {r.get('id', '?')}: {e}") from e
        out.append(Indicator(ind_id, spec["title"], spec.get("description", spec["title"]), tuple(rules)))
    return Lexicon(tuple(out), hashlib.sha256(raw).hexdigest(), str(path or "casegraph/ai/lexicon.toml"))


def normalise_pattern(p: str) -> str:
    return unicodedata.normalize("NFC", p).translate(JOINERS)


def scan(lexicon: Lexicon, text: str) -> list[Hit]:
    """Every indicator the text shows, with its strongest matching rule."""
    return scan_folded(lexicon, normalise(text))


def scan_folded(lexicon: Lexicon, t: str, only: set[str] | None = None) -> list[Hit]:
    """`scan` of a text already in the normal form; `only`: these indicators' rules, no others."""
    best: dict[str, Hit] = {}
    has = {k: bool(p.search(t)) for k, p in _SCRIPTS.items()}
    for ind in lexicon.indicators:
        if only is not None and ind.id not in only:
            continue
        for rule in ind.rules:
            needs = "Latn" if rule.lang in LATIN_LANGS else rule.lang
            if needs in has and not has[needs]:
                continue  # a pattern for one script cannot match a text without it
            if rule.gate is not None and rule.gate.search(t) is None:
                continue  # most rules match most messages nowhere: one search, not one per pattern
            first = next((m for p in rule.any for m in [p.search(t)] if m), None) if rule.any else None
            if rule.any and first is None:
                continue
            rest = [p.search(t) for p in rule.all]
            if not all(rest):
                continue
            ms = [m for m in [first, *rest] if m]
            hit = Hit(ind.id, rule.id, rule.lang, rule.weight, tuple(m.group(0) for m in ms), tuple(m.span() for m in ms))
            if ind.id not in best or hit.score > best[ind.id].score:
                best[ind.id] = hit
    return list(best.values())


def language(text: str) -> str:
    """The script a message is written in: si (Sinhala), ta (Tamil), or Latn (English or romanised)."""
    si = sum(1 for c in text if "\u0d80" <= c <= "\u0dff")
    ta = sum(1 for c in text if "\u0b80" <= c <= "\u0bff")
    return "si" if si > ta and si else "ta" if ta else "Latn"
