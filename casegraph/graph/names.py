"""Person names as Sri Lankan records write them, and how alike two of them are.

The same person appears as "W.A.D. Perera" on a bank form, "Warnakulasuriya Arachchige Don Perera"
on a goAML report, "Kasun Perera" in a chat and "කසුන් පෙරේරා" in a Sinhala contact list. The rules:

- Sinhala and Tamil script are romanised (indic-transliteration; Tamil with the phonetic
  superscripted scheme, so ச is "c", not the Sanskrit "jh") before anything else is compared.
- Spellings are folded to a key that ignores the differences romanisation makes: aspiration (dh/d,
  th/t), voicing that Tamil script does not write (g/k, d/t, b/p), w/v, e/a, doubled letters and the
  final vowel: Jayawardena, Jayewardene and Jayawardhana share one key.
- Written initials ("W.A.D.") agree with full words that start with the same letter, in any order,
  because Tamil names put the father's name (or its initial) first and Sinhala names put the
  ge-name (vasagama) first.
- A ge-name (Arachchige, Liyanage, Kankanamge ...) that one record has and the other leaves out is
  not a disagreement: it is often dropped.
- Two different given names are a disagreement: "Kasun Perera" and "Nimal Perera" share only a
  common surname and score low.
- Titles and honorifics are dropped (Mr, Mrs, Haji, Moulavi, Thiru, Thirumathi, Selvi ...). Words a
  contact list adds (kinship terms and roles: Bro, Aiya, Malli, Akka, Nangi, Anna, Thambi, Machan,
  Mahattaya, Agent ...) are compared by their spelling key, in Latin, Sinhala or Tamil script, and one
  side may have them: "Rizwan Bro" is "Rizwan".
- Mohamed (Mohammed, Muhammad, Mohomed, Mohd ...) is the first given name of most Muslim men in Sri
  Lanka and is often left out: "Mohamed Rizwan" is called "Rizwan". Left out on one side, it weakens
  the match only a little; it is never enough to join on by itself.

`similarity(a, b)` returns a score in 0..1 and the reasons, which a merge stores as its evidence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from indic_transliteration import sanscript
from rapidfuzz.distance import JaroWinkler

TITLES = frozenset(
    """mr mrs ms miss dr prof rev ven hon sir madam mx thero thera himi hamuduruwo haji hajji alhaj alhaji alhajj
    moulavi maulavi moulana thiru tiru thirumathi tirumati selvi selvan""".split()
)
PARTICLES = frozenset("de da di dos del van von bin binti".split())  # "Nimal de Silva" is also "Nimal Silva"
# words a phone's contact list adds to a name ("Rizwan Bro", "Nuwan Agent", "Kasun Malli"): kinship
# terms in Sinhala, Tamil and English, and roles; like a ge-name, one side may have them and the other not
CONTACT_WORDS = frozenset(
    """bro brother sis sister aiya ayya ayiya malli akka nangi namgi anna annan annai thambi tampi thangachi
    amma appa thaththa uncle aunty auntie mama nanda machan machang maccan sir madam mahattaya mahathmaya
    nona mudalali agent boss driver office work new old""".split()
)
# the first given name most Muslim men in Sri Lanka share, in its spellings (Latin, Tamil, Sinhala)
COMMON_FIRST = frozenset("mohamed mohammed mohamad mohammad muhammad muhammed mohomed mohomad mukammatu mohd mhd md".split())
COMMON_FIRST_WEIGHT = 0.05  # left out on one side: a small doubt, not a disagreement
_SINHALA = re.compile(r"[\u0D80-\u0DFF]")
_TAMIL = re.compile(r"[\u0B80-\u0BFF]")
TOKEN_MATCH = 0.88  # folded keys at least this alike (Jaro-Winkler) are the same word
INITIAL_WEIGHT = 0.9  # an initial agreeing with a word is a little weaker than two words agreeing


def romanise(text: str) -> str:
    """Latin letters without diacritics, lower case. Sinhala and Tamil script are transliterated."""
    if text.isascii():  # nothing to transliterate or decompose (most romanised names): the same, sooner
        return text.lower()
    if _SINHALA.search(text):
        text = sanscript.transliterate(text, "sinhala", sanscript.IAST)
    if _TAMIL.search(text):
        text = sanscript.transliterate(text, "tamil_superscripted", sanscript.IAST)
    text = unicodedata.normalize("NFKD", text.replace("\u200d", ""))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


_FOLDS = [
    ("sh", "s"),
    ("ch", "s"),
    ("c", "s"),
    ("zh", "l"),
    ("th", "t"),
    ("dh", "t"),
    ("kh", "k"),
    ("gh", "k"),
    ("bh", "p"),
    ("ph", "p"),
    ("jh", "j"),
    ("w", "v"),
    ("g", "k"),
    ("d", "t"),
    ("b", "p"),
    ("z", "s"),
    ("q", "k"),
    ("x", "ks"),
    ("y", "i"),
    ("ee", "i"),
    ("oo", "u"),
    ("e", "a"),
    ("o", "u"),
]


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """The spelling-variant key of one romanised word."""
    w = re.sub(r"[^a-z]", "", word)
    for a, b in _FOLDS:
        w = w.replace(a, b)
    w = re.sub(r"(.)\1+", r"\1", w)  # doubled letters
    return w[:-1] if len(w) > 3 and w[-1] in "aiu" else w  # the final vowel


_FEMININE_ENDINGS = ("i", "ni", "thi", "ani", "athi", "ini", "nthi")


def gendered_pair(x: str, y: str) -> bool:
    """The masculine and feminine forms of one Sinhala given name are two people's names, however
    alike their spelling keys: Kumara/Kumari, Chamara/Chamari, Nuwan/Nuwanthi, Dilan/Dilani,
    Sanjeewa/Sanjeewani, Tharindu/Tharindi; and the Arabic feminine in -a: Rizwan/Rizwana, Imran/Imrana."""
    if x == y:
        return False
    for m, f in ((x, y), (y, x)):
        if len(m) >= 4 and m[-1] not in "aeiou" and f == m + "a":  # Rizwan/Rizwana, Farhan/Farhana, Jamil/Jamila
            return True
        stem = m[:-1] if m[-1:] in ("a", "u", "e") else m
        if len(stem) >= 3 and f.startswith(stem) and f[len(stem) :] in _FEMININE_ENDINGS and f != m:
            return True
    return False


def is_ge_name(word: str) -> bool:
    """A Sinhala house name (vasagama): Arachchige, Liyanage, Kankanamge, Hettige ..."""
    return len(word) > 4 and word.endswith(("ge", "ghe", "gei"))


@dataclass(frozen=True)
class Name:
    raw: str
    words: tuple[str, ...]  # romanised full words, titles dropped
    initials: tuple[str, ...]  # romanised letters written as initials

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(fold(w) for w in self.words)


@lru_cache(maxsize=1 << 16)
def parse(raw: str) -> Name:
    """Split a written name into full words and initials: "W.A.D. Perera", "Perera W A D", "R.Suresh",
    "WAD Perera" (initials run together, told apart by being capitals beside a lower-case word)."""
    mixed_case = any(c.islower() for c in raw or "")
    words, initials = [], []
    for token in re.split(r"[\s,]+", raw or ""):
        run_together = mixed_case and 2 <= len(token) <= 3 and token.isalpha() and token.isupper()
        for piece in token.split("."):
            piece = re.sub(r"[^a-z]", "", romanise(piece))
            if not piece or piece in TITLES:
                continue
            if len(piece) == 1 or run_together:
                initials.extend(piece)
            else:
                words.append(piece)
    return Name(raw, tuple(words), tuple(initials))


@dataclass(frozen=True)
class Similarity:
    score: float
    reasons: tuple[str, ...]


def similarity(a: str | Name, b: str | Name) -> Similarity:
    """How alike two written names are (0..1), and why. Two names that carry different numbers ("Agent 1",
    "Agent 2"; a contact list's way of telling people apart) score at most NUMBERS_DIFFER, below review."""
    A = a if isinstance(a, Name) else parse(a)
    B = b if isinstance(b, Name) else parse(b)
    got = _similarity(A, B)
    na, nb = _numbers(A.raw), _numbers(B.raw)
    if na and nb and na != nb and got.score > NUMBERS_DIFFER:
        shown = f"{' '.join(map(str, sorted(na)))} / {' '.join(map(str, sorted(nb)))}"
        return Similarity(NUMBERS_DIFFER, (*got.reasons, f"different numbers in the names: {shown}"))
    return got


NUMBERS_DIFFER = 0.5


def _numbers(raw: str) -> frozenset[int]:
    """The numbers written in a name, in any script's digits (int() reads Sinhala, Tamil, Arabic-Indic digits)."""
    return frozenset(int(d) for d in re.findall(r"\d+", raw))


def _similarity(A: Name, B: Name) -> Similarity:
    if not A.words and not B.words:
        return Similarity(0.0, ("no full words to compare",))
    reasons: list[str] = []
    agree = 0.0  # weight of agreeing elements
    counted = 0.0  # weight of elements compared

    # 1. full words, best pairs first, in any order
    pairs = sorted(
        ((JaroWinkler.normalized_similarity(ka, kb), i, j) for i, ka in enumerate(A.keys) for j, kb in enumerate(B.keys)), reverse=True
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for sim, i, j in pairs:
        if sim < TOKEN_MATCH or i in used_a or j in used_b or gendered_pair(A.words[i], B.words[j]):
            continue
        used_a.add(i), used_b.add(j)
        agree += sim
        counted += 1
        reasons.append(f"{A.words[i]} = {B.words[j]}" if sim == 1 else f"{A.words[i]} ~ {B.words[j]} ({sim:.2f})")
    if not used_a:
        return Similarity(0.0, ("no word in common",))

    # 2. initials against the other side's unmatched words, then against its initials
    left_a, hits_a = _initials_against(A, B, used_b, reasons)
    left_b, hits_b = _initials_against(B, A, used_a, reasons)
    n_initial_words = hits_a + hits_b
    agree += INITIAL_WEIGHT * n_initial_words
    counted += n_initial_words
    for ini in list(left_a):
        if ini in left_b:
            left_a.remove(ini), left_b.remove(ini)
            agree += INITIAL_WEIGHT
            counted += 1
            reasons.append(f"initial {ini.upper()}. = {ini.upper()}.")

    # 3. what is left: a ge-name or a particle may be dropped; two different given names (or
    #    initials) disagree; a part written on one side only weakens the match
    rest_a = [w for i, w in enumerate(A.words) if i not in used_a and not _optional(w)] + [i.upper() + "." for i in left_a]
    rest_b = [w for j, w in enumerate(B.words) if j not in used_b and not _optional(w)] + [i.upper() + "." for i in left_b]
    dropped = [w for i, w in enumerate(A.words) if i not in used_a and common_first(w)] + [
        w for j, w in enumerate(B.words) if j not in used_b and common_first(w)
    ]
    if dropped:
        counted += COMMON_FIRST_WEIGHT * len(dropped)
        reasons.append(f"{' '.join(dropped)}: a common first given name, written on one side only")
    clashes = min(len(rest_a), len(rest_b))
    if clashes:
        reasons.append(f"different: {' '.join(rest_a)} / {' '.join(rest_b)}")
    one_side = abs(len(rest_a) - len(rest_b))
    if one_side:
        reasons.append(f"{one_side} name part(s) written on one side only")
    counted += clashes + 0.5 * one_side
    if all(common_first(A.words[i]) for i in used_a):  # "Mohamed" alone names no one
        reasons.append("only the common first given name agrees")
        return Similarity(round(min(agree / counted, 0.5), 4), tuple(reasons))
    return Similarity(round(agree / counted, 4), tuple(reasons))


_CONTACT_KEYS = frozenset(fold(w) for w in CONTACT_WORDS)
_COMMON_FIRST_KEYS = frozenset(fold(w) for w in COMMON_FIRST)


def _optional(word: str) -> bool:
    return is_ge_name(word) or word in PARTICLES or fold(word) in _CONTACT_KEYS or common_first(word)


def common_first(word: str) -> bool:
    """Mohamed in one of its spellings (a romanised word)."""
    return word in COMMON_FIRST or fold(word) in _COMMON_FIRST_KEYS


def _initials_against(X: Name, Y: Name, used_y: set[int], reasons: list[str]) -> tuple[list[str], int]:
    """Match X's initials to Y's words not yet matched (marking them used): X's initials left, and hits."""
    left = list(X.initials)
    hits = 0
    for j, word in enumerate(Y.words):
        if j in used_y:
            continue
        hit = next((k for k, ini in enumerate(left) if fold(ini)[:1] == fold(word)[:1]), None)
        if hit is not None:
            used_y.add(j)
            hits += 1
            reasons.append(f"initial {left.pop(hit).upper()}. ~ {word}")
    return left, hits
