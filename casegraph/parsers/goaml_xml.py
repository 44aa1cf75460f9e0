"""goAML XML reports (schema 5.0.x, no namespace): STR, CTR, SAR and the like, as filed with an FIU.

Each <transaction> becomes a Transaction whose ends are the account number (t_account), the
person's ID number or name (t_person) or the entity's name (t_entity) of t_from / t_from_my_client
and t_to / t_to_my_client. Every person, entity and account named becomes a contact with its
phones, ID and passport numbers, emails and addresses, and those become identifiers, so the graph
can join a KYC phone number to the number in a seized phone. Streamed with defusedxml.
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..model import Contact, Record, Transaction
from . import register
from .base import Parser, Probe, Source, iso_time

_HEAD_FIELDS = ("rentity_id", "rentity_branch", "submission_code", "report_code", "entity_reference", "submission_date",
                "currency_code_local", "reason", "action")
_PARTY = (("from_account", "account"), ("from_person", "person"), ("from_entity", "entity"),
          ("to_account", "account"), ("to_person", "person"), ("to_entity", "entity"))


def _text(el: Element | None, path: str) -> str | None:
    if el is None:
        return None
    v = el.findtext(path)
    return v.strip() if v and v.strip() else None


@register
class GoAML(Parser):
    name = "goaml-xml"
    version = "1.0"
    reads = ('goAML XML reports (STR, CTR, SAR): transactions, persons (NIC, passport, phones, addresses), '
             'accounts, entities')
    locators = '`xml:/report/transaction[3]/t_from/from_person`'
    section = "money"
    description = "goAML XML reports (STR, CTR, SAR ...): transactions, persons, accounts, entities"

    def sniff(self, probe: Probe) -> float:
        t = probe.text[:8192]
        return 0.95 if "<report" in t and ("<rentity_id>" in t or "<report_code>" in t) else 0.0

    def parse(self, src: Source) -> Iterator[Record]:
        head: dict[str, str] = {}
        n = 0
        depth = 0
        try:
            with open(src.path, "rb") as f:
                for event, el in DET.iterparse(f, events=("start", "end"), forbid_dtd=True):
                    if event == "start":
                        depth += 1
                        continue
                    depth -= 1
                    if depth == 1 and el.tag in _HEAD_FIELDS:
                        head[el.tag] = (el.text or "").strip()
                    elif depth == 1 and el.tag == "transaction":
                        n += 1
                        loc = f"xml:/report/transaction[{n}]"
                        yield from self.each(src, [el], lambda e, loc=loc: self._transaction(src, loc, e, head), lambda _, loc=loc: loc)
                        el.clear()
                    elif depth == 1 and el.tag == "activity":
                        yield from self._activity(src, el)
                        el.clear()
        except (DefusedXmlException, ParseError) as e:
            yield self.xml_failure(src, e)
        if head:
            yield self.issue(src, "xml:/report", "report: " + ", ".join(f"{k}={v}" for k, v in head.items()), severity="info")

    def _transaction(self, src: Source, loc: str, t: Element, head: dict) -> Iterator[Record]:
        sides: dict[str, tuple[str | None, str | None]] = {}
        parties: list[Record] = []
        for side in ("t_from_my_client", "t_from", "t_to_my_client", "t_to"):
            block = t.find(side)
            if block is None:
                continue
            for tag, kind in _PARTY:
                el = block.find(tag)
                if el is not None:
                    end, name, recs = self._party(src, f"{loc}/{side}/{tag}", el, kind, side)
                    sides["from" if side.startswith("t_from") else "to"] = (end, name)
                    parties += recs
        amount_text = _text(t, "amount_local")
        try:
            amount = Decimal(amount_text) if amount_text else None
        except InvalidOperation:
            amount = None
            yield self.issue(src, loc, f"amount_local {amount_text!r} is not a number (transaction kept)", severity="warning")
        frm, to = sides.get("from", (None, None)), sides.get("to", (None, None))
        extra = {k: v for k, v in (("source", "goaml"), ("report_code", head.get("report_code")),
                                   ("entity_reference", head.get("entity_reference")),
                                   ("transmode_code", _text(t, "transmode_code")), ("location", _text(t, "transaction_location")),
                                   ("internal_ref", _text(t, "internal_ref_number")),
                                   ("from_my_client", t.find("t_from_my_client") is not None or None),
                                   ("to_my_client", t.find("t_to_my_client") is not None or None)) if v}
        tx = Transaction(prov=self.prov(src, loc), rail="bank", ts=iso_time(_text(t, "date_transaction")),
                         reference=_text(t, "transactionnumber"), from_account=frm[0], to_account=to[0],
                         from_name=frm[1], to_name=to[1], amount=amount, currency=head.get("currency_code_local"),
                         description=_text(t, "transaction_description"), extra=extra)
        yield tx
        yield from parties

    def _party(self, src: Source, loc: str, el: Element, kind: str, side: str) -> tuple[str | None, str | None, list[Record]]:
        """(the transaction end this party stands for, its name, its contact and identifier records)."""
        recs: list[Record] = []
        if kind == "account":
            acct, name = _text(el, "account"), _text(el, "account_name")
            c = Contact(prov=self.prov(src, loc), source="goaml", name=name, organisation=_text(el, "institution_name"),
                        extra={k: v for k, v in (("role", f"{side} account"), ("account", acct), ("iban", _text(el, "iban")),
                                                 ("swift", _text(el, "swift")), ("branch", _text(el, "branch")),
                                                 ("currency", _text(el, "currency_code"))) if v})
            recs.append(c)
            recs += self.party(c, acct, "holder", "bank", kind="bank-account")
            recs += self.party(c, _text(el, "iban"), "holder", "bank", kind="iban")
            for i, person in enumerate(el.findall("signatory/t_person"), 1):
                recs += self._person(src, f"{loc}/signatory[{i}]/t_person", person, "signatory")
            return acct, name, recs
        if kind == "person":
            recs += self._person(src, loc, el, side)
            p = recs[0]
            return _text(el, "id_number") or _text(el, "ssn") or _text(el, "passport_number") or p.name, p.name, recs
        name = _text(el, "name")
        c = Contact(prov=self.prov(src, loc), source="goaml", name=name, organisation=name,
                    phones=[x.text.strip() for x in el.iter("tph_number") if x.text and x.text.strip()],
                    extra={k: v for k, v in (("role", f"{side} entity"), ("incorporation_number", _text(el, "incorporation_number")),
                                             ("business", _text(el, "business"))) if v})
        recs.append(c)
        for p in c.phones:
            recs += self.party(c, p, "holder", "phone")
        return name, name, recs

    def _person(self, src: Source, loc: str, el: Element, role: str) -> list[Record]:
        name = " ".join(x for x in (_text(el, "first_name"), _text(el, "middle_name"), _text(el, "last_name")) if x) or None
        nic = _text(el, "id_number") or _text(el, "ssn")
        passport = _text(el, "passport_number")
        emails = [x.text.strip() for x in el.iter("email") if x.text and x.text.strip()]
        phones = [x.text.strip() for x in el.iter("tph_number") if x.text and x.text.strip()]
        address = ", ".join(x for x in (_text(el, "addresses/address/address"), _text(el, "addresses/address/town"),
                                        _text(el, "addresses/address/country_code")) if x) or None
        c = Contact(prov=self.prov(src, loc), source="goaml", name=name, phones=phones, emails=emails,
                    extra={k: v for k, v in (("role", role), ("birthdate", _text(el, "birthdate")), ("nic", nic),
                                             ("passport", passport), ("passport_country", _text(el, "passport_country")),
                                             ("nationality", _text(el, "nationality1")), ("occupation", _text(el, "occupation")),
                                             ("address", address), ("gender", _text(el, "gender"))) if v})
        recs: list[Record] = [c]
        for p in phones:
            recs += self.party(c, p, "holder", "phone")
        for e in emails:
            recs += self.party(c, e, "holder", None, kind="email")
        recs += self.party(c, nic, "holder", None, kind="nic")
        recs += self.party(c, passport, "holder", None, kind="passport")
        return recs

    def _activity(self, src: Source, el: Element) -> Iterator[Record]:
        """SAR-style reports name parties without transactions."""
        for i, party in enumerate(el.findall("report_parties/report_party"), 1):
            loc = f"xml:/report/activity/report_parties/report_party[{i}]"
            for tag, kind in (("account", "account"), ("person", "person"), ("entity", "entity")):
                found = party.find(tag)
                if found is not None:
                    yield from self._party(src, f"{loc}/{tag}", found, kind, "report party")[2]
