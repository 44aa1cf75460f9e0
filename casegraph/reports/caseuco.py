"""A CASE/UCO (JSON-LD) description of the case for the bundle: the investigation, each custody
event as an investigative action (who, when, with which tool, on which files, giving which
results), provenance records for the exhibits, and every file with its hashes. Node ids are
UUIDs derived from content (uuid5), so the same case gives the same graph. Validated in the tests
with `case_validate` from case-utils."""

from __future__ import annotations

import json
import uuid
from typing import Any

NS = uuid.UUID("6f6c3a4e-3b5a-4f0e-9a51-6361736567a0")  # casegraph's namespace for uuid5 node ids
CONTEXT = {
    "kb": "http://example.org/kb/",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _id(kind: str, *parts: Any) -> str:
    return f"kb:{kind}-{uuid.uuid5(NS, '|'.join(map(str, (kind, *parts))))}"


def _ref(i: str) -> dict:
    return {"@id": i}


def _hashes(sha256: str, md5: str | None = None) -> list[dict]:
    out = [("SHA256", sha256)] + ([("MD5", md5)] if md5 else [])
    return [
        {
            "@id": _id("hash", m, v),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": m,  # UCO 1.4+: a plain string from HashNameVocab
            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": v},
        }
        for m, v in out
    ]


def file_node(name: str, sha256: str, size: int, md5: str | None = None) -> dict:
    return {
        "@id": _id("file", sha256, name),
        "@type": "uco-observable:File",
        "uco-core:name": name,
        "uco-core:hasFacet": [
            {
                "@id": _id("file-facet", sha256, name),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": name,
                "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(size)},
            },
            {
                "@id": _id("content-facet", sha256),
                "@type": "uco-observable:ContentDataFacet",
                "uco-observable:hash": _hashes(sha256, md5),
                "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(size)},
            },
        ],
    }


def _time(t: str) -> dict:
    return {"@type": "xsd:dateTime", "@value": t}


def _seizure(e: dict, file_id: str) -> list[dict]:
    """The seized device (uco-observable:Device with a DeviceFacet) and the seizure as an
    InvestigativeAction, when intake recorded them. A seizure given as a date is a date, not a midnight:
    it goes in the description, and startTime only when a date-time was recorded."""
    out = []
    device_id = None
    if any(e.get(k) for k in ("device_make", "device_model", "device_imei", "device_serial")):
        device_id = _id("device", e["sha256"])
        facet = {"@id": _id("device-facet", e["sha256"]), "@type": "uco-observable:DeviceFacet"}
        if e.get("device_make"):  # UCO: the manufacturer is an Identity, not a string
            maker = _id("identity", e["device_make"])
            out.append({"@id": maker, "@type": "uco-identity:Identity", "uco-core:name": e["device_make"]})
            facet["uco-observable:manufacturer"] = _ref(maker)
        for key, prop in (("device_model", "model"), ("device_serial", "serialNumber")):
            if e.get(key):
                facet[f"uco-observable:{prop}"] = e[key]
        facets = [facet]
        if e.get("device_imei"):
            facets.append(
                {
                    "@id": _id("mobile-facet", e["sha256"]),
                    "@type": "uco-observable:MobileDeviceFacet",
                    "uco-observable:IMEI": e["device_imei"],
                }
            )
        out.append(
            {
                "@id": device_id,
                "@type": "uco-observable:Device",
                "uco-core:name": e.get("device") or "seized device",
                "uco-core:hasFacet": facets,
            }
        )
    if e.get("seized_at") or e.get("seal") or device_id:
        act = {
            "@id": _id("seizure", e["sha256"]),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": "seizure",
            "uco-core:description": f"exhibit {e['exhibit_id']} seized at {e.get('seized_at') or 'not recorded'} "
            f"(as recorded) from {e.get('seized_from') or 'not recorded'}; seal "
            f"{e.get('seal') or 'not recorded'}; authority: {e.get('warrant') or 'not recorded'}",
            "uco-action:result": [_ref(device_id or file_id)],
        }
        if e.get("seized_at") and "T" in e["seized_at"]:
            act["uco-action:startTime"] = _time(e["seized_at"])
        if device_id:
            act["uco-action:object"] = [_ref(device_id)]
        out.append(act)
    return out


def describe(doc: dict[str, Any], outputs: list[tuple[str, str, int]]) -> bytes:
    """JSON-LD for the gathered report `doc` and the bundle's own files (name, sha256, size)."""
    case = doc["case"]
    graph: list[dict] = []
    examiner = _id("person", case["examiner"])
    graph.append({"@id": examiner, "@type": "uco-identity:Person", "uco-core:name": case["examiner"]})
    actors = {case["examiner"]: examiner}
    tools: dict[str, str] = {}
    files: dict[str, str] = {}
    by_sha: dict[str, dict] = {}
    for e in doc["exhibits"]:
        node = file_node(e["original_name"] or e["sha256"], e["sha256"], e["size"], e["md5"])
        graph.append(node)
        files[e["sha256"]] = node["@id"]
        by_sha[e["sha256"]] = e
        graph.append(
            {
                "@id": _id("provenance", e["sha256"]),
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": e["exhibit_id"],
                "uco-core:description": f"seized from: {e['seized_from'] or 'not recorded'}; acquired by: "
                f"{e['acquired_by'] or 'not recorded'}; authority: {e['warrant'] or 'not recorded'}",
                "uco-core:object": [_ref(node["@id"])],
            }
        )
        graph += _seizure(e, node["@id"])
    actions = []
    for ev in doc["custody"]:
        if ev["actor"] not in actors:
            actors[ev["actor"]] = _id("person", ev["actor"])
            graph.append({"@id": actors[ev["actor"]], "@type": "uco-identity:Person", "uco-core:name": ev["actor"]})
        tool = ev.get("tool") or "unknown"
        if tool not in tools:
            tools[tool] = _id("tool", tool)
            name, _, ver = tool.partition(" ")
            graph.append({"@id": tools[tool], "@type": "uco-tool:Tool", "uco-core:name": name, "uco-tool:version": ver or "unknown"})
        act = {
            "@id": _id("action", ev["hash"]),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": ev["action"],
            "uco-core:description": f"custody event {ev['seq']} ({ev['hash']}): {ev['summary']}",
            "uco-action:startTime": _time(ev["time"]),
            "uco-action:endTime": _time(ev["time"]),
            "uco-action:performer": _ref(actors[ev["actor"]]),
            "uco-action:instrument": _ref(tools[tool]),
        }
        sha = next((s for s in by_sha if s in ev["summary"]), None)
        if ev["action"] == "intake" and sha:
            act["uco-action:result"] = [_ref(_id("provenance", sha))]
        elif sha:
            act["uco-action:object"] = [_ref(files[sha])]
        graph.append(act)
        actions.append(act["@id"])
    out_ids = []
    for name, sha, size in outputs:
        node = file_node(name, sha, size)
        graph.append(node)
        out_ids.append(node["@id"])
    report = {
        "@id": _id("action", "report", doc["as_of"]["hash"], doc["redacted"]),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": "report-and-bundle",
        "uco-core:description": f"evidence report and bundle of the case as of custody event {doc['as_of']['seq']}",
        "uco-action:startTime": _time(doc["as_of"]["time"]),
        "uco-action:performer": _ref(examiner),
        "uco-action:instrument": _ref(
            tools.setdefault(f"casegraph {doc['tools']['casegraph']}", _id("tool", f"casegraph {doc['tools']['casegraph']}"))
        ),
        "uco-action:object": [_ref(files[s]) for s in sorted(files)],
        "uco-action:result": [_ref(i) for i in out_ids],
    }
    if not any(n["@id"] == report["uco-action:instrument"]["@id"] for n in graph):
        graph.append(
            {
                "@id": report["uco-action:instrument"]["@id"],
                "@type": "uco-tool:Tool",
                "uco-core:name": "casegraph",
                "uco-tool:version": doc["tools"]["casegraph"],
            }
        )
    graph.append(report)
    actions.append(report["@id"])
    graph.append(
        {
            "@id": _id("investigation", case["case_no"]),
            "@type": "case-investigation:Investigation",
            "uco-core:name": case["case_no"],
            "uco-core:description": case["title"] or case["case_no"],
            "case-investigation:focus": ["human trafficking"],
            "uco-core:object": [_ref(i) for i in actions] + [_ref(files[s]) for s in sorted(files)],
        }
    )
    return (json.dumps({"@context": CONTEXT, "@graph": graph}, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
