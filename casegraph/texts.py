"""Text folded for matching and search: the readable normal form the indicator rules match and the
offline viewer's search column holds (NFC, lower case, no zero-width joiners, emoji named in words,
held letters shortened, chat abbreviations spelt out, single spaces).

Base level, so the reports' viewer and the ai layer fold text alike without one importing the other;
casegraph.ai.normalise builds its loose Latin `key` on top of this."""

from __future__ import annotations

import re
import unicodedata

JOINERS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)  # zero-width characters, dropped before matching
_HELD = re.compile(r"([^\W\d_])\1{2,}")  # a letter typed three or more times in a row

# chat shorthand seen in migrant-worker and recruiter messages; whole words only
ABBREVIATIONS = {
    "pp": "passport",
    "ppt": "passport",
    "pprt": "passport",
    "passprt": "passport",
    "pasport": "passport",
    "ag": "agent",
    "agnt": "agent",
    "agt": "agent",
    "vsa": "visa",
    "vza": "visa",
    "sal": "salary",
    "slry": "salary",
    "salry": "salary",
    "tkt": "ticket",
    "tckt": "ticket",
    "cmpny": "company",
    "cmpy": "company",
    "co.": "company",
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "dnt": "don't",
    "dont": "don't",
    "cnt": "can't",
    "cant": "can't",
    "wont": "won't",
    "didnt": "didn't",
    "nt": "not",
    "mob": "mobile",
    "fone": "phone",
    "phn": "phone",
    "docs": "documents",
    "doc": "document",
    "tmrw": "tomorrow",
    "bcz": "because",
    "coz": "because",
    "cuz": "because",
    "b4": "before",
    "msg": "message",
    "govt": "government",
    "emb": "embassy",
    "jk": "joking",
    "lol": "haha",
    "lmao": "haha",
    "hehe": "haha",
    "hahaha": "haha",
}
_ABBREV = re.compile(r"(?<![\w'])(" + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![\w'])")

# emoji that carry meaning for an indicator or its context, named in words
EMOJI = {
    "haha": "😂🤣😆😹😜😝😛",
    "locked": "🔒🔐",
    "passport": "🛂",
    "flight": "✈🛫🛬",
    "money": "💰💵💸💴💶💷🤑",
    "scared": "😨😰😱😭😢",
    "beat": "👊🤜",
    "knife": "🔪🗡",
    "gun": "🔫",
    "please": "🙏",
}
_EMOJI = {ord(c): f" {word} " for word, chars in EMOJI.items() for c in chars}
_OTHER_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
# joiners dropped and emoji named in one pass (no emoji is a joiner, and no name holds one)
_JOINERS_EMOJI = {**JOINERS, **_EMOJI}
_MAPPED = re.compile("[" + "".join(re.escape(chr(c)) for c in _JOINERS_EMOJI) + "]")


def fold(text: str) -> str:
    """The readable normal form (see the module docstring)."""
    # each step only where it changes something: most messages are NFC already and hold no joiner or emoji
    t = text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    if _MAPPED.search(t):
        t = t.translate(_JOINERS_EMOJI)
    t = _OTHER_EMOJI.sub(" ", t).lower()
    t = _HELD.sub(r"\1", t)
    t = _ABBREV.sub(lambda m: ABBREVIATIONS[m.group(1)], t)
    return " ".join(t.split())  # str.split and the regex \s both split on str.isspace: runs collapsed, ends stripped
