"""The workspace's map: the locations the parsers took from messages, photos' EXIF tags and forensic
reports (the `locations` table), each with what kind of evidence it is (model.LOCATION_KINDS), who,
when as recorded, and the record it came with. Coordinates stay the exact decimals the source wrote."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..model import LOCATION_KINDS
from ..store import CaseStore
from ..times import time_sql

MAX_PLACES = 5000  # a page of the map; the total says how many there are


def places(store: CaseStore, kind: str | None = None, limit: int = MAX_PLACES, person: str | None = None) -> dict[str, Any]:
    """The locations (of one kind; of one resolved person: profile.PLACES), oldest first, with counts per kind."""
    from ..profile import PLACES, places_params
    from ..profile import person as person_row

    conds, params = [], []
    if person:
        person_row(store, person)  # KeyError for a person not in the case
        conds.append(f"id IN {PLACES}")
        params += places_params(person)
    by_kind = dict(
        store.con.execute(
            f"SELECT source_kind, count(*) FROM locations {'WHERE ' + conds[0] if conds else ''} GROUP BY 1 ORDER BY 1", params
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
        "kinds": [{"kind": k, "n": n, "meaning": LOCATION_KINDS.get(k, "")} for k, n in by_kind.items()],
        "places": rows,
    }


def _plain(d: Decimal) -> str:
    """52.520008000000000000 → '52.520008'; 7 → '7' (exact, no float)."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
