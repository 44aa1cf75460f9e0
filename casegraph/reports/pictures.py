"""The report's two pictures as inline SVG: the network of parties and a timeline of the records
the findings cite. The same SVG is static in the PDF; in the HTML a small inlined script adds
pan/zoom, click-to-highlight and lane filters. Layouts are seeded and inputs sorted, so the same
case draws the same picture, byte for byte."""
from __future__ import annotations

from datetime import datetime
from html import escape

import networkx as nx

from ..graph import analysis
from ..store import CaseStore

MAX_NODES = 70
COLOURS = {"Person": "#c0392b", "Phone": "#2471a3", "Account": "#7d3c98", "BankAccount": "#b9770e", "Wallet": "#d35400",
           "Email": "#1e8449", "Chat": "#5d6d7e", "Exhibit": "#17202a", "NIC": "#117864", "Passport": "#117864"}
TIE_COLOURS = {"payment": "#d35400", "message": "#2471a3", "mentioned": "#7d3c98", "call": "#1e8449", "in image": "#7f8c8d"}
LANES = [("messages", "Messages", "#2471a3"), ("transactions", "Payments", "#d35400"), ("calls", "Calls", "#1e8449"),
         ("ocr_text", "Images (OCR)", "#7f8c8d"), ("contacts", "Contact cards", "#7d3c98")]


def _short(s: str, n: int = 28) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def network_svg(store: CaseStore, focus: set[str], redact) -> tuple[str, int, int]:
    """SVG of the parties most tied to others (those findings name first); (svg, shown, total)."""
    g = analysis.party_graph(store)
    total = g.number_of_nodes()
    if total == 0:
        return "", 0, 0
    strength = dict(g.degree(weight="weight"))
    keep = sorted(g.nodes, key=lambda n: (n not in focus, -strength[n], n))[:MAX_NODES]
    h = nx.Graph()
    h.add_nodes_from(sorted(keep))
    h.add_edges_from(sorted((min(a, b), max(a, b), g.edges[a, b]) for a, b in g.subgraph(keep).edges))
    pos = nx.spring_layout(h, seed=7, k=1.6 / max(1, len(h)) ** 0.5, iterations=200)
    w, hgt, pad = 900, 560, 70
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    def at(n):
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        return (pad + (pos[n][0] - x0) / ((x1 - x0) or 1) * (w - 2 * pad), pad + (pos[n][1] - y0) / ((y1 - y0) or 1) * (hgt - 2 * pad))
    out = [f'<svg class="network" viewBox="0 0 {w} {hgt}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Network of parties">',
           '<g class="viewport">']
    for a, b, d in h.edges(data=True):
        (x1, y1), (x2, y2) = at(a), at(b)
        kind = "payment" if "payment" in d["kinds"] else d["kinds"][0]
        tip = redact(f"{analysis.display(g, a)} — {analysis.display(g, b)}: {d['weight']} × {', '.join(d['kinds'])}")
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{TIE_COLOURS.get(kind, "#999")}" '
                   f'stroke-width="{min(6, 0.8 + d["weight"] ** 0.5):.1f}" data-a="{escape(a)}" data-b="{escape(b)}">'
                   f'<title>{escape(tip)}</title></line>')
    for n in h.nodes:
        x, y = at(n)
        label = g.nodes[n].get("label", "?")
        name = redact(str(g.nodes[n].get("name") or n))
        r = 5 + min(12, strength[n] ** 0.5 * 1.5)
        tip = redact(f"{analysis.display(g, n)}: {strength[n]:g} recorded contacts with {g.degree(n)} parties")
        right = x > w * 0.7  # labels of nodes near the right edge go to their left
        anchor = ' text-anchor="end"' if right else ""
        out.append(f'<g class="node" data-id="{escape(n)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{COLOURS.get(label, "#566573")}">'
                   f'<title>{escape(tip)}</title></circle>'
                   f'<text x="{x - r - 2 if right else x + r + 2:.1f}" y="{y + 4:.1f}"{anchor}>'
                   f'{escape(_short(name))}</text></g>')
    out.append("</g>")
    legend = [(k, v) for k, v in COLOURS.items() if any(g.nodes[n].get("label") == k for n in h.nodes)]
    for i, (k, v) in enumerate(legend):
        out.append(f'<circle cx="{12}" cy="{14 + 16 * i}" r="5" fill="{v}"/><text x="22" y="{18 + 16 * i}">{k}</text>')
    for i, (k, v) in enumerate(TIE_COLOURS.items()):
        out.append(f'<line x1="{w - 130}" y1="{14 + 16 * i}" x2="{w - 110}" y2="{14 + 16 * i}" stroke="{v}" stroke-width="3"/>'
                   f'<text x="{w - 104}" y="{18 + 16 * i}">{k}</text>')
    out.append("</svg>")
    return "\n".join(out), len(h), total


def timeline_svg(items: list[dict]) -> str:
    """Records with a time, one lane per kind: [{'ts': datetime, 'table': ..., 'tip': ...}]."""
    items = sorted((i for i in items if i.get("ts")), key=lambda i: (i["ts"], i["tip"]))
    if not items:
        return ""
    lanes = [l for l in LANES if any(i["table"] == l[0] for i in items)]
    lane_y = {l[0]: 40 + 34 * k for k, l in enumerate(lanes)}
    w, left, right = 900, 120, 20
    hgt = 40 + 34 * len(lanes) + 30
    t0, t1 = items[0]["ts"].timestamp(), items[-1]["ts"].timestamp()
    span = (t1 - t0) or 1
    x = lambda t: left + (t.timestamp() - t0) / span * (w - left - right)
    out = [f'<svg class="timeline" viewBox="0 0 {w} {hgt}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Timeline">']
    for table, name, colour in lanes:
        y = lane_y[table]
        out.append(f'<g class="lane" data-lane="{table}"><text x="8" y="{y + 4}">{name}</text>'
                   f'<line x1="{left}" y1="{y}" x2="{w - right}" y2="{y}" stroke="#ddd"/>')
        for i in items:
            if i["table"] == table:
                out.append(f'<circle cx="{x(i["ts"]):.1f}" cy="{y}" r="4" fill="{colour}" fill-opacity="0.7">'
                           f'<title>{escape(i["tip"])}</title></circle>')
        out.append("</g>")
    ticks = 5
    fmt = "%Y-%m-%d %H:%M" if span < 3 * 86400 else "%Y-%m-%d"
    for k in range(ticks + 1):
        t = datetime.fromtimestamp(t0 + span * k / ticks, items[0]["ts"].tzinfo)
        anchor = "start" if k == 0 else "end" if k == ticks else "middle"
        out.append(f'<text class="tick" x="{x(t):.1f}" y="{hgt - 8}" text-anchor="{anchor}" fill="#555">{t.strftime(fmt)}</text>')
    out.append("</svg>")
    return "\n".join(out)
