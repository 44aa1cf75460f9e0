"""A synthetic recruitment-and-fees case, made by code so anyone can rebuild it byte for byte.

The story: a sub-agent in Colombo ("Nuwan") recruits young people for "IT jobs in Thailand",
collects agency fees into his Bank of Ceylon account (several cash deposits kept just under the
LKR 1,000,000 reporting threshold), passes money through a mule account (Rizwan), and pays a
handler abroad in USDT on TRON. The victims end up in a scam compound; their passports are taken.

Every person, number, account and wallet here is invented.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import base58

from ..model import USDT_CONTRACTS

SEED = 20240314
FIXED_ZIP_TIME = (2024, 5, 1, 0, 0, 0)  # zip member times, so the exhibit bytes are reproducible


def tron_address(label: str) -> str:
    """A well-formed (base58check, 0x41 prefix) TRON address derived from a label."""
    body = b"\x41" + hashlib.sha256(label.encode()).digest()[:20]
    return base58.b58encode_check(body).decode()


@dataclass(frozen=True)
class Person:
    name: str
    phone: str  # as people write it
    role: str


RECRUITER = Person("Nuwan Jayawardena", "+94 77 123 4567", "recruiter")
MULE = Person("Mohamed Rizwan", "+94 71 555 0199", "mule")
HANDLER = Person("Chen Wei", "+95 9 254 318 876", "handler")
VICTIMS = [
    Person("Kasun Perera", "+94 76 222 3344", "victim"),
    Person("Tharindu Silva", "+94 70 333 4455", "victim"),
    Person("Priya Sivakumar", "+94 75 444 5566", "victim"),
    Person("Dilshan Fernando", "+94 78 666 7788", "victim"),
]
RECRUITER_ACCOUNT = "0081234567"  # Bank of Ceylon
MULE_ACCOUNT = "8001234501"  # Commercial Bank
RECRUITER_WALLET = tron_address("recruiter")
HANDLER_WALLET = tron_address("handler")
USDT_TRC20 = USDT_CONTRACTS["tron"]
FEE = Decimal("450000.00")

# --- chats -------------------------------------------------------------------------------------
KASUN_CHAT = [  # (minutes after start, sender, text) ; sender None = system line
    (
        0,
        None,
        "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",  # noqa: E501
    ),
    (1, "Nuwan Agent", "Hello Kasun, mama Nuwan. Facebook eke job advert eka gena katha kala"),
    (3, "Kasun", "ow sir. IT job eka gana kiyanna puluwanda?"),
    (6, "Nuwan Agent", "Thailand, Bangkok. Customer service + IT support. Salary USD 1200 monthly. Accommodation free."),
    (7, "Nuwan Agent", "Visa agency eken hadala denawa. Tourist visa ekak, passe work permit eka company eken denawa."),
    (9, "Kasun", "agency fee keeyada?"),
    (12, "Nuwan Agent", "LKR 450,000. Ticket, visa, medical okkoma ekka.\nAdvance 150,000 dannath puluwan, ithuru eka yanna kalin."),
    (15, "Nuwan Agent", "Bank of Ceylon, Acc No 0081234567, N. Jayawardena. Slip eka WhatsApp karanna."),
    (16, "Nuwan Agent", "Passport copy ekai NIC copy ekai ewanna."),
    (60 * 20, "Kasun", "<Media omitted>"),
    (60 * 20 + 1, "Kasun", "salli damma sir. 450,000 full payment."),
    (60 * 20 + 5, "Nuwan Agent", "Hari. Ticket eka Friday. Airport eke kiyanna tourist kiyala, work kiyanna epa."),
    (60 * 24 * 9, "Kasun", "sir mama Myawaddy kiyana thanakata genawa. Meka Thailand neme."),
    (60 * 24 * 9 + 2, "Kasun", "මගේ පාස්පෝට් එක එයාලා අරගෙන. අපිට එළියට යන්න දෙන්නේ නෑ."),
    (60 * 24 * 9 + 3, "Kasun", "Daily 16 hours online scam wada karanna kiyanawa. Target nathnam gahanawa."),
    (
        60 * 24 * 9 + 30,
        "Nuwan Agent",
        "Kalabala wenna epa. Contract eka iwara wenakan inna. Company eka USD 5000 ka compensation illanawa yanna nam.",
    ),
    (60 * 24 * 9 + 31, "Nuwan Agent", "This message was deleted"),
    (60 * 24 * 11, "Kasun", "mata gedara yanna ona. please help karanna"),
    (60 * 24 * 11 + 4, "Nuwan Agent", "Salli ewwoth witharai. Chen mahattayata USDT walin ewanna puluwan: " + HANDLER_WALLET),
]

GROUP_MEMBERS = [RECRUITER, MULE, *VICTIMS[1:]]


def android_line(ts: datetime, sender: str | None, text: str) -> str:
    head = ts.strftime("%d/%m/%Y, %H:%M")
    return f"{head} - {text}" if sender is None else f"{head} - {sender}: {text}"


def ios_line(ts: datetime, sender: str | None, text: str) -> str:
    return f"[{ts.strftime('%d/%m/%Y, %H:%M:%S')}] {sender or 'Recruits Batch 7'}: {text}"


def kasun_chat() -> str:
    start = datetime(2024, 3, 14, 9, 12)
    return "\n".join(android_line(start + timedelta(minutes=m), s, t) for m, s, t in KASUN_CHAT) + "\n"


def group_chat(rng: random.Random) -> tuple[str, dict[str, bytes]]:
    """An iOS group export: _chat.txt plus the attachments it names."""
    start = datetime(2024, 4, 9, 18, 5, 11)
    lines = [
        ios_line(start, None, "\u200eMessages and calls are end-to-end encrypted."),
        ios_line(start, None, "\u200eNuwan Jayawardena created group \u201cRecruits Batch 7\u201d"),
    ]
    for v in GROUP_MEMBERS[1:]:
        lines.append(ios_line(start, None, f"\u200eNuwan Jayawardena added {v.phone}"))
    attachments: dict[str, bytes] = {}
    t = start + timedelta(minutes=3)
    script = [
        (RECRUITER, "Welcome all. Flight Colombo \u2192 Bangkok 18 April. Passport saha ticket airport eke dennam."),
        (RECRUITER, "Fee balance eka 15th ta kalin danna. Rizwan ge account ekata dammath ok: Commercial Bank 8001234501"),
        (VICTIMS[1], "sir mage balance 300,000 damma. slip eka attach kara"),
        (VICTIMS[1], "SLIP"),
        (VICTIMS[2], "வணக்கம் சார். வேலை உண்மையா? வீட்டில் பயப்படுகிறார்கள்."),
        (RECRUITER, "Ow Priya, company eka hari. Visa tourist, eka gana kawuruwath ekka katha karanna epa."),
        (VICTIMS[3], "mama 450,000 cash deposit kala BOC eke. Receipt eka thiyanawa."),
        (MULE, "Salli labuna. Nuwan aiyata yawwa."),
        (VICTIMS[2], "என் பாஸ்போர்ட்டை விமான நிலையத்தில் வாங்கிக்கொண்டார்கள்.\nதிரும்ப தரவில்லை."),
        (RECRUITER, "\u200eThis message was deleted."),
        (
            RECRUITER,
            "Okkoma Bangkok airport eken pick up karanawa. Phone walata Chen mahattayage number eka save karaganna: " + HANDLER.phone,
        ),
    ]
    for person, text in script:
        t += timedelta(minutes=rng.randint(30, 600), seconds=rng.randint(0, 59))
        if text == "SLIP":
            name = f"{len(attachments) + 1:08d}-PHOTO-{t.strftime('%Y-%m-%d-%H-%M-%S')}.jpg"
            attachments[name] = payment_slip(person.name, Decimal("300000.00"), MULE_ACCOUNT, "Commercial Bank")
            text = f"\u200e<attached: {name}>"
        sender = person.phone if person in VICTIMS else person.name
        lines.append(ios_line(t, sender, text))
    lines.append(
        ios_line(
            datetime(2024, 4, 17, 19, 40, 2), RECRUITER.name, "Flight heta 18th. Airport eke 3 ta enna. Visa gana ahuwoth tourist kiyanna."
        )
    )
    return "\n".join(lines) + "\n", attachments


def payment_slip(depositor: str, amount: Decimal, account: str, bank: str) -> bytes:
    """A plain rendered deposit slip (for OCR): black text on white, as a phone photo would show after cropping."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (900, 420), "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=34)
    lines = [
        bank.upper(),
        "CASH DEPOSIT SLIP",
        f"Account No: {account}",
        f"Depositor: {depositor}",
        f"Amount: LKR {amount:,.2f}",
        "Date: 2024-04-03",
    ]
    for i, line in enumerate(lines):
        d.text((40, 30 + i * 62), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def job_advert() -> bytes:
    """The Facebook job advert the victim screenshotted: Sinhala, English and Tamil, as such adverts are."""
    from PIL import Image, ImageDraw, ImageFont

    noto = "/usr/share/fonts/truetype/noto/"
    img = Image.new("RGB", (1080, 760), "white")
    d = ImageDraw.Draw(img)
    lines = [
        ("NotoSansSinhala-Bold.ttf", 58, "තායිලන්තයේ IT රැකියා"),
        ("NotoSans-Regular.ttf", 44, "Salary USD 1200 + free accommodation"),
        ("NotoSans-Regular.ttf", 44, "Tourist visa arranged. No experience."),
        ("NotoSansTamil-Regular.ttf", 44, "தாய்லாந்தில் வேலை வாய்ப்பு"),
        ("NotoSans-Regular.ttf", 44, f"WhatsApp {RECRUITER.phone}"),
        ("NotoSans-Regular.ttf", 44, "Limited seats. Call now!"),
    ]
    y = 40
    for font, size, text in lines:
        d.text((50, y), text, fill="black", font=ImageFont.truetype(noto + font, size))
        y += size + 62
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# --- money -------------------------------------------------------------------------------------
def bank_statement(rng: random.Random) -> str:
    """The recruiter's Bank of Ceylon statement as the bank's CSV export."""
    rows: list[tuple[date, str, Decimal, Decimal]] = []  # date, description, debit, credit
    d0 = date(2024, 3, 1)
    for i, v in enumerate(VICTIMS):
        rows.append((d0 + timedelta(days=14 + i * 5), f"CEFT CR {v.name.upper()} AGENCY FEE", Decimal(0), FEE))
    for i in range(6):  # structuring: cash just under the LKR 1,000,000 threshold, on consecutive days
        amt = Decimal(rng.randint(950, 995) * 1000)
        rows.append((date(2024, 4, 8) + timedelta(days=i), "CASH DEPOSIT KOLLUPITIYA BR", Decimal(0), amt))
    for i in range(3):  # onward to the mule, then on to the crypto seller
        rows.append((date(2024, 4, 16) + timedelta(days=i), f"CEFT DR M RIZWAN {MULE_ACCOUNT}", Decimal("1500000.00"), Decimal(0)))
    for i in range(25):  # ordinary life: background noise  # noqa: B007
        day = d0 + timedelta(days=rng.randint(0, 60))
        if rng.random() < 0.5:
            rows.append(
                (
                    day,
                    rng.choice(["POS KEELLS SUPER", "POS CARGILLS FOOD CITY", "DIALOG BILL PAYMENT", "ATM WDL"]),
                    Decimal(rng.randint(1500, 45000)),
                    Decimal(0),
                )
            )
        else:
            rows.append((day, "SALARY CR ABC TRADING", Decimal(0), Decimal(rng.randint(60, 90) * 1000)))
    rows.sort(key=lambda r: r[0])
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["Txn Date", "Value Date", "Description", "Cheque No", "Debit", "Credit", "Balance"])
    balance = Decimal("125000.00")
    for day, desc, debit, credit in rows:
        balance += credit - debit
        w.writerow(
            [
                day.strftime("%d/%m/%Y"),
                day.strftime("%d/%m/%Y"),
                desc,
                "",
                f"{debit:,.2f}" if debit else "",
                f"{credit:,.2f}" if credit else "",
                f"{balance:,.2f}",
            ]
        )
    return out.getvalue()


