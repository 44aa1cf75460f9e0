"""An exchange-rate table already taken into evidence, read for a money trace (`trace --rates EXHIBIT`):
the one exhibit the examiner named, by exhibit id or SHA-256 prefix, its rates with their provenance, and
the rows that could not be read (kept and counted, never used). Intake's job: it reads the evidence store
with a parser; finance builds its RateTable from the rates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CaseGraphError
from ..model import ExchangeRate, ParseIssue

if TYPE_CHECKING:
    from ..case import Case


class RateExhibitError(CaseGraphError):
    """No exhibit, or several, match the reference; or the file is not a readable rate table."""


@dataclass
class RateExhibit:
    ref: str  # as the examiner named it
    sha256: str
    exhibit_id: str
    original_name: str | None
    rates: list[ExchangeRate]
    issues: list[ParseIssue]  # rows not read

    def custody_input(self) -> dict[str, Any]:
        """The exhibit as a custody event's input."""
        return {
            "sha256": self.sha256,
            "exhibit_id": self.exhibit_id,
            "role": "rate table",
            "rates": len(self.rates),
            "rows_not_read": len(self.issues),
        }


def read_rate_exhibit(case: Case, ref: str) -> RateExhibit:
    from ..parsers.rate_table import RateTableError, parse

    found = case.store.rows(
        "SELECT sha256, exhibit_id, original_name FROM exhibits WHERE exhibit_id = ? OR sha256 LIKE ? ORDER BY sha256",
        [ref, ref.lower() + "%"],
    )
    if len(found) != 1:
        raise RateExhibitError(
            f"{'no exhibit' if not found else f'{len(found)} exhibit files'} match; name one rate table by its exhibit id or SHA-256"
        )
    sha = found[0]["sha256"]
    try:
        rates, issues = parse(case.evidence_path(sha), sha)
    except RateTableError as e:
        raise RateExhibitError(str(e)) from None
    return RateExhibit(ref, sha, found[0]["exhibit_id"], found[0]["original_name"], rates, issues)
