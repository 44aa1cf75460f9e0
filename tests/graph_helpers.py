"""A small hand-made case store for the graph tests: records written as parsers would write them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from casegraph.graph import build, resolve
from casegraph.model import Contact, Identifier, Message, Provenance, Transaction

PHONE_EX = "a" * 64  # exhibit P1: the victim's phone
GROUP_EX = "b" * 64  # exhibit P2: the recruiter's phone
BANK_EX = "c" * 64  # exhibit B1: a bank statement
GOAML_EX = "d" * 64  # exhibit G1: a goAML report


def _prov(ex: str, parser: str, loc: str) -> Provenance:
    return Provenance(ex, parser, "1", loc)


def contact(ex, loc, name, phones=(), nic=None):
    c = Contact(prov=_prov(ex, "vcard", loc), source="vcard", name=name, phones=list(phones))
    out = [c] + [Identifier(prov=c.prov, kind="phone", value=p, role="contact", record_id=c.id) for p in phones]
    if nic:
        out.append(Identifier(prov=c.prov, kind="nic", value=nic, role="holder", record_id=c.id))
    return out


def message(ex, loc, minute, text, sender_name=None, sender_phone=None, chat="Recruits"):
    m = Message(
        prov=_prov(ex, "whatsapp-export", loc),
        platform="whatsapp",
        chat_name=chat,
        sender_name=sender_name,
        sender_id=sender_phone,
        ts=datetime(2024, 3, 14, 9, minute, tzinfo=UTC),
        text=text,
    )
    out = [m]
    if sender_phone:
        out.append(Identifier(prov=m.prov, kind="phone", value=sender_phone, role="sender", record_id=m.id, platform="whatsapp"))
    return out


def mention(msg: Message, kind: str, value: str) -> Identifier:
    return Identifier(prov=msg.prov, kind=kind, value=value, role="mentioned", record_id=msg.id, platform="whatsapp")


def payment(loc, frm, to, amount, to_name=None):
    return Transaction(
        prov=_prov(BANK_EX, "transaction-table", loc),
        rail="bank",
        ts=datetime(2024, 3, 20, tzinfo=UTC),
        from_account=frm,
        to_account=to,
        to_name=to_name,
        amount=Decimal(amount),
        currency="LKR",
    )


def small_case(store) -> dict:
    """Nuwan (recruiter) appears as a contact card on P1, as the sender +94771234567 on P2, as
    'N. Jayawardena' holder of account 0081234567 in the bank statement; he writes the account number
    in a chat. Kasun pays into it. Two different people share the surname Perera."""
    records = []
    records += contact(PHONE_EX, "line:1-6", "Nuwan Jayawardena", ["077 123 4567"])
    records += contact(PHONE_EX, "line:7-12", "Kasun Perera", ["+94 76 222 3344"])
    records += contact(PHONE_EX, "line:13-18", "Nimal Perera", ["+94 70 999 0000"])
    records += message(GROUP_EX, "line:2", 1, "Fees to BOC 0081234567", sender_phone="94771234567@s.whatsapp.net")
    acct_msg = records[-2]
    records.append(mention(acct_msg, "bank-account", "0081234567"))
    records += message(GROUP_EX, "line:3", 2, "ok sir", sender_phone="+94762223344")
    records += message(PHONE_EX, "line:4", 3, "passport dunna", sender_name="W.K. Perera", chat="Nuwan")
    records.append(payment("row:2", "1234509876", "0081234567", "450000.00", to_name="N. Jayawardena"))
    store.write(records)
    return {"message_with_account": acct_msg.id}


def resolved(store):
    """Resolve, write the entities and build the graph, as `casegraph resolve` does; the resolution."""
    res = resolve.resolve(store)
    resolve.write(store, res)
    build.build(store)
    return res
