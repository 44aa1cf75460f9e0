"""The report's two pictures: the network of parties and a timeline of the records the findings cite.

Positions are computed here, once, in Python, so the PDF (static SVG: WeasyPrint runs no script)
and the HTML (Cytoscape.js given the same positions, d3 for the timeline) show the same picture.
The layout is seeded, inputs are sorted and the label-overlap removal is deterministic, so the
same case draws the same picture, byte for byte. Every label box is kept in the layout, so tests
check by geometry that no two labels overlap."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from html import escape
from pathlib import Path

import networkx as nx

from ..amounts import format_totals, sum_by_currency
from ..model import DIRECTED_TIES
from ..store import CaseStore
from ..ties import display, party_graph
from ..wording import plural

MAX_NODES = 70
MAX_LANES = 14
FONT_PX = 9  # label size in picture units (the CSS gives svg text the same size)
EDGE_FONT_PX = 8
COLOURS = {
    "Person": "#c0392b",
    "Phone": "#2471a3",
    "Account": "#1abc9c",
    "BankAccount": "#b7950b",
    "Wallet": "#8e44ad",
    "Email": "#1e8449",
    "Chat": "#5d6d7e",
    "Exhibit": "#17202a",
    "NIC": "#117864",
    "Passport": "#117864",
}
_TIE_NOUNS = {"mentioned": ("mention", None), "in image": ("time named in an image", "times named in an image")}
TIE_COLOURS = {"payment": "#d35400", "message": "#2471a3", "mentioned": "#7d3c98", "call": "#1e8449", "in image": "#7f8c8d"}
KIND_NAMES = {
    "BankAccount": "bank account",
    "Wallet": "wallet",
    "Account": "account",
    "Phone": "phone",
    "Person": "person",
    "Email": "e-mail",
    "Chat": "chat",
    "Exhibit": "exhibit",
    "NIC": "NIC",
    "Passport": "passport",
}
FONT_FILES = [Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"), Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]


def _short(s: str, n: int = 28) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


@cache
def _font(size: int):
    try:
        from PIL import ImageFont
    except ImportError:  # pragma: no cover - Pillow is a dependency of the OCR layer
        return None
    path = next((p for p in FONT_FILES if p.exists()), None)
    return ImageFont.truetype(str(path), size) if path else None


def text_width(text: str, size: int = FONT_PX) -> float:
    """Width of a label in picture units, measured with the report's font, with a margin: Sinhala
    and Tamil letters (another font) are counted generously so their boxes are never too small."""
    font = _font(size)
    wide = sum(1 for ch in text if "\u0b80" <= ch <= "\u0bff" or "\u0d80" <= ch <= "\u0dff")
    rest = "".join(ch for ch in text if not ("\u0b80" <= ch <= "\u0bff" or "\u0d80" <= ch <= "\u0dff"))
    base = font.getlength(rest) if font else 0.62 * size * len(rest)
    return round(base * 1.08 + wide * 0.8 * size + 2, 1)


# ---------------------------------------------------------------- the network ----------------


@dataclass
class Net:
    nodes: list[dict] = field(default_factory=list)  # id, name, kind, colour, r, x, y, box (label rectangle)
    edges: list[dict] = field(default_factory=list)  # a, b, kind, colour, width, label, tip, box (None without label)
    width: float = 0
    height: float = 0
    shown: int = 0
    total: int = 0
    unplaced: int = 0  # money labels with no free place: their amounts are in the tooltips only


def _norm(s) -> str:
    return re.sub(r"\s+", " ", str(s or "")).strip().casefold()


def _directed(store: CaseStore) -> list[dict]:
    """Every tie with its direction, and the amount and currency of payments."""
    return store.rows(f"""SELECT t.a, t.b, t.kind, t.record_id, x.amount, x.currency
                          FROM ({DIRECTED_TIES}) t LEFT JOIN transactions x ON t.kind = 'payment' AND x.id = t.record_id
                          ORDER BY t.a, t.b, t.kind, t.record_id""")


def _chat_persons(g: nx.Graph) -> dict[str, str]:
    """A one-to-one chat named after a person who posts in it is that person, not a second node
    (an export names a 1:1 chat after the other party: 'Nuwan Agent' is the chat with Nuwan Agent).
    A chat with more than two parties posting is a group, and stays a node of its own."""
    people: dict[str, list[str]] = {}
    for n, d in g.nodes(data=True):
        if d.get("label") == "Person":
            people.setdefault(_norm(d.get("name")), []).append(n)
    out = {}
    for n, d in g.nodes(data=True):
        if d.get("label") != "Chat":
            continue
        posters = [m for m in g.neighbors(n) if "message" in g.edges[n, m]["kinds"]]
        same = [p for p in people.get(_norm(d.get("name")), []) if p in posters]
        if len(same) == 1 and len(posters) <= 2:
            out[n] = same[0]
    return out


def network(store: CaseStore, focus: set[str], redact) -> Net:
    """The parties most tied to others (those findings name first), laid out without overlaps."""
    g = party_graph(store)
    net = Net(total=g.number_of_nodes())
    if not net.total:
        return net
    into = _chat_persons(g)
    net.total -= len(into)
    strength: dict[str, float] = {}
    for n, s in g.degree(weight="weight"):
        strength[into.get(n, n)] = strength.get(into.get(n, n), 0) + s
    keep = set(sorted(strength, key=lambda n: (n not in focus, -strength[n], n))[:MAX_NODES])
    # directed ties between kept parties: (a, b) -> {kind: count}, payments summed per currency
    ties: dict[tuple[str, str], dict] = {}
    for t in _directed(store):
        a, b = into.get(t["a"], t["a"]), into.get(t["b"], t["b"])
        if a == b and t["b"] in into:  # the person's own posts in the 1:1 chat named after them: to the other party
            others = [m for m in g.neighbors(t["b"]) if m != a]
            if len(others) != 1:
                continue
            b = others[0]
        if a == b or a not in keep or b not in keep:
            continue
        d = ties.setdefault((a, b), {"kinds": {}, "money": []})
        d["kinds"][t["kind"]] = d["kinds"].get(t["kind"], 0) + 1
        if t["kind"] == "payment":
            d["money"].append((t["amount"], t["currency"]))
    h = nx.Graph()
    h.add_nodes_from(sorted(keep))
    h.add_edges_from(sorted({(min(a, b), max(a, b)) for a, b in ties}))
    for n in sorted(keep):
        d = g.nodes[n]
        kind = d.get("label", "?")
        name = _short(redact(str(d.get("name") or n)))
        r = round(5 + min(12, strength[n] ** 0.5 * 1.5), 1)
        tip = redact(f"{display(g, n)}: {strength[n]:g} recorded contact{'' if strength[n] == 1 else 's'}")
        net.nodes.append(
            {"id": n, "name": name, "kind": kind, "colour": COLOURS.get(kind, "#566573"), "r": r, "tip": tip, "focus": n in focus}
        )
    for (a, b), d in sorted(ties.items()):
        kinds = d["kinds"]
        kind = "payment" if "payment" in kinds else sorted(kinds, key=lambda k: (-kinds[k], k))[0]
        count = sum(kinds.values())
        money = format_totals(sum_by_currency(d["money"])) if d["money"] else ""
        unstated = sum(1 for amount, _ in d["money"] if amount is None)
        label = money + (f" (+{unstated} not stated)" if unstated else "") if d["money"] else ""
        tip = redact(
            f"{display(g, a)} → {display(g, b)}: "
            + ", ".join(plural(v, *_TIE_NOUNS.get(k, (k, None))) for k, v in sorted(kinds.items()))
            + (f"; {label}" if label else "")
        )
        net.edges.append(
            {
                "a": a,
                "b": b,
                "kind": kind,
                "colour": TIE_COLOURS.get(kind, "#999"),
                "width": round(min(5, 0.8 + count**0.5), 1),
                "label": redact(label) if label else "",
                "tip": tip,
                "bend": (b, a) in ties,
            }
        )
    _layout(h, net)
    net.shown = len(net.nodes)
    return net


def _overlap(p, q, gap: float = 3.0) -> bool:
    return p[0] < q[2] + gap and q[0] < p[2] + gap and p[1] < q[3] + gap and q[1] < p[3] + gap


def _node_box(n) -> tuple:
    """The circle and its label to the right, as one rectangle."""
    h = max(n["r"], FONT_PX * 0.7)
    return (n["x"] - n["r"], n["y"] - h, n["x"] + n["r"] + 3 + n["w"], n["y"] + h)


def _edge_points(net: Net, e) -> tuple:
    by = {n["id"]: n for n in net.nodes}
    a, b = by[e["a"]], by[e["b"]]
    dx, dy = b["x"] - a["x"], b["y"] - a["y"]
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ox, oy = (-dy / length * 4, dx / length * 4) if e["bend"] else (0.0, 0.0)  # two directions: two parallel lines
    ux, uy = dx / length, dy / length
    return (a["x"] + ux * a["r"] + ox, a["y"] + uy * a["r"] + oy, b["x"] - ux * (b["r"] + 1) + ox, b["y"] - uy * (b["r"] + 1) + oy)


def _push(c, half, movable, gap: float = 3.5, rounds: int = 600, damp: float = 0.6):
    """Move overlapping rectangles (centres c, half sizes) apart, each pair along the axis that
    needs the smaller move, until none overlap; fixed ones stay. Vectorised; deterministic."""
    import numpy as np

    n = len(c)
    if n < 2:
        return c, True
    iu = np.triu_indices(n, 1)
    order = np.arange(n)
    for _ in range(rounds):
        d = c[:, None, :] - c[None, :, :]
        over = half[:, None, :] + half[None, :, :] + gap - np.abs(d)
        hit = (over[..., 0] > 0) & (over[..., 1] > 0)
        i, j = iu[0][hit[iu]], iu[1][hit[iu]]
        if not len(i):
            return c, True
        ox, oy = over[i, j, 0], over[i, j, 1]
        axis = (oy > ox).astype(int)  # 0: move in x, 1: move in y
        amount = np.where(axis == 0, ox, oy) + 0.01
        sign = np.sign(d[i, j, axis])
        sign = np.where(sign == 0, np.where(order[i] < order[j], -1.0, 1.0), sign)
        mi, mj = movable[i], movable[j]
        share_i = np.where(mi & mj, 0.5, np.where(mi, 1.0, 0.0))
        share_j = np.where(mi & mj, 0.5, np.where(mj, 1.0, 0.0))
        step = np.zeros_like(c)
        np.add.at(step, (i, axis), sign * amount * share_i)
        np.add.at(step, (j, axis), -sign * amount * share_j)
        c = c + step * damp  # a damped step: several overlaps on one box do not overshoot
    d = c[:, None, :] - c[None, :, :]
    over = half[:, None, :] + half[None, :, :] + gap - np.abs(d)
    return c, not ((over[..., 0] > 0) & (over[..., 1] > 0))[iu].any()


def _crossings(seg, boxes, incident, shrink: float = 0.5):
    """Which line segments (E×4: x1 y1 x2 y2) pass through which rectangles (N×4), leaving out a line's own
    ends (`incident`, E×N): Liang–Barsky clipping, all pairs at once. Returns an E×N boolean array."""
    import numpy as np

    x1, y1 = seg[:, 0:1], seg[:, 1:2]
    dx, dy = seg[:, 2:3] - x1, seg[:, 3:4] - y1
    bx0, by0 = boxes[None, :, 0] + shrink, boxes[None, :, 1] + shrink
    bx1, by1 = boxes[None, :, 2] - shrink, boxes[None, :, 3] - shrink
    t0, t1 = np.zeros((len(seg), len(boxes))), np.ones((len(seg), len(boxes)))
    hit = np.ones((len(seg), len(boxes)), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x1 - bx0), (dx, bx1 - x1), (-dy, y1 - by0), (dy, by1 - y1)):
            p = np.broadcast_to(p, t0.shape)
            q = np.broadcast_to(q, t0.shape)
            r = q / p
            hit &= ~((p == 0) & (q < 0))
            t0 = np.where(p < 0, np.maximum(t0, r), t0)
            t1 = np.where(p > 0, np.minimum(t1, r), t1)
    return hit & (t0 <= t1) & ~incident


def _clear_lines(net: Net, c, nhalf, nshift, rounds: int = 80):
    """Move parties whose circle or name a tie between two other parties runs through, away from that
    line, then apart again: no line may run under a name it does not belong to. Returns the centres
    and whether no line crosses a name any more."""
    import numpy as np

    index = {n["id"]: k for k, n in enumerate(net.nodes)}
    ends = np.array([(index[e["a"]], index[e["b"]]) for e in net.edges], int).reshape(-1, 2)
    if not len(ends):
        return c, True
    incident = np.zeros((len(ends), len(net.nodes)), bool)
    incident[np.arange(len(ends)), ends[:, 0]] = True
    incident[np.arange(len(ends)), ends[:, 1]] = True
    r = np.array([n["r"] for n in net.nodes], float)
    movable = np.ones(len(net.nodes), bool)
    for _ in range(rounds):
        centre = c - np.c_[nshift, np.zeros(len(c))]  # node centres
        a, b = centre[ends[:, 0]], centre[ends[:, 1]]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])[:, None]
        length[length == 0] = 1.0
        u = d / length
        seg = np.c_[a + u * r[ends[:, 0], None], b - u * (r[ends[:, 1], None] + 1)]
        boxes = np.c_[c - nhalf, c + nhalf]
        cross = _crossings(seg, boxes, incident)
        if not cross.any():
            return c, True
        step = np.zeros_like(c)
        for i, j in zip(*np.nonzero(cross), strict=True):
            normal = np.array([-u[i, 1], u[i, 0]])
            dist = float((c[j] - a[i]) @ normal)
            reach = abs(normal[0]) * nhalf[j, 0] + abs(normal[1]) * nhalf[j, 1] + 3.0  # half the box across the line
            side = 1.0 if dist >= 0 else -1.0
            step[j] += normal * side * (reach - abs(dist))
        c = c + 0.5 * step
        c, _ = _push(c, nhalf, movable, rounds=200)
    centre = c - np.c_[nshift, np.zeros(len(c))]
    a, b = centre[ends[:, 0]], centre[ends[:, 1]]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])[:, None]
    length[length == 0] = 1.0
    u = d / length
    seg = np.c_[a + u * r[ends[:, 0], None], b - u * (r[ends[:, 1], None] + 1)]
    return c, not _crossings(seg, np.c_[c - nhalf, c + nhalf], incident).any()


def _layout(h: nx.Graph, net: Net) -> None:
    """Seeded spring layout stretched to the page's shape; node+label boxes pushed apart until
    none overlap; money labels placed along or beside their edge where they touch nothing, else
    pushed clear (with a leader line to their edge); where that fails the layout is spread
    further and the steps repeat. Deterministic: fixed seed, fixed order, no randomness."""
    import numpy as np

    pos = nx.spring_layout(h, seed=7, k=1.8 / max(1, len(h)) ** 0.5, iterations=200) if len(h) > 1 else {n: (0.0, 0.0) for n in h}
    for n in net.nodes:
        n["w"] = text_width(n["name"])
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    if max(ys) - min(ys) > max(xs) - min(xs):  # the page is wider than tall: lay the long axis across
        pos = {n: (y, x) for n, (x, y) in pos.items()}
    # stretch to a page-shaped box (about 3:2); spreading further below only where labels need room
    xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
    box_w = 420 + 30 * len(h) ** 0.5
    scale = (box_w / ((max(xs) - min(xs)) or 1), box_w * 0.62 / ((max(ys) - min(ys)) or 1))
    nn = len(net.nodes)
    nhalf = np.array([[(2 * n["r"] + 3 + n["w"]) / 2, max(n["r"], FONT_PX * 0.7)] for n in net.nodes])
    nshift = np.array([(3 + n["w"]) / 2 for n in net.nodes])  # box centre = node centre + this, in x
    labelled = [e for e in net.edges if e["label"]]
    for attempt in range(12):  # noqa: B007
        c = np.array([[pos[n["id"]][0] * scale[0], pos[n["id"]][1] * scale[1]] for n in net.nodes]) + np.c_[nshift, np.zeros(nn)]
        c, ok = _push(c, nhalf, np.ones(nn, bool))
        c, clear = _clear_lines(net, c, nhalf, nshift)
        ok = ok and clear
        for k, n in enumerate(net.nodes):
            n["x"], n["y"] = float(c[k, 0] - nshift[k]), float(c[k, 1])
        boxes = [_node_box(n) for n in net.nodes]
        centres, halves, anchors = [], [], []
        for e in labelled:
            x1, y1, x2, y2 = _edge_points(net, e)
            w, hh = text_width(e["label"], EDGE_FONT_PX), EDGE_FONT_PX * 0.75
            length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1.0
            nx_, ny_ = -(y2 - y1) / length, (x2 - x1) / length  # beside the line, above or below it
            best = None
            for t, off in (
                (t, off)
                for off in (0, -(hh + 10), hh + 10, -(hh + 18), hh + 18, -(hh + 30), hh + 30)
                for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85)
            ):
                cx, cy = x1 + (x2 - x1) * t + nx_ * off, y1 + (y2 - y1) * t + ny_ * off
                box = (cx - w / 2, cy - hh, cx + w / 2, cy + hh)
                if not any(_overlap(box, b) for b in boxes):
                    best = (cx, cy)
                    boxes.append(box)
                    break
            centres.append(best or ((x1 + x2) / 2, (y1 + y2) / 2))
            halves.append((w / 2, hh))
            anchors.append(((x1 + x2) / 2, (y1 + y2) / 2))
        if labelled:  # labels that found no free place are pushed clear; the parties stay put
            allc = np.vstack([c, np.array(centres)])
            allh = np.vstack([nhalf, np.array(halves)])
            allc, ok2 = _push(allc, allh, np.r_[np.zeros(nn, bool), np.ones(len(labelled), bool)], gap=3.0, rounds=1500, damp=0.9)
            ok = ok and ok2
            for k, e in enumerate(labelled):
                cx, cy = allc[nn + k]
                e["box"] = (float(cx - halves[k][0]), float(cy - halves[k][1]), float(cx + halves[k][0]), float(cy + halves[k][1]))
                e["anchor"] = anchors[k] if ((cx - anchors[k][0]) ** 2 + (cy - anchors[k][1]) ** 2) ** 0.5 > 20 else None
        if ok:
            break
        scale = (scale[0] * 1.15, scale[1] * 1.15)  # labels keep their size, so spreading the parties makes room
    for e in net.edges:
        e.setdefault("box", None)
        e.setdefault("anchor", None)
    boxes = [_node_box(n) for n in net.nodes]
    for e in labelled:  # a label that still overlaps after all that is left out (counted; its amount stays in the tooltip)
        if any(_overlap(e["box"], b, gap=0) for b in boxes):
            e["box"], e["anchor"] = None, None
            net.unplaced += 1
        else:
            boxes.append(e["box"])
    labelled = [e for e in labelled if e["box"]]
    pad = 14
    x0 = min(b[0] for b in boxes) - pad
    y0 = min(b[1] for b in boxes) - pad
    for n in net.nodes:
        n["x"], n["y"] = round(n["x"] - x0, 1), round(n["y"] - y0, 1)
        n["box"] = tuple(round(v, 1) for v in _node_box(n))
    for e in labelled:
        e["box"] = tuple(round(v - (x0 if k % 2 == 0 else y0), 1) for k, v in enumerate(e["box"]))
        if e["anchor"]:
            e["anchor"] = (round(e["anchor"][0] - x0, 1), round(e["anchor"][1] - y0, 1))
    net.width = round(max(b[2] for b in boxes) - x0 + pad, 1)
    net.height = round(max(b[3] for b in boxes) - y0 + pad, 1)


def network_svg(net: Net) -> str:
    """The static picture (the PDF, printing, and the HTML without script). Arrowheads are drawn
    as triangles, not markers, so every renderer draws them the same."""
    if not net.nodes:
        return ""
    out = [
        f'<svg class="network" width="{net.width:g}" height="{net.height:g}" viewBox="0 0 {net.width:g} {net.height:g}" xmlns="http://www.w3.org/2000/svg" role="img" '  # noqa: E501
        f'aria-label="Network of parties: {len(net.nodes)} parties, {len(net.edges)} directed ties">'
    ]
    for e in net.edges:
        x1, y1, x2, y2 = _edge_points(net, e)
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / length, dy / length
        size = 5 + e["width"]
        bx, by = x2 - ux * size, y2 - uy * size
        tri = f"{x2:.1f},{y2:.1f} {bx - uy * size / 2:.1f},{by + ux * size / 2:.1f} {bx + uy * size / 2:.1f},{by - ux * size / 2:.1f}"
        out.append(
            f'<g class="tie" data-a="{escape(e["a"])}" data-b="{escape(e["b"])}" data-kind="{e["kind"]}"><title>{escape(e["tip"])}</title>'
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="{e["colour"]}" stroke-width="{e["width"]}"/>'
            f'<polygon points="{tri}" fill="{e["colour"]}"/></g>'
        )
    for n in net.nodes:
        out.append(
            f'<g class="node" data-id="{escape(n["id"])}" data-kind="{n["kind"]}"><title>{escape(n["tip"])}</title>'
            f'<circle cx="{n["x"]:.1f}" cy="{n["y"]:.1f}" r="{n["r"]}" fill="{n["colour"]}"/>'
            f'<text class="label" font-size="{FONT_PX}" x="{n["x"] + n["r"] + 3:.1f}" y="{n["y"] + FONT_PX * 0.35:.1f}">{escape(n["name"])}</text></g>'  # noqa: E501
        )
    for e in net.edges:
        if e["box"]:
            x0, y0, x1, y1 = e["box"]
            if e["anchor"]:  # a label pushed away from its edge points back to it
                out.append(
                    f'<line class="leader" x1="{(x0 + x1) / 2:.1f}" y1="{(y0 + y1) / 2:.1f}" x2="{e["anchor"][0]:.1f}" '
                    f'y2="{e["anchor"][1]:.1f}" stroke="#aaa" stroke-width="0.6" stroke-dasharray="2 2"/>'
                )
            out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" fill="#fff" fill-opacity="0.85"/>')
            out.append(
                f'<text class="label money" font-size="{EDGE_FONT_PX}" fill="#6e2c00" x="{(x0 + x1) / 2:.1f}" y="{(y0 + y1) / 2 + EDGE_FONT_PX * 0.35:.1f}" '  # noqa: E501
                f'text-anchor="middle">{escape(e["label"])}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def network_legend(net: Net) -> list[dict]:
    kinds = sorted({n["kind"] for n in net.nodes}, key=lambda k: list(COLOURS).index(k) if k in COLOURS else 99)
    ties = [k for k in TIE_COLOURS if any(e["kind"] == k for e in net.edges)]
    return [{"shape": "dot", "colour": COLOURS.get(k, "#566573"), "name": KIND_NAMES.get(k, k)} for k in kinds] + [
        {"shape": "line", "colour": TIE_COLOURS[k], "name": k} for k in ties
    ]


def network_data(net: Net) -> str:
    """The same picture as Cytoscape elements (preset positions), as JSON for a data island."""
    els = [
        {
            "group": "nodes",
            "data": {"id": n["id"], "name": n["name"], "kind": n["kind"], "colour": n["colour"], "size": n["r"] * 2, "tip": n["tip"]},
            "position": {"x": n["x"], "y": n["y"]},
        }
        for n in net.nodes
    ]
    for i, e in enumerate(net.edges):
        data = {
            "id": f"t{i}",
            "source": e["a"],
            "target": e["b"],
            "kind": e["kind"],
            "colour": e["colour"],
            "width": e["width"],
            "label": e["label"] if e["box"] else "",
            "tip": e["tip"],
        }
        if e["box"]:  # where the layout placed the label, relative to the edge's midpoint
            x1, y1, x2, y2 = _edge_points(net, e)
            data["mx"] = round((e["box"][0] + e["box"][2]) / 2 - (x1 + x2) / 2, 1)
            data["my"] = round((e["box"][1] + e["box"][3]) / 2 - (y1 + y2) / 2, 1)
        els.append({"group": "edges", "data": data})
    return _island(els)


def _island(value) -> str:
    """JSON safe inside <script type="application/json">."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace("<", "\\u003c")


