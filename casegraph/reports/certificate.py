"""The certificate for computer evidence, in the form the Evidence (Special Provisions) Act,
No. 14 of 1995 (Sri Lanka) expects: it identifies the statement (this report and the records it
cites), describes how it was produced and the devices involved, and deals with the conditions of
admissibility (the computer used in the ordinary course of the activity, operating properly,
the information supplied in the ordinary course), for signature by the person responsible for
the examination. It is filled from the case; the signatory must check every statement before
signing, and the prosecutor decides whether it meets the court's needs."""

from __future__ import annotations

import platform
from typing import Any

from ..wording import plural, verb


def certificate(doc: dict[str, Any]) -> dict[str, Any]:
    case, as_of, verdict = doc["case"], doc["as_of"], doc["custody_verdict"]
    custody = doc["custody"]
    hosts = sorted({e["host"] for e in custody if e.get("host")})
    tools = sorted({e["tool"] for e in custody if e.get("tool")})
    first, last = custody[0]["when"], custody[-1]["when"]
    exhibits = ", ".join(f"{e['exhibit_id']} ({e['original_name']}, SHA-256 {e['sha256'][:16]}…)" for e in doc["exhibits"])
    ok = verdict["ok"]
    paragraphs = [
        f"I, {case['examiner']}, of the {case['agency'] or 'investigating agency'}, certify as follows in respect of the "
        f"statements produced by computer contained in the evidence report of case {case['case_no']} dated "
        f"{doc['generated']} (the report), which describes the case as of custody event {as_of['seq']} (hash {as_of['hash']}).",
        "1. Identification. The report and its attached findings (findings.json) were produced by the computer described "
        f"below from the following exhibits: {exhibits}. Each statement in the report names the exhibit and the location "
        "in it (line, JSON path or table row) of the record it comes from.",
        "2. Manner of production. Each exhibit was copied into a read-only evidence store and its SHA-256 and MD5 digests "
        "recorded at intake; it was then read by the parsers named in section 4, whose output was stored with the digest, "
        "parser name and version and location of every record; the analyses named in section 4 were run on that store; "
        "every step was written to an append-only, hash-chained custody log (section 3).",
        f"3. Ordinary course. The computer was used regularly during the period {first} to {last} to store and process "
        "information for the examination of exhibits in this case, an activity regularly carried on by the examiner's "
        "division, and the information was supplied to it in the ordinary course of that activity.",
        "4. Proper operation. "
        + (
            f"Throughout that period the computer was operating properly. At the time of the report the custody log "
            f"({verdict['events']} events) was verified as unbroken and {plural(verdict['exhibits_checked'], 'exhibit file')} "
            f"{verb(verdict['exhibits_checked'], 'was', 'were')} "
            "re-hashed and found identical to the digests taken at intake. " + verdict.get("reparse", "")
            if ok
            else "The custody verification at the time of the report found problems (section 3). The signatory must state "
            "whether they affected the production of the report or the accuracy of its contents before signing."
        ),
        "5. Source devices. This certificate concerns the computer that examined the exhibits. Statements about the "
        "operation of the devices or systems from which the exhibits were taken (telephones, bank systems) are for "
        "persons responsible for those devices.",
    ]
    device = [
        ("Examination computer" + ("s" if len(hosts) > 1 else ""), ", ".join(hosts) or "—"),
        ("Operating system", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        (
            "Software",
            ", ".join(tools) + f"; report rendering: casegraph {doc['tools'].get('casegraph')}, "
            f"WeasyPrint {doc['tools'].get('weasyprint', '—')}",
        ),
        ("Period of use", f"{first} to {last}"),
    ]
    return {
        "paragraphs": paragraphs,
        "device": device,
        "closing": "The statements in this certificate are true to the best of my knowledge and belief.",
        "position": "Examiner responsible for the operation of the examination computer in this case",
    }
