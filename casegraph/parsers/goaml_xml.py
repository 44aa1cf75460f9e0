"""goAML XML reports (schema 4.x / 5.0.x, no namespace): STR, CTR, SAR, AIF, DPMSR, ECDD ..., as filed with an FIU.

Every party form the schema allows is read:
- a <transaction> has `t_from` or `t_from_my_client` and `t_to` or `t_to_my_client`, each holding one
  of from_account / from_person / from_entity (to_… likewise), and optionally a `t_conductor`; or,
  instead, `involved_parties/party` (multi-party: each party has a role and one of person,
  person_my_client, account, account_my_client, entity, entity_my_client);
- an <activity> (reports without transactions: SAR, AIF, DPMSR, ECDD ...) lists
  `report_parties/report_party` in the same six forms.
Accounts may be held by a company (`t_entity` inside the account) and have signatories; companies
have directors (`director_id`). Each person, company and account becomes a contact with its locator
and role, and its phones, NICs, passports, emails, account numbers and registration numbers become
identifiers, so the graph can join a KYC phone number to the number in a seized phone.

Times: a stated offset wins; else the report's zone given by the examiner (`timezone=Asia/Dubai`);
else the wall clock is left for the case zone. Each transaction records which (`extra.time_basis`).
A `date_transaction` at exactly 00:00:00 with no offset is how reporting systems write a date
without a time (the DFCC CTR in KasunHewagamaDFCC/GOAML_Validator writes every row so): it is kept
as a date. `schema=PATH` validates the report against an XSD and reports each deviation with its line.

Nothing is lost silently: a report from which no transaction and no party could be read, a
transaction without parties or without a date, and elements of an unknown form are issues.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..model import Contact, Identifier, Record, Transaction
from . import register
from .base import Parser, Probe, Source, iso_time

_HEAD_FIELDS = (
    "rentity_id",
    "rentity_branch",
    "submission_code",
    "report_code",
    "entity_reference",
    "fiu_ref_number",
    "submission_date",
    "report_date",
    "currency_code_local",
    "reason",
    "action",
    "schema_version",
)
# the forms of a party, as the schema names them, and what each is
_FORMS = {
    "account": "account",
    "account_my_client": "account",
    "person": "person",
    "person_my_client": "person",
    "entity": "entity",
    "entity_my_client": "entity",
}
_SIDES = ("t_from_my_client", "t_from", "t_to_my_client", "t_to")
_NIC = re.compile(r"\d{9}[VvXx]|\d{12}")  # Sri Lankan NIC, old and new form
MAX_SCHEMA_ISSUES = 500  # deviations listed one by one; the count is always complete
MAX_VALIDATE_BYTES = 512 << 20  # XSD validation builds a tree: bounded


# what reporting portals write into a mandatory field they have nothing for ("-", "---", "N/A"): not a value
_PLACEHOLDER = re.compile(r"[\s\-–—_.*/#?]*|n/?a|null|none|nil|unknown", re.I)


def _value(v: str | None) -> str | None:
    v = v.strip() if v else None
    return None if not v or _PLACEHOLDER.fullmatch(v) else v


def _text(el: Element | None, path: str) -> str | None:
    return None if el is None else _value(el.findtext(path))


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def _phones(el: Element) -> list[str]:
    """The element's own phones (not those of its directors or signatories), with the country prefix."""
    out = []
    for ph in el.findall("phones/phone"):
        number, prefix = _text(ph, "tph_number"), _text(ph, "tph_country_prefix")
        if not number:
            continue
        if prefix and not number.startswith(("+", "00")):
            number = f"+{prefix.lstrip('+0')} {number.lstrip('0')}"
        if number not in out:
            out.append(number)
    return out


def _emails(el: Element) -> list[str]:
    out = []
    for e in el.findall("email") + el.findall("emails/email"):
        v = _value(e.text)
        if v and v not in out:
            out.append(v)
    return out


def _reach(c: Contact) -> list[tuple[str, str, str]]:
    """The phone and email identifiers of a contact, as (kind, value, role) pairs."""
    return [("phone", p, "holder") for p in c.phones] + [("email", e, "holder") for e in c.emails]


