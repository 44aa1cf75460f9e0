"""The workspace's map: the locations the parsers took from messages, photos' EXIF tags and forensic
reports (the `locations` table), each with what kind of evidence it is (model.LOCATION_KINDS), who,
when as recorded, and the record it came with. Coordinates stay the exact decimals the source wrote."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..model import LOCATION_KINDS
from ..store import CaseStore
from ..times import time_sql

MAX_PLACES = 5000  # a page of the map; the total says how many there are


def places(
    store: CaseStore, kind: str | None = None, limit: int = MAX_PLACES, person: str | None = None, withhold: Sequence[str] = ()
) -> dict[str, Any]:
    """The locations (of one kind; of one resolved person: profile.PLACES), oldest first, with counts per kind.
    `withhold`: protected persons (victims, witnesses, minors in a victim-protected view): their locations are
    left out, since a pseudonym does not hide where a person is, and counted as `withheld`."""
    from ..profile import PLACES, places_params
    from ..profile import person as person_row

    conds, params = [], []
    if person:
        person_row(store, person)  # KeyError for a person not in the case
        conds.append(f"id IN {PLACES}")
        params += places_params(person)
    withheld = 0
    if withhold:
        hidden = " AND ".join(f"id NOT IN {PLACES}" for _ in withhold)
        hidden_params = [x for p in withhold for x in places_params(p)]
        withheld = store.count("locations", "WHERE " + " AND ".join([*conds, f"NOT ({hidden})"]), [*params, *hidden_params])
        conds.append(f"({hidden})")
        params += hidden_params
    by_kind = dict(
        store.con.execute(
            f"SELECT source_kind, count(*) FROM locations {'WHERE ' + ' AND '.join(conds) if conds else ''} GROUP BY 1 ORDER BY 1", params
        ).fetchall()
    )
    if kind:
        conds.append("source_kind = ?")
        params = [*params, kind]
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    total = store.count("locations", where, params)
    rows = store.rows(
        f"""SELECT id, platform, source_kind, latitude, longitude,
                   {time_sql()} AS time, who, who_name, accuracy_m, label, address, record_id AS came_with_record,
                   exhibit_sha256, locator
            FROM locations {where} ORDER BY ts_utc NULLS LAST, id LIMIT ?""",
        [*params, limit],
    )
    for r in rows:  # the decimals the source wrote: the store's fixed scale pads them with zeros
        r["lat"], r["lon"] = _plain(r.pop("latitude")), _plain(r.pop("longitude"))
    return {
        "total": total,
        "shown": len(rows),
        "withheld": withheld,
        "kinds": [{"kind": k, "n": n, "meaning": LOCATION_KINDS.get(k, "")} for k, n in by_kind.items()],
        "places": rows,
    }


def _plain(d: Decimal) -> str:
    """52.520008000000000000 → '52.520008'; 7 → '7' (exact, no float)."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
