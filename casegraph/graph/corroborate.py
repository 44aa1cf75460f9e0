"""Which name pairs resolution may join: a name alone never joins two people.

Common names are shared by many people ("Nimal Perera", "Mohamed Rizwan", "K. Selvarajah"), so two records
whose names agree at the automatic threshold are joined only when another, independent field of theirs agrees
too (Fellegi–Sunter's point: each agreeing field is its own evidence), and no field a person has one of
disagrees. The fields the members carry:

- date of birth: a contact card's vCard BDAY or goAML birthdate (written year-month-day), and the birth date a
  Sri Lankan NIC the member states encodes (identifiers.nic); two different dates block the join; 1 January and
  dates before 1900 are left out (what is written when the date is not known);
- NIC and passport: two different values block the join (a shared value already joins as an identifier);
- address: a card's goAML address or vCard ADR, compared with case, punctuation and spacing ignored, and of
  three words or more (a town alone is not an address); different addresses do not block (people move);
- account: a transfer names one side the holder of an account, and the other side wrote that account in a
  message it sent ("pay into BOC 0081234567");
- one device: a display name a chat export shows with no number beside it (`name:` member) and the one contact
  card of that same name in an address book seized from the same device (same exhibit file, IMEI or serial).

A pair with nothing else agreeing is not joined: it stays a review candidate (a possible-same-person finding). A
pair whose date of birth, NIC or passport disagrees is refused, as resolution refuses a join of two NICs (a
resolution-conflict finding). Every pair's evidence says which fields agreed and which disagreed. The pairs are few (those at the automatic
threshold), so their fields are read for their members only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import pyarrow as pa

from ..store import CaseStore
from .keys import EXCLUSIVE

# what each field is called in the evidence and its wording
FIELD_NAMES = {
    "dob": "date of birth",
    "address": "address",
    "nic": "NIC",
    "passport": "passport",
    "device": "one device",
    "account": "account",
}
BLOCKING = ("dob", *sorted(EXCLUSIVE))  # a person has one of each: two values keep two records apart
# a date of 1 January (1900-01-01, 1970-01-01 ...), or before 1900, is what registries and address books write when
# the day, or the date, is not known (people without a birth record are often given 1 January): it neither
# corroborates nor contradicts
_KNOWN = "(year({d}) >= 1900 AND NOT (month({d}) = 1 AND day({d}) = 1))"


class Pair(Protocol):
    a: str
    b: str
    evidence: dict


P = TypeVar("P", bound=Pair)

_FIELDS = r"""
WITH cards AS (SELECT 'record:' || c.id AS member, c.extra FROM contacts c SEMI JOIN _er_cw w ON w.member = 'record:' || c.id),
-- a vCard property is a list of the values written (a card may have several), a goAML field one value
said AS (SELECT member, unnest(CASE WHEN json_type(j) = 'ARRAY' THEN from_json(j, '["VARCHAR"]') ELSE [j->>'$'] END) AS v, source
         FROM (SELECT member, json_extract(extra, '$.' || k) AS j, source FROM cards, (VALUES ('bday', 'vCard BDAY'),
               ('birthdate', 'goAML birthdate'), ('adr', 'vCard ADR'), ('address', 'goAML address')) f(k, source))
         WHERE j IS NOT NULL),
written AS (SELECT * FROM said WHERE source IN ('vCard BDAY', 'goAML birthdate')),
places AS (SELECT member, trim(regexp_replace(lower(v), '[^\p{L}\p{N}]+', ' ', 'g')) AS v, source FROM said
           WHERE source IN ('vCard ADR', 'goAML address')),
dated AS (
    SELECT member, try_cast(regexp_replace(v, '^\s*(\d{4})-?(\d{2})-?(\d{2})([T\s].*)?\s*$', '\1-\2-\3') AS DATE) AS d, source
    FROM written WHERE regexp_matches(v, '^\s*\d{4}-?\d{2}-?\d{2}([T\s].*)?\s*$'))
