"""The person profile's queries stay fast on a large case without changing their answers (issue #19).

The profile used to list every place each identifier was seen (on the benchmark's case, one person with
20,000 message-sender rows: a 20,000-row table that took seconds to read and render). It now lists the first
few per identifier with the count of all, read with the person's identifier keys found first."""

from __future__ import annotations

from urllib.parse import quote

from serve_helpers import client, demo_case  # noqa: F401 (fixtures)

from casegraph import profile
from casegraph.case import Case

# the query the profile ran before: every identifier row joined to every key, then to the person
_OLD = """SELECT k.key_kind, k.key, i.kind, i.value, i.role, i.record_id, i.locator, i.exhibit_sha256, e.exhibit_id, e.original_name
          FROM identifiers i JOIN identifier_keys k USING (kind, value) JOIN entity_members m ON m.member = 'id:' || k.node
          LEFT JOIN exhibits e ON e.sha256 = i.exhibit_sha256
          WHERE m.entity_id = ? ORDER BY k.key_kind, k.key, e.exhibit_id, i.locator"""
_SEEN = ("value", "role", "record_id", "locator", "exhibit_sha256", "exhibit_id", "original_name")


def _key(s: dict) -> tuple:
    return tuple(str(s[k]) for k in _SEEN)


def test_identifiers_are_the_old_query_s_rows_and_a_limit_keeps_the_first_with_the_count(demo_case):  # noqa: F811
    with Case(demo_case, read_only=True) as case:
        people = [p["id"] for p in profile.people(case.store)]
        assert people
        several = 0
        for pid in people:
            old: dict[tuple[str, str], list[dict]] = {}
            for r in case.store.rows(_OLD, [pid]):
                old.setdefault((r["key_kind"], r["key"]), []).append(r)
            new = profile.identifiers(case.store, pid)
            assert [(i["kind"], i["key"]) for i in new] == list(old)
            for i in new:
                rows = old[(i["kind"], i["key"])]
                assert i["count"] == len(rows) == len(i["seen"])
                assert sorted(map(_key, i["seen"])) == sorted(map(_key, rows))
            one = profile.identifiers(case.store, pid, seen=1)
            assert [(i["kind"], i["key"], i["count"]) for i in one] == [(i["kind"], i["key"], i["count"]) for i in new]
            for a, b in zip(one, new, strict=True):
                assert len(a["seen"]) == 1 and _key(a["seen"][0]) == _key(b["seen"][0])
                several += b["count"] > 1
        assert several  # the demo has identifiers seen more than once, so the limit was exercised


def test_the_profile_page_says_how_many_places_it_does_not_list(demo_case, monkeypatch):  # noqa: F811
    from casegraph.serve.views import people as view

    monkeypatch.setattr(view, "SEEN", 1)
    with Case(demo_case, read_only=True) as case:
        pid, n = next(
            (p["id"], i["count"]) for p in profile.people(case.store) for i in profile.identifiers(case.store, p["id"]) if i["count"] > 1
        )
    with client(demo_case, read_only=True) as (c, _ws, _csrf):
        page = c.get(f"/people/{quote(pid, safe='')}").text
    assert f"seen {n:,} times in all: the first 1 are listed, {n - 1:,} more not" in page


def test_a_timeline_page_is_the_same_slice_of_the_whole_timeline(demo_case):  # noqa: F811
    """Each large branch (messages, transfers) is cut at offset + limit before the union is sorted: every page
    must still be that slice of the whole timeline (read with a limit no branch reaches)."""
    with Case(demo_case, read_only=True) as case:
        checked = 0
        for p in profile.people(case.store):
            whole = profile.timeline(case.store, p["id"], 0, 10**6)
            for offset, limit in ((0, 1), (0, 3), (1, 2), (2, 5), (5, 100)):
                page = profile.timeline(case.store, p["id"], offset, limit)
                want = whole[offset : offset + limit]
                assert [(r["ts_utc"], r["id"]) for r in page] == [(r["ts_utc"], r["id"]) for r in want]
                assert sorted((r["id"], r["what"], r["amount_text"]) for r in page) == sorted(
                    (r["id"], r["what"], r["amount_text"]) for r in want
                )
            checked += len(whole) > 5
        assert checked  # some person has more records than the smaller pages hold


# the calls query before the person's identifier keys were found first
_OLD_CALLS = """SELECT c.id FROM calls c WHERE c.id IN (SELECT i.record_id FROM identifiers i JOIN identifier_keys k USING (kind, value)
                JOIN entity_members m ON m.member = 'id:' || k.node WHERE m.entity_id = ?) ORDER BY c.ts_utc NULLS LAST, c.id"""


def test_calls_and_places_are_the_records_of_the_person_s_identifiers_as_before(demo_case):  # noqa: F811
    old_places = """SELECT i.record_id FROM identifiers i JOIN identifier_keys k USING (kind, value)
                    JOIN entity_members m ON m.member = 'id:' || k.node WHERE m.entity_id = ? AND starts_with(i.record_id, 'locations/')"""
    with Case(demo_case, read_only=True) as case:
        some = 0
        for p in profile.people(case.store):
            pid = p["id"]
            old = [r["id"] for r in case.store.rows(_OLD_CALLS, [pid])]
            assert sorted(r["id"] for r in profile.calls(case.store, pid, limit=10**6)) == sorted(old)
            got = {r[0] for r in case.store.con.execute(f"SELECT record_id FROM {profile._RECORDS} r", [pid]).fetchall()}
            want = {
                r[0]
                for r in case.store.con.execute(old_places.replace(" AND starts_with(i.record_id, 'locations/')", ""), [pid]).fetchall()
            }
            assert got == want
            some += bool(old) + bool(want)
        assert some