def _address(el: Element) -> str | None:
    a = el.find("addresses/address")
    if a is None:
        return None
    return (
        ", ".join(x for x in (_text(a, "address"), _text(a, "town"), _text(a, "city"), _text(a, "state"), _text(a, "country_code")) if x)
        or None
    )


@register
class GoAML(Parser):
    name = "goaml-xml"
    version = "2.0"
    reads = "goAML XML reports, schema 5.0.x (STR, CTR, SAR, AIF, DPMSR, ECDD …): every party form (`t_from`/`t_to`, `*_my_client`, account, person or entity), `t_conductor`, multi-party transactions (`involved_parties`), activity reports (`report_parties`); company account holders, directors, signatories, related persons (NIC, passport, national id, phones, emails, registration and tax numbers); a transaction without a date is a warning, a report that yields nothing an error; `--option timezone=ZONE` for a report from another country's FIU (a stated offset wins; the basis is recorded); `--option schema=XSD` validates and reports each deviation by line"  # noqa: E501
    locators = "`xml:/report/transaction[3]/t_from/from_person`"
    section = "money"
    description = "goAML XML reports (STR, CTR, SAR, AIF ...): transactions, persons, accounts, companies, directors"

    def __init__(self, timezone: str | None = None, schema: str | None = None):
        self.zone = None
        if timezone:
            try:
                self.zone = ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError) as e:
                raise ValueError(f"timezone {timezone!r} is not a known IANA time zone (e.g. Asia/Colombo, Asia/Dubai)") from e
        self.timezone = timezone
        self.schema = Path(schema) if schema else None
        if self.schema and not self.schema.is_file():
            raise ValueError(f"schema {schema!r}: no such file")

    def sniff(self, probe: Probe) -> float:
        t = probe.text[:8192]
        return 0.95 if "<report" in t and ("<rentity_id>" in t or "<report_code>" in t) else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        head: dict[str, str] = {}
        counts = {"transactions": 0, "records": 0, "parties": 0}
        depth = 0
        refused = False
        self._wall_clock = 0  # transactions whose time was read as a wall clock without a zone
        top: dict[str, int] = {}  # the report's top-level elements, to say what a report without records held
        try:
            with open(src.path, "rb") as f:
                for event, el in DET.iterparse(f, events=("start", "end"), forbid_dtd=True):
                    if event == "start":
                        depth += 1
                        continue
                    depth -= 1
                    if depth != 1:
                        continue
                    for sub in el.iter():  # a report written with a namespace reads like one without
                        if isinstance(sub.tag, str) and sub.tag.startswith("{"):
                            sub.tag = sub.tag.rpartition("}")[2]
                    top[el.tag] = top.get(el.tag, 0) + 1
                    if el.tag in _HEAD_FIELDS and _value(el.text):
                        head[el.tag] = _value(el.text)
                    elif el.tag == "transaction":
                        counts["transactions"] += 1
                        loc = f"xml:/report/transaction[{counts['transactions']}]"
                        for rec in self.each(
                            src, [el], lambda e, loc=loc: list(self._transaction(src, loc, e, head)), lambda _, loc=loc: loc
                        ):
                            counts["records"] += isinstance(rec, Transaction)
                            yield rec
                        el.clear()
                    elif el.tag == "activity":
                        for rec in self._activity(src, el):
                            counts["parties"] += isinstance(rec, Contact)
                            yield rec
                        el.clear()
                    elif el.tag == "reporting_person":
                        yield from self._person(src, "xml:/report/reporting_person", el, "reporting person")
                        el.clear()
                    elif el.tag == "report_indicators":  # noqa: SIM102
                        if found := [v for x in el.iter("indicator") if (v := _value(x.text))]:
                            head["indicators"] = ",".join(found)
                    el.clear()
        except (DefusedXmlException, ParseError) as e:
            refused = True
            yield self.xml_failure(src, e)
        if head:
            yield self.issue(src, "xml:/report", "report: " + ", ".join(f"{k}={v}" for k, v in head.items()), severity="info")
        if not refused and counts["records"] == 0 and counts["parties"] == 0:
            yield self.issue(
                src,
                "xml:/report",
                f"{src.name}: no transaction and no reported party could be read "
                f"(report_code {head.get('report_code', 'not stated')}; top-level elements: "
                f"{', '.join(f'{k} ×{v}' for k, v in top.items()) or 'none'}): the report uses a form this "
                "parser does not read, or is empty",
            )
        if self._wall_clock:
            yield self.issue(
                src,
                "xml:/report",
                f"{self._wall_clock} transaction times without an offset were read as wall "
                "clock in the case's time zone; if the reporting entity is in another zone, ingest again with "
                "--option timezone=<IANA zone> (e.g. Asia/Dubai)",
                severity="info",
            )
        if self.schema and not refused:
            yield from self._validate(src)

    # -- transactions ----------------------------------------------------------------------------
    def _transaction(self, src: Source, loc: str, t: Element, head: dict) -> Iterator[Record]:
        ends: dict[str, tuple[str | None, str | None]] = {}
        records: list[Record] = []
        my_client, end_kind = {}, {}
        for side in _SIDES:
            block = t.find(side)
            if block is None:
                continue
            way = "from" if side.startswith("t_from") else "to"
            my_client[way] = side.endswith("_my_client")
            found = False
            for form in ("account", "person", "entity"):
                el = block.find(f"{way}_{form}")
                if el is not None:
                    end, name, recs = self._party(src, f"{loc}/{side}/{way}_{form}", el, form, f"{way} {form}")
                    ends[way] = (end, name)
                    end_kind[way] = form
                    records += recs
                    found = True
            conductor = block.find("t_conductor")
            if conductor is not None:
                records += self._person(src, f"{loc}/{side}/t_conductor", conductor, f"{way} conductor")
            if not found:
                records.append(
                    self.issue(
                        src,
                        f"{loc}/{side}",
                        f"{side} names no {way}_account, {way}_person or "
                        f"{way}_entity (children: {', '.join(c.tag for c in block) or 'none'})",
                        severity="warning",
                    )
                )
        parties = []
        for i, party in enumerate(t.findall("involved_parties/party"), 1):
            role = _text(party, "role")
            for tag, form in _FORMS.items():
                el = party.find(tag)
                if el is not None:
                    end, name, recs = self._party(
                        src, f"{loc}/involved_parties/party[{i}]/{tag}", el, form, f"party ({role or 'role not stated'})"
                    )
                    parties.append(_clean({"role": role, "end": end, "name": name, "form": tag}))
                    records += recs
        if parties:
            records.append(
                self.issue(
                    src,
                    loc,
                    f"multi-party transaction: {len(parties)} parties kept with their roles "
                    f"({', '.join(p.get('role', '?') for p in parties)}); the report states no from/to "
                    "direction, so the transaction has no ends",
                    severity="info",
                )
            )
        elif not ends:
            records.append(
                self.issue(
                    src,
                    loc,
                    f"transaction names no party in any form the goAML schema allows (children: {', '.join(c.tag for c in t)})",
                    severity="warning",
                )
            )
        amount_text = _text(t, "amount_local")
        try:
            amount = Decimal(amount_text) if amount_text else None
            if amount is not None and not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            amount = None
            records.append(self.issue(src, loc, f"amount_local {amount_text!r} is not a number (transaction kept)", severity="warning"))
        ts, basis = self._time(src, loc, _text(t, "date_transaction"), records)
        frm, to = ends.get("from", (None, None)), ends.get("to", (None, None))
        extra = _clean(
            {
                "source": "goaml",
                "report_code": head.get("report_code"),
                "entity_reference": head.get("entity_reference"),
                "transmode_code": _text(t, "transmode_code"),
                "location": _text(t, "transaction_location"),
                "internal_ref": _text(t, "internal_ref_number"),
                "value_date": _text(t, "value_date"),
                "from_funds_code": _text(t, "t_from_my_client/from_funds_code") or _text(t, "t_from/from_funds_code"),
                "to_funds_code": _text(t, "t_to_my_client/to_funds_code") or _text(t, "t_to/to_funds_code"),
                "from_country": _text(t, "t_from_my_client/from_country") or _text(t, "t_from/from_country"),
                "to_country": _text(t, "t_to_my_client/to_country") or _text(t, "t_to/to_country"),
                # what each end is: an account number, or a person (NIC / passport / name) or company name
                "from_end": end_kind.get("from"),
                "to_end": end_kind.get("to"),
                "from_my_client": my_client.get("from") or None,
                "to_my_client": my_client.get("to") or None,
                "transaction_status": _text(t, "transaction_status"),
                "parties": parties,
                "date_transaction": _text(t, "date_transaction"),
                "time_basis": basis,
            }
        )
        yield Transaction(
            prov=self.prov(src, loc),
            rail="bank",
            ts=ts,
            reference=_text(t, "transactionnumber"),
            from_account=frm[0],
            to_account=to[0],
            from_name=frm[1],
            to_name=to[1],
            amount=amount,
            currency=head.get("currency_code_local"),
            description=_text(t, "transaction_description"),
            extra=extra,
        )
        yield from records

    def _time(self, src: Source, loc: str, text: str | None, issues: list) -> tuple[datetime | date | None, str]:
        """The transaction time and how it was read. Issues for a missing or unreadable date, or a wall
        clock that the report's zone makes ambiguous or impossible (a DST change)."""
        if not text:
            issues.append(
                self.issue(
                    src,
                    loc,
                    "transaction has no date_transaction: stored without a time; time-based "
                    "analyses (trace, typologies) leave it out and count it",
                    severity="warning",
                )
            )
            return None, "none"
        ts = iso_time(text)
        if ts is None:
            issues.append(
                self.issue(
                    src, loc, f"date_transaction {text!r} is not an ISO 8601 date/time: stored without a time", text, severity="warning"
                )
            )
            return None, "unreadable"
        if ts.tzinfo is not None:
            return ts, "offset stated in the report"
        if ts.time() == datetime.min.time():
            return ts.date(), "date only (the report gives 00:00:00, i.e. no time of day)"
        if self.zone is None:
            self._wall_clock += 1
            return ts, "wall clock without offset: read in the case's time zone"
        aware = ts.replace(tzinfo=self.zone)
        later = ts.replace(tzinfo=self.zone, fold=1)
        if aware.utcoffset() != later.utcoffset() or (aware.astimezone(self.zone).replace(tzinfo=None) != ts):
            issues.append(
                self.issue(
                    src,
                    loc,
                    f"date_transaction {text} is ambiguous or does not exist in {self.timezone} "
                    f"(a daylight-saving change); read with the offset {aware.utcoffset()} in force before it",
                    severity="warning",
                )
            )
        return aware, f"report time zone {self.timezone} (examiner option)"

    # -- parties ---------------------------------------------------------------------------------
    def _party(self, src: Source, loc: str, el: Element, form: str, role: str) -> tuple[str | None, str | None, list[Record]]:
        """(the transaction end this party stands for, its name, its contact and identifier records)."""
        if form == "account":
            return self._account(src, loc, el, role)
        if form == "person":
            recs = self._person(src, loc, el, role)
            p = recs[0]
            nic = p.extra.get("nic") or p.extra.get("national_id")
            return nic or p.extra.get("passport") or p.name, p.name, recs
        recs = self._entity(src, loc, el, role)
        return recs[0].name or recs[0].extra.get("incorporation_number"), recs[0].name, recs

    def _account(self, src: Source, loc: str, el: Element, role: str) -> tuple[str | None, str | None, list[Record]]:
        acct, iban = _text(el, "account"), _text(el, "iban")
        holder = el.find("t_entity")
        recs: list[Record] = []
        holder_recs = self._entity(src, f"{loc}/t_entity", holder, f"{role} holder (company)", account=acct) if holder is not None else []
        signatories = self._people(src, loc, el, "signatory", "signatory", account=acct)
        signatories += self._people(src, loc, el, "related_persons/account_related_person", "account related person", account=acct)
        # the account's name as the report gives it: its own, its company holder's, or a signatory whose role
        # is account holder (ACHLD); never a mere signatory's or related person's
        name = (
            _text(el, "account_name")
            or (holder_recs[0].name if holder_recs else None)
            or next((r.name for r in signatories if isinstance(r, Contact) and r.extra.get("relation") == "ACHLD"), None)
        )
        c = Contact(
            prov=self.prov(src, loc),
            source="goaml",
            name=name,
            organisation=_text(el, "institution_name"),
            extra=_clean(
                {
                    "role": f"{role}",
                    "account": acct,
                    "iban": iban,
                    "swift": _text(el, "swift"),
                    "institution_code": _text(el, "institution_code"),
                    "branch": _text(el, "branch"),
                    "currency": _text(el, "currency_code"),
                    "client_number": _text(el, "client_number"),
                    "account_type": _text(el, "personal_account_type") or _text(el, "account_type"),
                    "status": _text(el, "status_code"),
                    "opened": _text(el, "opened"),
                    "holder": holder_recs[0].name if holder_recs else None,
                }
            ),
        )
        recs.append(c)
        recs += self._ids(c, [("bank-account", acct, "holder"), ("iban", iban, "holder")], platform="bank")
        return acct or iban, name, recs + holder_recs + signatories

    def _person(
        self,
        src: Source,
        loc: str,
        el: Element,
        role: str,
        account: str | None = None,
        relation: str | None = None,
        primary: bool = False,
        of: str | None = None,
    ) -> list[Record]:
        name = (
            " ".join(
                x
                for x in (
                    _text(el, "title"),
                    _text(el, "first_name"),
                    _text(el, "middle_name"),
                    _text(el, "prefix"),
                    _text(el, "last_name"),
                )
                if x
            )
            or None
        )
        nationality = _text(el, "nationality1")
        ids = [v for v in (_text(el, "id_number"), _text(el, "ssn")) if v]
        documents = [
            (_text(d, "type"), _text(d, "number"), _text(d, "issue_country"))
            for d in el.findall("identification") + el.findall("identifications/identification")
        ]
        nic = next((v for v in ids if _NIC.fullmatch(v) and nationality in (None, "LK")), None)
        national_id = next((v for v in ids if v != nic), None)
        passport = _text(el, "passport_number")
        c = self._contact(
            src,
            loc,
            el,
            name,
            None,
            {
                "role": role,
                "relation": relation,
                "primary": primary or None,
                "of": of,
                "account": account,
                "birthdate": _text(el, "birthdate"),
                "nic": nic,
                "national_id": national_id,
                "passport": passport,
                "passport_country": _text(el, "passport_country"),
                "nationality": nationality,
                "residence": _text(el, "residence"),
                "occupation": _text(el, "occupation"),
                "address": _address(el),
                "gender": _text(el, "gender"),
                "alias": _text(el, "alias"),
                "tax_number": _text(el, "tax_number"),
                "identifications": [_clean({"type": t, "number": n, "country": k}) for t, n, k in documents],
            },
        )
        pairs = [
            *_reach(c),
            ("nic", nic, "holder"),
            ("national-id", national_id, "holder"),
            ("passport", passport, "holder"),
            ("tax-number", _text(el, "tax_number"), "holder"),
        ]
        pairs += [("nic" if n and _NIC.fullmatch(n) and k in (None, "LK") else "national-id", n, "holder") for _, n, k in documents]
        if account and role in ("signatory", "account related person"):  # a signatory uses the account
            pairs.append(("bank-account", account, "signatory"))
        return [c] + self._ids(c, pairs)  # noqa: RUF005

    def _entity(self, src: Source, loc: str, el: Element, role: str, account: str | None = None) -> list[Record]:
        name = _text(el, "name") or _text(el, "commercial_name")
        reg = _text(el, "incorporation_number")
        c = self._contact(
            src,
            loc,
            el,
            name,
            name,
            {
                "role": role,
                "account": account,
                "commercial_name": _text(el, "commercial_name"),
                "legal_form": _text(el, "incorporation_legal_form"),
                "incorporation_number": reg,
                "incorporation_country": _text(el, "incorporation_country_code"),
                "business": _text(el, "business"),
                "address": _address(el),
                "tax_number": _text(el, "tax_number"),
            },
        )
        pairs = [*_reach(c), ("company-registration", reg, "holder"), ("tax-number", _text(el, "tax_number"), "holder")]
        if account:
            pairs.append(("bank-account", account, "holder"))
        recs: list[Record] = [c] + self._ids(c, pairs)  # noqa: RUF005
        for i, d in enumerate(el.findall("director_id"), 1):
            recs += self._person(src, f"{loc}/director_id[{i}]", d, "director", relation=_text(d, "role"), of=name)
        return recs + self._people(src, loc, el, "related_persons/entity_related_person", "company related person", of=name)

    def _people(self, src: Source, loc: str, el: Element, path: str, role: str, **about: str | None) -> list[Record]:
        """The person (`t_person`) inside each `path` element of `el` (signatories, related persons), with the
        element's role as the relation and its is_primary flag."""
        out: list[Record] = []
        for i, link in enumerate(el.findall(path), 1):
            person = link.find("t_person")
            if person is not None:
                primary = _text(link, "is_primary") in ("true", "1")
                out += self._person(
                    src, f"{loc}/{path}[{i}]/t_person", person, role, relation=_text(link, "role"), primary=primary, **about
                )
        return out

    def _contact(self, src: Source, loc: str, el: Element, name: str | None, organisation: str | None, extra: dict) -> Contact:
        """A person's or company's contact record: its phones and emails, and what else the report says of it."""
        return Contact(
            prov=self.prov(src, loc),
            source="goaml",
            name=name,
            organisation=organisation,
            phones=_phones(el),
            emails=_emails(el),
            extra=_clean(extra),
        )

    def _ids(self, c: Contact, pairs, platform: str | None = None) -> list[Identifier]:
        out, seen = [], set()
        for kind, value, role in pairs:
            if value and (kind, value, role) not in seen:
                seen.add((kind, value, role))
                out += self.party(c, value, role, platform, kind=kind)
        return out

    def _activity(self, src: Source, el: Element) -> Iterator[Record]:
        """Reports without transactions (SAR, AIF, DPMSR, ECDD ...) name their parties here."""
        for i, party in enumerate(el.findall("report_parties/report_party"), 1):
            loc = f"xml:/report/activity/report_parties/report_party[{i}]"
            found = False
            for tag, form in _FORMS.items():
                sub = party.find(tag)
                if sub is not None:
                    found = True
                    _, _, recs = self._party(src, f"{loc}/{tag}", sub, form, "reported party")
                    for r in recs:
                        if isinstance(r, Contact) and r.prov.locator == f"{loc}/{tag}":
                            r.extra.update(_clean({"reason": _text(party, "reason"), "significance": _text(party, "significance")}))
                    yield from recs
            if not found:
                yield self.issue(
                    src,
                    loc,
                    "report_party names no person, account or entity in any form the schema allows "
                    f"(children: {', '.join(c.tag for c in party) or 'none'})",
                    severity="warning",
                )

    # -- XSD validation --------------------------------------------------------------------------
    def _validate(self, src: Source) -> Iterator[Record]:
        """Each deviation from the examiner's XSD as an issue at its line. No network, no DTD, no
        external entities; the schema's SHA-256 is recorded so the check can be repeated."""
        from lxml import etree

        digest = hashlib.sha256(self.schema.read_bytes()).hexdigest()
        where = f"xsd:{self.schema.name}"
        safe = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            xsd = etree.XMLSchema(etree.parse(str(self.schema), etree.XMLParser(**safe)))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as e:
            yield self.issue(src, where, f"schema {self.schema.name} (sha256 {digest}) could not be loaded, report not validated: {e}")
            return
        if src.path.stat().st_size > MAX_VALIDATE_BYTES:
            yield self.issue(
                src,
                where,
                f"report larger than {MAX_VALIDATE_BYTES >> 20} MB: not validated against {self.schema.name}",
                severity="warning",
            )
            return
        try:
            doc = etree.parse(str(src.path), etree.XMLParser(**safe))
        except etree.XMLSyntaxError as e:
            yield self.issue(src, where, f"not validated against {self.schema.name}: {e}")
            return
        ok = xsd.validate(doc)
        errors = list(xsd.error_log)
        for e in errors[:MAX_SCHEMA_ISSUES]:
            yield self.issue(src, f"xml:line:{e.line}", f"schema {self.schema.name}: line {e.line}: {e.message}", severity="warning")
        if len(errors) > MAX_SCHEMA_ISSUES:
            yield self.issue(
                src,
                where,
                f"schema {self.schema.name}: {len(errors) - MAX_SCHEMA_ISSUES} further deviations not listed",
                severity="warning",
            )
        yield self.issue(
            src,
            where,
            f"validated against {self.schema.name} (sha256 {digest}): " + ("valid" if ok else f"{len(errors)} deviations"),
            severity="info",
        )