SELECT member, 'dob' AS field, strftime(d, '%Y-%m-%d') AS value, source FROM dated WHERE d IS NOT NULL AND {known}
UNION ALL
SELECT o.member, 'dob', k.detail->>'birth_date', 'NIC ' || o.key
FROM (SELECT DISTINCT member, key FROM _er_obs SEMI JOIN _er_cw USING (member) WHERE key_kind = 'nic') o
JOIN (SELECT DISTINCT key, detail FROM identifier_keys WHERE key_kind = 'nic' AND valid) k USING (key)
WHERE k.detail->>'birth_date' IS NOT NULL AND {known_nic}
UNION ALL
SELECT DISTINCT member, key_kind, key, upper(key_kind) || ' ' || key FROM _er_obs SEMI JOIN _er_cw USING (member)
WHERE key_kind IN ({exclusive})
UNION ALL
SELECT member, 'address', v, source FROM places WHERE length(v) - length(replace(v, ' ', '')) >= 2
UNION ALL
SELECT DISTINCT member, 'holds', key_kind || ' ' || key, 'the holder name of a transfer' FROM _er_obs SEMI JOIN _er_cw USING (member)
WHERE src IN (4, 5)
UNION ALL
-- the identifiers a member wrote in the messages it sent: as itself (`id:`), from a number its card lists, or by name
SELECT w.member, 'wrote', km.key_kind || ' ' || km.key, 'written in a message it sent (' || min(m.locator) || ')'
FROM (SELECT member, substr(member, 4) AS node FROM _er_cw WHERE starts_with(member, 'id:')
      UNION SELECT o.member, k.node FROM _er_obs o SEMI JOIN _er_cw USING (member)
            JOIN identifier_keys k ON k.key_kind = o.key_kind AND k.key = o.key WHERE starts_with(o.member, 'record:')) w
JOIN identifier_keys ks ON ks.node = w.node
JOIN identifiers s ON s.kind = ks.kind AND s.value = ks.value AND s.role = 'sender'
JOIN identifiers m ON m.record_id = s.record_id AND m.role = 'mentioned'
JOIN identifier_keys km ON km.kind = m.kind AND km.value = m.value AND km.valid
GROUP BY ALL
UNION ALL
SELECT m.member, 'wrote', km.key_kind || ' ' || km.key, 'written in a message it sent (' || min(m.locator) || ')'
FROM (SELECT 'name:' || left(g.exhibit_sha256, 32) || ':' || g.sender_name AS member, m.kind, m.value, m.locator
      FROM identifiers m JOIN messages g ON g.id = m.record_id
      WHERE m.role = 'mentioned' AND g.sender_id IS NULL AND g.sender_name IS NOT NULL) m
