"""What was recorded at the seizure of an exhibit (time, seal, device), checked and kept as written.

The seizure time is the examiner's record, not the intake time: an ISO date (`2024-04-22`) stays a
date, never an invented midnight; an ISO date-time keeps the zone it was written with
(`2024-04-22T14:30+05:30`). A date-time without a zone is refused: it would be read in some zone
nobody chose.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ..errors import CaseGraphError
from ..store import EXHIBIT_SEIZURE_COLUMNS

DEVICE_PARTS = ("device_make", "device_model", "device_imei", "device_serial")


class SeizureError(CaseGraphError, ValueError):
    """A seizure detail that cannot be recorded as given."""


def check_seized_at(value: str | None) -> str | None:
    """`value` unchanged if it is an ISO date or an ISO date-time with a zone, else SeizureError."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        try:
            date.fromisoformat(v)
        except ValueError:
            raise SeizureError(f"--seized-at {value!r}: no such date") from None
        return v
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00") if v.endswith("Z") else v)
    except ValueError:
        raise SeizureError(
            f"--seized-at {value!r}: expected an ISO date such as 2024-04-22 or a date-time with its zone such as 2024-04-22T14:30+05:30"
        ) from None
    if parsed.tzinfo is None:
        raise SeizureError(f"--seized-at {value!r}: a time needs its zone (e.g. {v}+05:30), or give the date alone")
    return v


def details(seized_at: str | None = None, seal: str | None = None, device: str | None = None, **parts: str | None) -> dict[str, str | None]:
    """The exhibits columns for a seizure: `device` is "make/model/IMEI/serial" (empty parts allowed);
    `parts` (device_make ...) name one part each and win over `device`."""
    out: dict[str, str | None] = {c: None for c in EXHIBIT_SEIZURE_COLUMNS}
    out["seized_at"] = check_seized_at(seized_at)
    out["seal"] = (seal or "").strip() or None
    if device:
        split = [p.strip() for p in device.split("/")]
        if len(split) > len(DEVICE_PARTS):
            raise SeizureError(f"--device {device!r}: expected at most make/model/IMEI/serial (4 parts separated by /)")
        out.update({k: v or None for k, v in zip(DEVICE_PARTS, split)})  # noqa: B905
    for k, v in parts.items():
        if k not in DEVICE_PARTS:
            raise TypeError(f"unknown seizure detail {k}")
        if v and v.strip():
            out[k] = v.strip()
    imei = out["device_imei"]
    if imei and not re.fullmatch(r"\d{14,16}", imei.replace(" ", "").replace("-", "")):
        raise SeizureError(f"IMEI {imei!r}: expected 14 to 16 digits")
    return out


def device_text(row: dict) -> str | None:
    """The device as one line: make model, IMEI …, serial …"""
    name = " ".join(p for p in (row.get("device_make"), row.get("device_model")) if p)
    extra = [
        f"IMEI {row['device_imei']}" if row.get("device_imei") else None,
        f"serial {row['device_serial']}" if row.get("device_serial") else None,
    ]
    text = ", ".join(p for p in [name, *extra] if p)
    return text or None
