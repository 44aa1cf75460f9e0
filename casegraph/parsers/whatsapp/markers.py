"""What WhatsApp writes in place of a user's content (media left out, deleted, edited, attached), in
every UI language, from the one table in parsers/data/whatsapp_markers.toml.

Whole-message markers are found by set membership on the short rows only (normalised: lower case,
no direction marks, no surrounding spaces, no final full stop), so the table can grow without
slowing the common rows down.
"""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .grammar import MARKS, extract, np_mask, where

TABLE: dict[str, dict[str, list[str]]] = tomllib.loads(files("casegraph.parsers").joinpath("data/whatsapp_markers.toml").read_text("utf-8"))


def _strings(section: str) -> list[str]:
    return [s for per_language in TABLE.get(section, {}).values() for s in per_language]


def normalise(s: str) -> str:
    return s.strip().strip(MARKS).strip().rstrip(".").strip().lower()


def _set(section: str) -> list[str]:
    return sorted({normalise(s) for s in _strings(section)})


def alternation(section: str) -> str:
    return "|".join(re.escape(s).replace(r"\ ", r"\s*") for s in sorted(set(_strings(section)), key=len, reverse=True))


WHOLE = {name: _set(name) for name in ("media_omitted", "deleted", "deleted_by_admin", "placeholder")}
MAX_WHOLE = max(len(s) for name in WHOLE for s in _strings(name)) + 8
_SUFFIX_OMITTED = "(?i)(?:" + alternation("media_omitted_suffix") + ")[\\s." + MARKS + "]*$"
EDITED = "\\s*(?:" + alternation("edited_suffix") + ")[\\s" + MARKS + "]*$"
_ATTACHED_WORD = "(?:" + alternation("attached_word") + ")"
# iOS '<attached: FILE>' (also '< attached: FILE >'), and 'FILE ‹attached>' (the same, with the name first)
ATTACHED = (
    "(?i)<\\s*"
    + _ATTACHED_WORD
    + "\\s*:\\s*(?P<file>[^>]*?)\\s*>|(?P<file2>[^\\s<‹][^<‹\\n]*?)\\s*[<‹]["
    + MARKS
    + "]*\\s*"
    + _ATTACHED_WORD
    + "\\s*>"
)
# Android 'FILE (file attached)' in the export's language
FILE_ATTACHED = "(?i)^[" + MARKS + "]*(?P<file>[^\\n]+?\\.\\w{2,5})\\s*\\((?:" + alternation("file_attached_words") + ")\\)"
# A cheap test for the rows worth the patterns above (they all have one of these)
SPECIAL = "(?i)<|‹|location: |\\((?:" + alternation("file_attached_words") + ")\\)"


_PAD = "[\\s." + MARKS + "]*"
# One DFA pass finds the rows that may be markers; only those are normalised and looked up.
_CANDIDATE = (
    "(?i)^"
    + _PAD
    + "(?:"
    + "|".join(alternation(n) for n in WHOLE)
    + ")"
    + _PAD
    + "$|(?:"
    + alternation("media_omitted_suffix")
    + ")"
    + _PAD
    + "$"
)


CANDIDATE = _CANDIDATE


def whole_markers(text: pa.Array, maybe: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Masks of the rows whose whole text is a marker, by table section. `maybe`: a superset of the
    rows that match CANDIDATE (from a combined prefilter), when the caller has one."""
    short = np_mask(pc.less_equal(pc.utf8_length(text), MAX_WHOLE))
    if maybe is not None:
        short &= maybe
    if short.any():
        short[short] = np_mask(pc.match_substring_regex(text.filter(pa.array(short)), _CANDIDATE))
    out = {name: np.zeros(len(text), bool) for name in WHOLE}
    if not short.any():
        return out
    rows = pa.array(np.flatnonzero(short), pa.int64())
    norm = pc.utf8_lower(pc.utf8_trim(pc.utf8_rtrim(pc.utf8_trim(text.take(rows), MARKS + " \u00a0\u202f"), "."), " "))
    for name, values in WHOLE.items():
        hit = np_mask(pc.is_in(norm, value_set=pa.array(values, pa.string())))
        out[name][np.flatnonzero(short)[hit]] = True
    suffix = np_mask(pc.match_substring_regex(norm, _SUFFIX_OMITTED))
    out["media_omitted"][np.flatnonzero(short)[suffix]] = True
    return out


def edited(text: pa.Array) -> np.ndarray:
    """Rows ending with the '<This message was edited>' marker (they all end with '>')."""
    maybe = np_mask(pc.ends_with(pc.utf8_rtrim(text, MARKS + " "), ">"))
    return np_mask(where(maybe, text, lambda t: pc.match_substring_regex(t, EDITED), pa.bool_()))


def attached_file(text: pa.Array, special: np.ndarray) -> pa.Array:
    """The file name a row attaches (either form), null elsewhere."""

    def names(t: pa.Array) -> pa.Array:
        parts = pc.extract_regex(t, ATTACHED)
        ios = pc.if_else(
            parts.is_valid(),
            pc.if_else(pc.equal(parts.field("file"), ""), parts.field("file2"), parts.field("file")),
            pa.nulls(len(t), pa.string()),
        )
        return pc.coalesce(ios, extract(t, FILE_ATTACHED, "file"))

    return pc.utf8_trim(where(special, text, names), MARKS + " ")


def without_attachment(text: pa.Array) -> pa.Array:
    return pc.utf8_trim(pc.replace_substring_regex(pc.replace_substring_regex(text, ATTACHED, ""), FILE_ATTACHED, ""), MARKS + " \n")