# ---------------------------------------------------------------- the timeline ---------------


def _record_parties(store: CaseStore, ids: set[str]) -> dict[str, list[str]]:
    """The parties (a resolved person, else the identifier) who sent or received each record."""
    if not ids:
        return {}
    want = store.id_table("_tl_want", ids)
    rows = store.rows(f"""
        WITH owner AS (SELECT dst AS node, min(src) AS person FROM edges WHERE kind = 'USES' GROUP BY dst),
        hit AS (SELECT e.dst AS record, e.src AS node FROM edges e SEMI JOIN {want} w ON w.id = e.dst WHERE e.kind IN ('SENT', 'PAID')
                UNION ALL
                SELECT e.src, e.dst FROM edges e SEMI JOIN {want} w ON w.id = e.src WHERE e.kind IN ('TO', 'PAID_TO'))
        SELECT DISTINCT h.record, coalesce(o.person, h.node) AS party, n.label, n.name
        FROM hit h LEFT JOIN owner o ON o.node = h.node JOIN nodes n ON n.id = coalesce(o.person, h.node)
        ORDER BY 1, 2""")
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["record"], []).append(r)
    return out


def timeline(store: CaseStore, items: list[dict], indicators: dict[str, list[str]], redact) -> dict:
    """Lanes per person (or identifier not joined to a person) and per indicator; each record
    with a time is a point in every lane it belongs to; payments carry their amount.
    items: [{'record', 'ts': datetime, 'table', 'tip'}]; indicators: record -> indicator names."""
    items = sorted((i for i in items if i.get("ts")), key=lambda i: (i["ts"], i["record"]))
    if not items:
        return {}
    parties = _record_parties(store, {i["record"] for i in items})
    money = {
        r["id"]: format_totals(sum_by_currency([(r["amount"], r["currency"])]))
        if r["amount"] is not None
        else f"{r['currency'] or '(currency not stated)'} (amount not stated)"
        for r in store.rows(
            "SELECT id, amount, currency FROM transactions SEMI JOIN "
            f"{store.id_table('_tl_pay', {i['record'] for i in items if i['table'] == 'transactions'})} w USING (id)"
        )
    }
    lanes: dict[str, dict] = {}
    points = []
    for i in items:
        keys = []
        for p in parties.get(i["record"], []):
            if p["label"] == "Chat":
                continue
            key = "p:" + p["party"]
            lanes.setdefault(
                key,
                {
                    "key": key,
                    "group": "person" if p["label"] == "Person" else "identifier",
                    "name": _short(redact(str(p["name"] or p["party"])), 24),
                    "n": 0,
                },
            )
            keys.append(key)
        for ind in indicators.get(i["record"], []):
            key = "i:" + ind
            lanes.setdefault(key, {"key": key, "group": "indicator", "name": _short(ind.replace("-", " "), 24), "n": 0})
            keys.append(key)
        if not keys:
            key = "k:" + i["table"]
            lanes.setdefault(key, {"key": key, "group": "other", "name": f"other {i['table'].replace('_', ' ')}", "n": 0})
            keys.append(key)
        amount = money.get(i["record"], "") if i["table"] == "transactions" else ""
        for k in dict.fromkeys(keys):
            lanes[k]["n"] += 1
            points.append(
                {
                    "lane": k,
                    "t": int(i["ts"].timestamp() * 1000),
                    "table": i["table"],
                    "amount": amount,
                    "tip": (i["tip"] + (f" · {amount}" if amount else "")),
                }
            )
    order = {"person": 0, "identifier": 1, "indicator": 2, "other": 3}
    ranked = sorted(lanes.values(), key=lambda l: (order[l["group"]], -l["n"], l["name"], l["key"]))  # noqa: E741
    shown = [l for l in ranked if l["group"] == "indicator"] + [l for l in ranked if l["group"] != "indicator"]  # noqa: E741
    shown = sorted(shown[:MAX_LANES], key=lambda l: (order[l["group"]], -l["n"], l["name"], l["key"]))  # noqa: E741
    keep = {l["key"] for l in shown}  # noqa: E741
    return {
        "lanes": shown,
        "points": [p for p in points if p["lane"] in keep],
        "hidden_lanes": len(lanes) - len(shown),
        "t0": points[0]["t"] if points else 0,
        "t1": max(p["t"] for p in points) if points else 0,
    }