SEMI JOIN _er_cw USING (member)
JOIN identifier_keys km ON km.kind = m.kind AND km.value = m.value AND km.valid
GROUP BY ALL
"""


def split(store: CaseStore, pairs: list[P]) -> tuple[list[P], list[P]]:
    """(joined, refused): the pairs another field corroborates with none disagreeing, and those a date of birth,
    NIC or passport contradicts (evidence["refused"] says which, as resolution's refusals do); the others are left
    for review. Every pair's evidence gains `agreed` and `disagreed` (field, value(s), where each value was read),
    and `fields`, the fields a join rests on (name first)."""
    if not pairs:
        return [], []
    con = store.con
    store.id_table("_er_cw_in", (m for p in pairs for m in (p.a, p.b)))
    con.execute("CREATE OR REPLACE TEMP TABLE _er_cw AS SELECT id AS member FROM _er_cw_in")
    sql = (
        _FIELDS.replace("{exclusive}", ", ".join(f"'{k}'" for k in sorted(EXCLUSIVE)))
        .replace("{known_nic}", _KNOWN.format(d="CAST(k.detail->>'birth_date' AS DATE)"))
        .replace("{known}", _KNOWN.format(d="d"))
    )
    seen: dict[str, dict[str, dict[str, list[str]]]] = {}  # member → field → value → sources
    for member, fld, value, source in con.execute(f"SELECT DISTINCT * FROM ({sql}) ORDER BY ALL").fetchall():
        seen.setdefault(member, {}).setdefault(fld, {}).setdefault(value, []).append(source)
    devices = _one_device(store, pairs)
    joined: list[P] = []
    refused: list[P] = []
    for p in pairs:
        fa, fb = seen.get(p.a, {}), seen.get(p.b, {})
        agreed, disagreed = [], []
        for fld in sorted((set(fa) & set(fb)) - {"holds", "wrote"}):
            common = sorted(set(fa[fld]) & set(fb[fld]))
            if common:
                agreed += [{"field": FIELD_NAMES[fld], "value": v, "from": [fa[fld][v], fb[fld][v]]} for v in common]
            elif fld in BLOCKING:
                disagreed.append({"field": FIELD_NAMES[fld], "values": [_said(fa[fld], fld), _said(fb[fld], fld)], "kind": fld})
        # one side holds the account a transfer names it the holder of, the other wrote that account in a message
        # it sent (not both writing one account: a victim and the recruiter both write the account paid into)
        for x, y, flip in ((fa, fb, False), (fb, fa, True)):
            for v in sorted(set(x.get("holds", {})) & set(y.get("wrote", {}))):
                said = [x["holds"][v], y["wrote"][v]]
                agreed.append({"field": FIELD_NAMES["account"], "value": v, "from": said[::-1] if flip else said})
        if (p.a, p.b) in devices:
            agreed.append({"field": FIELD_NAMES["device"], "value": devices[(p.a, p.b)], "from": [["chat export"], ["address book"]]})
        p.evidence["agreed"], p.evidence["disagreed"] = agreed, [{k: v for k, v in x.items() if k != "kind"} for x in disagreed]
        p.evidence["fields"] = ["name", *dict.fromkeys(x["field"] for x in agreed)]
        if disagreed:
            # a date of birth a NIC gives is no second disagreement beside that NIC's: the NIC is said alone
            ids = [x for x in disagreed if x["kind"] in EXCLUSIVE] or disagreed
            p.evidence["refused"] = "; ".join(_different(x) for x in ids)
            refused.append(p)
        elif agreed:
            joined.append(p)
    return joined, refused


def _said(values: dict[str, list[str]], fld: str) -> list[str]:
    """The values, a date with where it was read ("1985-05-02 (NIC 198512304567)"); a NIC or passport is its own source."""
    return [f"{v} ({', '.join(values[v])})" if fld == "dob" else v for v in sorted(values)]


def _different(x: dict) -> str:
    """As _Groups.why_not words two values of a kind a person has one of ("different NIC: a / b")."""
    label = x["kind"].upper() if x["kind"] in EXCLUSIVE else x["field"]
    return f"different {label}: {' / '.join(', '.join(v) for v in x['values'])}"


def _same_name(x: str, y: str) -> bool:
    return " ".join(x.lower().split()) == " ".join(y.lower().split())


def _one_device(store: CaseStore, pairs: Sequence[Pair]) -> dict[tuple[str, str], str]:
    """The pairs of a display name with no number (`name:` member) and a contact card of the very same name in
    an address book from the same device, that device's only card of that name: pair → how the device is known."""
    want = [
        (p.a, p.b, x)
        for p in pairs
        for x, y in [p.evidence.get("names", ["", ""])]
        if {p.a.split(":", 1)[0], p.b.split(":", 1)[0]} == {"name", "record"} and _same_name(x, y)
    ]
    if not want:
        return {}
    con = store.con
    con.register(
        "_er_dev_in",
        pa.table({"a": [w[0] for w in want], "b": [w[1] for w in want], "name": [" ".join(w[2].lower().split()) for w in want]}),
    )
    try:
        rows = con.execute("""
            WITH p AS (SELECT a, b, name, CASE WHEN starts_with(a, 'name:') THEN a ELSE b END AS shown,
                              CASE WHEN starts_with(a, 'record:') THEN a ELSE b END AS card FROM _er_dev_in),
            ex AS (SELECT p.a, p.b, p.name, sx.sha256 AS chat, cx.sha256 AS book, sx.device_imei AS imei, sx.device_serial AS serial,
                          CASE WHEN sx.sha256 = cx.sha256 THEN 'exhibit ' || coalesce(sx.exhibit_id || ' ', '') || left(sx.sha256, 16)
                               WHEN sx.device_imei = cx.device_imei THEN 'IMEI ' || sx.device_imei
                               WHEN sx.device_serial = cx.device_serial THEN 'serial ' || sx.device_serial END AS device
                   FROM p JOIN _er_obs so ON so.member = p.shown AND so.src = 3
                   JOIN contacts c ON 'record:' || c.id = p.card
                   JOIN exhibits sx ON sx.sha256 = so.exhibit_sha256 JOIN exhibits cx ON cx.sha256 = c.exhibit_sha256)
            -- the device's cards of that name, in any of its exhibits: one, or the name does not say which card
            SELECT s.a, s.b, min(s.device) FROM ex s
            WHERE s.device IS NOT NULL
              AND (SELECT count(DISTINCT c2.id) FROM contacts c2 JOIN exhibits x2 ON x2.sha256 = c2.exhibit_sha256
                   WHERE lower(trim(regexp_replace(c2.name, '\\s+', ' ', 'g'))) = s.name
                     AND (x2.sha256 IN (s.chat, s.book) OR x2.device_imei = s.imei OR x2.device_serial = s.serial)) = 1
            GROUP BY s.a, s.b""").fetchall()
    finally:
        con.unregister("_er_dev_in")
    return {(a, b): f"{device}: the address book from that device has one contact of that name" for a, b, device in rows}


def wording(evidence: dict) -> str:
    """What the other fields of a name pair say, as a clause: "date of birth 1985-05-12 agrees (vCard BDAY / NIC …)",
    "different date of birth: 1985-05-12 / 1979-01-03", or that nothing else agrees."""
    if "agreed" not in evidence:
        return ""
    parts = [f"different {x['field']}: {' / '.join(', '.join(v) for v in x['values'])}" for x in evidence["disagreed"]]
    parts += [
        f"{x['field']} {x['value']} agrees ({' / '.join(', '.join(s) for s in x['from'])})"
        if x["field"] != FIELD_NAMES["device"]
        else f"one device, {x['value']}"
        for x in evidence["agreed"]
    ]
    return "; ".join(parts) or "nothing else of the two records agrees (a name alone does not join two records)"
