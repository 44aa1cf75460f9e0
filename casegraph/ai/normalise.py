"""Text as the indicator rules and the learned layer read it.

Two views of a message:
- `fold`: NFC, lower case, no zero-width joiners, emoji named in words, letters held down
  ("pleaseeee") shortened, chat abbreviations spelt out (pp → passport, vsa → visa, sal → salary),
  single spaces. Readable; the regex rules of lexicon.toml match it.
- `key`: every word of `fold` in one loose Latin spelling, whatever script it was typed in.
  Sinhala and Tamil script are romanised (indic-transliteration, ISO 15919), then script and
  typed romanisations are folded alike: no diacritics, aspirates and voicing merged
  (th/dh/d → t, gh/g/k → k, bh/b/p → p, ch/j/s → s), w → v, doubled letters single.
  "පාස්පෝට්", "paaspot" and "passport" end close together, "கடவுச்சீட்டுகளை" and
  "kadavuchcheettukalai" the same; a concept stem written once in Latin covers both scripts and
  their romanisations, and inflected forms, since stems match at the start of a word.
The two views have the same words in the same order, so a match in `key` names its words in `fold`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from indic_transliteration import sanscript

from ..texts import ABBREVIATIONS as ABBREVIATIONS  # fold and its vocabularies moved to base; re-exported here
from ..texts import EMOJI as EMOJI
from ..texts import fold as fold

SINHALA = ("\u0d80", "\u0dff")
TAMIL = ("\u0b80", "\u0bff")
# Sinhala letters the ISO scheme of indic-transliteration leaves as they are: written as the
# letters they sound like (prenasalised stops as nasal + stop, æ as a, f as p since `key` merges them)
_SI_PRE = str.maketrans(
    {
        "ඇ": "අ",
        "ඈ": "ආ",
        "\u0dd0": "",
        "\u0dd1": "\u0dcf",
        "ෆ": "ප",
        "ඟ": "න්ග",
        "ඬ": "න්ඩ",
        "ඳ": "න්ද",
        "ඹ": "ම්බ",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9]")
_DIGRAPHS = (
    ("zh", "l"),
    ("sh", "s"),
    ("ch", "s"),
    ("th", "t"),
    ("dh", "t"),
    ("kh", "k"),
    ("gh", "k"),
    ("bh", "p"),
    ("ph", "p"),
    ("jh", "s"),
)
_SOFT_C = re.compile(r"c(?=[ei])")
_SINGLE = str.maketrans({"c": "k", "q": "k", "z": "s", "w": "v", "f": "p", "j": "s", "g": "k", "d": "t", "b": "p", "x": "k"})
_DOUBLE = re.compile(r"(.)\1+")


_INDIC = re.compile(f"[{SINHALA[0]}-{SINHALA[1]}{TAMIL[0]}-{TAMIL[1]}]")


def script(word: str) -> str | None:
    """The script of the first Sinhala or Tamil letter in `word` (one regex search, not a Python loop per letter)."""
    m = _INDIC.search(word)
    if m is None:
        return None
    return "sinhala" if m.group() >= SINHALA[0] else "tamil"


@lru_cache(maxsize=262_144)
def word_key(word: str) -> str:
    """One word of `fold` in the loose Latin spelling (see the module docstring). Cached: chat
    vocabularies repeat, so most words are romanised once per process."""
    s = script(word)
    if s == "sinhala":
        word = sanscript.transliterate(word.translate(_SI_PRE), "sinhala", "iso")
    elif s == "tamil":
        word = sanscript.transliterate(word, "tamil", "iso")
    word = word.replace("æ", "a").replace("ṁ", "n").replace("ṟṟ", "tr")  # as typed: ලංකා "lanka", வெற்றி "vetri"
    w = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)).lower()
    w = _NON_WORD.sub("", w)
    for a, b in _DIGRAPHS:
        w = w.replace(a, b)
    w = _SOFT_C.sub("s", w).translate(_SINGLE)
    w = w.replace("ee", "i").replace("oo", "u")
    return _DOUBLE.sub(r"\1", w)


def words(folded: str) -> list[str]:
    return folded.split(" ") if folded else []


def key(folded: str) -> str:
    """The loose Latin view of a folded text, word for word."""
    return " ".join(map(word_key, folded.split(" "))) if folded else ""


# Common endings of Sinhala and Tamil (case, number, definiteness, verb person) and English, in the `key`
# spelling: Sinhala eka/ekak/ekata/ta/ke/ken/vala/valata/nava/nna/lu, Tamil ai/uku/ku/il/la/otu/kal/kalai/
# kaluku/um/anka/tan/rom/ren/ntu/nu, English s/es/et/ink/ly. Longest first; at most two are stripped and a
# stem keeps at least 3 letters, so "kadavusituka-lai", "pasport-ekak", "passport-ai" and "passport-s" meet.
_SUFFIXES = sorted(
    set(
        (
            "ekata ekak ekat eke eka ekin ekut valata valin vala vata yata yak yi lu ta ke ken nava nna nne nnam pu la ta "
            "kaluku kalai kalil kalin kal uku ku ai il in otu ota um anka ankal tan ten tom rom ren ntu nu ana "
            "s es et ink ly er"
        ).split()
    ),
    key=lambda x: (-len(x), x),
)
_SUFFIX = re.compile(rf"(?:{'|'.join(_SUFFIXES)})$")


@lru_cache(maxsize=262_144)
def stem(word_in_key: str) -> str:
    """A word of the `key` view without its common inflectional endings (see _SUFFIXES): the learned
    layer's word features read stems, so an inflected form it never saw shares its stem's weight."""
    w = word_in_key
    for _ in range(2):
        m = _SUFFIX.search(w)
        if m is None or m.start() < 3:
            break
        w = w[: m.start()]
    return w


def stem_key(stem: str) -> str:
    """A rule's stem (Latin or script, one or more words) in the `key` spelling."""
    return " ".join(word_key(w) for w in fold(stem).split(" ") if w)