TL = {"width": 900, "left": 150, "right": 20, "top": 14, "lane": 26, "axis": 28}
TABLE_COLOURS = {"messages": "#2471a3", "transactions": "#d35400", "calls": "#1e8449", "ocr_text": "#7f8c8d", "contacts": "#7d3c98"}
GROUP_COLOURS = {"person": "#c0392b", "identifier": "#2471a3", "indicator": "#7d3c98", "other": "#555"}


def timeline_svg(tl: dict) -> str:
    """The static timeline: lanes, points, amounts above payments where they fit, a date axis."""
    if not tl or not tl["points"]:
        return ""
    w, left, right, top, lane_h = TL["width"], TL["left"], TL["right"], TL["top"], TL["lane"]
    hgt = top + lane_h * len(tl["lanes"]) + TL["axis"]
    t0, t1 = tl["t0"], tl["t1"]
    span = (t1 - t0) or 1
    x = lambda t: left + (t - t0) / span * (w - left - right)  # noqa: E731
    out = [
        f'<svg class="timeline" viewBox="0 0 {w} {hgt}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="Timeline of cited records in {len(tl["lanes"])} lanes" data-t0="{t0}" data-t1="{t1}">'
    ]
    for k, lane in enumerate(tl["lanes"]):
        y = top + lane_h * k + lane_h / 2
        colour = GROUP_COLOURS[lane["group"]]
        out.append(
            f'<g class="lane" data-lane="{escape(lane["key"])}" data-group="{lane["group"]}">'
            f'<text class="lane-name" x="8" y="{y + 3:.1f}" fill="{colour}">{escape(lane["name"])}</text>'
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        last_end = -1e9
        for p in (p for p in tl["points"] if p["lane"] == lane["key"]):
            px = x(p["t"])
            out.append(
                f'<circle cx="{px:.1f}" cy="{y:.1f}" r="4" fill="{TABLE_COLOURS.get(p["table"], "#555")}" fill-opacity="0.75" '
                f'data-t="{p["t"]}"><title>{escape(p["tip"])}</title></circle>'
            )
            if p["amount"]:  # the amount above the point, where it does not run into the previous one
                tw = text_width(p["amount"], 7)
                # at the ends of the axis the amount is set inside the plot, not over the lane names
                start = min(max(px - tw / 2, left - 4), w - right - tw + 4)
                if start > last_end + 2:
                    out.append(
                        f'<text class="amount" fill="#6e2c00" x="{start:.1f}" y="{y - 6:.1f}" data-t="{p["t"]}">'
                        f"{escape(p['amount'])}</text>"
                    )
                    last_end = start + tw
        out.append("</g>")
    ticks = 5
    fmt = "%Y-%m-%d %H:%M" if span < 3 * 86400_000 else "%Y-%m-%d"
    out.append('<g class="axis">')
    for k in range(ticks + 1):
        t = t0 + span * k / ticks
        anchor = "start" if k == 0 else "end" if k == ticks else "middle"
        label = datetime.fromtimestamp(t / 1000, UTC).strftime(fmt)
        out.append(f'<text class="tick" x="{x(t):.1f}" y="{hgt - 8}" text-anchor="{anchor}" fill="#555">{label}</text>')
    out.append("</g></svg>")
    return "\n".join(out)


def timeline_data(tl: dict) -> str:
    return _island(
        {"lanes": tl.get("lanes", []), "points": tl.get("points", []), "layout": TL, "colours": TABLE_COLOURS, "groups": GROUP_COLOURS}
    )
