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