def tronscan_csv(rng: random.Random) -> str:
    """USDT (TRC-20) transfers from the recruiter's wallet to the handler, as a Tronscan export."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Txn Hash", "Block", "Time(UTC)", "From", "To", "Token", "Amount", "Token Contract", "Result"])
    t = datetime(2024, 4, 19, 6, 30, 0)
    for i in range(5):
        t += timedelta(hours=rng.randint(3, 30))
        txh = hashlib.sha256(f"usdt-{i}".encode()).hexdigest()
        w.writerow(
            [
                txh,
                61_000_000 + i * 9_137,
                t.strftime("%Y-%m-%d %H:%M:%S"),
                RECRUITER_WALLET,
                HANDLER_WALLET,
                "USDT",
                f"{rng.randint(900, 1500)}.{rng.randint(0, 999999):06d}",
                USDT_TRC20,
                "SUCCESS",
            ]
        )
    return out.getvalue()


def contacts_vcf() -> str:
    cards = [("Nuwan Agent", RECRUITER.phone), ("Rizwan Bro", MULE.phone), ("Chen Thailand", HANDLER.phone)]
    return "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{n}\r\nN:{n};;;;\r\nTEL;TYPE=CELL:{p}\r\nEND:VCARD\r\n" for n, p in cards)


# --- the exhibits ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoExhibit:
    exhibit_id: str
    relpath: str
    seized_from: str
    acquired_by: str
    warrant: str
    seizure: tuple[tuple[str, str], ...] = ()  # ingest.seizure.details keyword arguments, as recorded at the seizure


def write_exhibits(root: Path) -> list[DemoExhibit]:
    """Write the seized files under root/seized/ and return how each was taken into evidence."""
    rng = random.Random(SEED)
    seized = root / "seized"
    files: dict[str, bytes] = {}
    files["P1-victim-phone/WhatsApp Chat with Nuwan Agent.txt"] = kasun_chat().encode("utf-8")
    files["P1-victim-phone/contacts.vcf"] = contacts_vcf().encode("utf-8")
    files["P1-victim-phone/Screenshot_20240314-093015.png"] = job_advert()
    chat, attachments = group_chat(rng)
    files["P2-recruiter-phone/WhatsApp Chat - Recruits Batch 7.zip"] = zip_bytes({"_chat.txt": chat.encode("utf-8"), **attachments})
    files["B1-bank/BOC_0081234567_statement_2024-03_2024-04.csv"] = bank_statement(rng).encode("utf-8")
    files["C1-tronscan/TRC20_transfers_recruiter.csv"] = tronscan_csv(rng).encode("utf-8")
    for rel, data in files.items():
        p = seized / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    warrant = "Colombo Magistrate's Court B/2291/2024 (search and seizure order, 22 April 2024)"
    return [
        DemoExhibit(
            "P1",
            "seized/P1-victim-phone",
            "Kasun Perera (victim), handed over voluntarily",
            "IP R. Bandara",
            warrant,
            (
                ("seized_at", "2024-04-22T16:10+05:30"),
                ("seal", "CID/HT/2024/0412"),
                ("device", "Samsung/Galaxy A14/356938035643809/R58T20DEMO1"),
            ),
        ),
        DemoExhibit(
            "P2",
            "seized/P2-recruiter-phone",
            "Nuwan Jayawardena (suspect), on arrest",
            "IP R. Bandara",
            warrant,
            (("seized_at", "2024-04-22T18:45+05:30"), ("seal", "CID/HT/2024/0413"), ("device", "Xiaomi/Redmi Note 12//")),
        ),
        DemoExhibit(
            "B1",
            "seized/B1-bank",
            "Bank of Ceylon, under court order",
            "SI M. Fathima (FIU liaison)",
            "Colombo Magistrate's Court B/2291/2024, order to produce bank records",
            (("seized_at", "2024-04-25"),),
        ),
        DemoExhibit(
            "C1",
            "seized/C1-tronscan",
            "Tronscan public explorer export",
            "SI M. Fathima (FIU liaison)",
            warrant,
            (("seized_at", "2024-04-26"),),
        ),
    ]
