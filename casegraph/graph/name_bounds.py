"""Which name pairs could reach a score, decided in bulk, so that `names.similarity` runs only on those.

Entity resolution blocks members on a shared word of their names; at a million members that gives
millions of distinct name pairs, and `similarity` is Python, one pair at a time. Most of those pairs
are "Kasun Perera" / "Nimal Perera": one word agrees and the given names differ, far below review.

`upper_bounds` gives, for many pairs at once (numpy, and rapidfuzz's Jaro-Winkler over the distinct
word-key pairs), a number that `similarity` can never exceed for that pair. A pair whose bound is below
the review threshold cannot matter; the others are scored by `similarity` itself, so every score and
reason that is kept is the one `similarity` gives (tests/test_name_bounds.py compares the two).

The bound follows `names._similarity`'s rules. An element (a full word or an initial) can only be
matched by an element of the other name when two full words' spelling keys agree at TOKEN_MATCH or
better, or when one of the two is an initial and the first letters of their keys agree. With p matched
elements (at most the number of matchable elements on either side), the agreement is at most p; each
element that must stay unmatched and is not optional (a ge-name, a particle, a contact-list word or
Mohamed may be left out) counts 0.5 against it (a clash counts 1 for two, one side only 0.5 for one).
So similarity <= p / (p + 0.5 * (left_a + left_b)), which grows with p. Names carrying different
numbers score at most NUMBERS_DIFFER.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from ..ranges import flat_ranges
from . import names as nm

_SLACK = 1e-6  # Jaro-Winkler and the bound compared a little below their thresholds: a looser filter stays a bound


@dataclass
class NameElements:
    """The elements of many parsed names, flat (CSR): name i's elements are start[i]:start[i + 1]."""

    start: np.ndarray  # int64, len(names) + 1
    key: np.ndarray  # int64 word-key id, -1 for an initial
    first: np.ndarray  # int64 code of the first letter of the element's spelling key (-1: none)
    initial: np.ndarray  # bool
    strong: np.ndarray  # bool: left unmatched, it counts against the match (a word not optional, or an initial)
    numbers: np.ndarray  # int64 per name: id of its set of numbers (0: none)
    keys: list[str]  # word-key id -> key


def elements(parsed: list[nm.Name]) -> NameElements:
    """The elements of each name (one Python pass over the distinct names; the pairs are then numpy)."""
    key_id: dict[str, int] = {}
    number_id: dict[frozenset[int], int] = {frozenset(): 0}
    counts, key, first, initial, strong, numbers = [], [], [], [], [], []
    for n in parsed:
        ks = n.keys
        for w, k in zip(n.words, ks, strict=True):
            key.append(key_id.setdefault(k, len(key_id)))
            first.append(ord(k[0]) if k else -1)
            initial.append(False)
            strong.append(not nm._optional(w))
        for ini in n.initials:
            f = nm.fold(ini)
            key.append(-1)
            first.append(ord(f[0]) if f else -1)
            initial.append(True)
            strong.append(True)
        counts.append(len(ks) + len(n.initials))
        numbers.append(number_id.setdefault(nm._numbers(n.raw), len(number_id)))
    start = np.zeros(len(parsed) + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return NameElements(
        start,
        np.array(key, dtype=np.int64),
        np.array(first, dtype=np.int64),
        np.array(initial, dtype=bool),
        np.array(strong, dtype=bool),
        np.array(numbers, dtype=np.int64),
        list(key_id),
    )


def upper_bounds(e: NameElements, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each pair (names x[i], y[i]): a number names.similarity never exceeds for it."""
    x, y = np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64)
    out = np.zeros(len(x), dtype=np.float64)
    if not len(x):
        return out
    cx, cy = e.start[x + 1] - e.start[x], e.start[y + 1] - e.start[y]
    # every element of x against every element of y: pair-major, then x's element, then y's
    per_pair = cx * cy
    total = int(per_pair.sum())
    pair = np.repeat(np.arange(len(x)), per_pair)
    pos = np.arange(total) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    ea = e.start[x][pair] + pos // cy[pair]
    eb = e.start[y][pair] + pos % cy[pair]
    words = (e.key[ea] >= 0) & (e.key[eb] >= 0)
    match = (e.initial[ea] | e.initial[eb]) & (e.first[ea] == e.first[eb]) & (e.first[ea] >= 0)
    if words.any():
        code = e.key[ea[words]] * len(e.keys) + e.key[eb[words]]
        distinct, back = np.unique(code, return_inverse=True)
        ka, kb = distinct // len(e.keys), distinct % len(e.keys)
        sim = process.cpdist(
            [e.keys[i] for i in ka], [e.keys[i] for i in kb], scorer=JaroWinkler.normalized_similarity, dtype=np.float64, workers=1
        )
        match[words] |= sim[back] >= nm.TOKEN_MATCH - _SLACK
    # an element of x is matchable if some element of y matches it (and the other way round)
    a_slot = np.repeat(np.cumsum(cx) - cx, per_pair) + pos // cy[pair]
    b_slot = np.repeat(np.cumsum(cy) - cy, per_pair) + pos % cy[pair]
    a_ok = np.bincount(a_slot[match], minlength=int(cx.sum())) > 0
    b_ok = np.bincount(b_slot[match], minlength=int(cy.sum())) > 0
    a_el = flat_ranges(e.start[x], cx)
    b_el = flat_ranges(e.start[y], cy)
    a_pair, b_pair = np.repeat(np.arange(len(x)), cx), np.repeat(np.arange(len(x)), cy)
    m_a = np.bincount(a_pair[a_ok], minlength=len(x))
    m_b = np.bincount(b_pair[b_ok], minlength=len(x))
    s_a = np.bincount(a_pair[a_ok & e.strong[a_el]], minlength=len(x))
    s_b = np.bincount(b_pair[b_ok & e.strong[b_el]], minlength=len(x))
    u_a = np.bincount(a_pair[e.strong[a_el]], minlength=len(x))
    u_b = np.bincount(b_pair[e.strong[b_el]], minlength=len(x))
    words_agree = np.bincount(pair[match & words], minlength=len(x)) > 0  # no two words agree: similarity is 0
    p = np.minimum(m_a, m_b)
    left = np.maximum(0, u_a - np.minimum(p, s_a)) + np.maximum(0, u_b - np.minimum(p, s_b))
    ok = words_agree & (p > 0)
    out[ok] = p[ok] / (p[ok] + 0.5 * left[ok])
    differ = (e.numbers[x] > 0) & (e.numbers[y] > 0) & (e.numbers[x] != e.numbers[y])
    out[differ] = np.minimum(out[differ], nm.NUMBERS_DIFFER)
    return out


def could_reach(e: NameElements, x: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    """The pairs whose similarity could be at or above `threshold` (scores are rounded to 4 places)."""
    return upper_bounds(e, x, y) >= threshold - 1e-4
