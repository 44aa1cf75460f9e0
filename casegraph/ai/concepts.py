"""Concept rules and legitimate contexts (concepts.toml), matched in the `key` view of a message.

All stems of all concepts are one regular expression, longest first, so a message is read once;
a match is mapped back to its concepts and its word position, and a hit names the words of the
readable view (`fold`) it matched.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from . import normalise as nz


@dataclass(frozen=True)
class ConceptRule:
    id: str
    indicator: str
    weight: float
    all: tuple[str, ...]
    window: int | None
    negatable: bool
    despite: tuple[str, ...] = ()  # contexts that do not lower this rule (its concepts already tell them apart)


@dataclass(frozen=True)
class Concepts:
    pattern: re.Pattern
    stems: dict[str, tuple[tuple[str, bool], ...]]  # key stem → (concept, whole word only)
    rules: tuple[ConceptRule, ...]
    context: dict[str, dict[str, float]]  # indicator ("*" for all) → concept → factor
    unless: dict[str, tuple[str, ...]]
    topics: dict[str, tuple[str, ...]]
    sha256: str
    source: str


def _trie(words: list[str]) -> str:
    """One regular expression for many literal words, factored by common prefixes (the longest
    match wins, and the engine does not try a thousand alternatives at every position)."""
    tree: dict = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return walk(tree)


SHORT = 4
Found = dict[str, list[tuple[int, str]]]  # concept → [(word index, matched key text)]


@cache
def load(path: str | None = None) -> Concepts:
    raw = Path(path).read_bytes() if path else files(__package__).joinpath("concepts.toml").read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    stems: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for concept, words in data.get("concepts", {}).items():
        for w in words:
            k = nz.stem_key(w.rstrip("$*"))
            # short stems match whole words only (a prefix of 4 letters is a prefix of too many words), unless marked "*"
            whole = w.endswith("$") or (len(k) <= SHORT and not w.endswith("*"))
            if k and (concept, whole) not in stems[k]:
                stems[k].append((concept, whole))
    rules = []
    for r in data.get("rules", []):
        missing = [c for c in r["all"] if c not in data["concepts"]]
        if missing:
            raise ValueError(f"{path or 'concepts.toml'}: rule {r['id']} names unknown concept(s) {', '.join(missing)}")
        rules.append(
            ConceptRule(
                r["id"],
                r["indicator"],
                float(r.get("weight", 0.7)),
                tuple(r["all"]),
                r.get("window"),
                bool(r.get("negatable")),
                tuple(r.get("despite", ())),
            )
        )
    return Concepts(
        re.compile(rf"(?<![a-z0-9]){_trie(sorted(stems))}"),
        {k: tuple(v) for k, v in stems.items()},
        tuple(rules),
        {k: dict(v) for k, v in data.get("context", {}).items()},
        {k: tuple(v) for k, v in data.get("unless", {}).items()},
        {k: tuple(v) for k, v in data.get("topics", {}).items()},
        hashlib.sha256(raw).hexdigest(),
        str(path or "casegraph/ai/concepts.toml"),
    )


def find(concepts: Concepts, key: str) -> Found:
    """Every concept in a message's key view, with the word index where it starts."""
    out: Found = defaultdict(list)
    index = last = 0  # word index of the match: spaces counted from the previous match on, not from the start
    n = len(key)
    stems = concepts.stems
    for m in concepts.pattern.finditer(key):
        s, e = m.span()
        end_of_word = e == n or not key[e].isalnum()
        index += key.count(" ", last, s)
        last = s
        g = m.group(0)
        for concept, whole in stems[g]:
            if end_of_word or not whole:
                out[concept].append((index, g))
    return out


@dataclass(frozen=True)
class ConceptHit:
    rule: ConceptRule
    words: tuple[int, ...]  # word indices of the matched concepts
    keys: tuple[str, ...]  # what matched there, in the key view
    negated: bool = False


def apply(concepts: Concepts, found: Found, with_negated: bool = False) -> list[ConceptHit]:
    """The rules whose concepts are all found (near each other, where a window is set), unless negated
    (`with_negated`: those too, marked, so the caller can also lower the learned layer's score)."""
    hits = []
    present = found.__contains__  # no generator per rule: most rules miss most messages
    for rule in concepts.rules:
        if not all(map(present, rule.all)):
            continue
        best: list[tuple[int, str]] | None = None
        for first in found[rule.all[0]]:
            picks = [first]
            for c in rule.all[1:]:
                picks.append(min(found[c], key=lambda m: abs(m[0] - first[0])))
            at = [i for i, _ in picks]
            if rule.window is None or max(at) - min(at) <= rule.window:
                best = picks
                break
        if best is None:
            continue
        words = tuple(i for i, _ in best)
        neg = rule.negatable and negated(found, words)
        if neg and not with_negated:
            continue
        hits.append(ConceptHit(rule, words, tuple(k for _, k in best), neg))
    return hits


def negated(found: Found, words: tuple[int, ...] | list[int]) -> bool:
    """A negation within 3 words before or 2 after the matched words ("they did not take", "ගත්තේ නෑ")."""
    return any(min(words) - 3 <= n <= max(words) + 2 for n, _ in found.get("NEG", ())) if words else False


def context_factor(
    concepts: Concepts, indicator: str, found: Found, despite: tuple[str, ...] = ()
) -> tuple[float, list[tuple[str, tuple[int, str]]]]:
    """The factor legitimate contexts put on an indicator's score, and which (concept, (word index, key text)) did."""
    tables = (concepts.context.get("*", {}), concepts.context.get(indicator, {}))
    if not any(c in found for t in tables for c in t) or any(c in found for c in concepts.unless.get(indicator, ())):
        return 1.0, []
    factor, why = 1.0, []
    for table in tables:
        for concept, f in table.items():
            if concept in found and concept not in despite:
                factor = min(factor, f)
                why.append((concept, found[concept][0]))
    return factor, why


SPEAKER_CONCEPTS = ("RELATIVE", "FIRST", "SECOND")


def speaker(found: Found) -> str:
    """Who seems to be writing: a relative (about a family member), the victim (first person), the
    agent or employer (addressing 'you'), or unknown. Recorded with every finding; a lead, not a fact."""
    if "RELATIVE" in found:
        return "relative"
    first, second = len(found.get("FIRST", ())), len(found.get("SECOND", ()))
    if first and first >= second:
        return "victim"
    return "agent" if second else "unknown"
