"use strict";
// Graph explorer over /api/graph/*: every expansion is one library call (graph.explore)
const cyEl = document.getElementById("cy");
const COLORS = { Person: "#1d5fa8", Phone: "#2f9e44", BankAccount: "#d9480f", Wallet: "#ae3ec9", Chat: "#868e96" };
const cy = cytoscape({
  container: cyEl,
  wheelSensitivity: 0.3,
  maxZoom: 1.4,  // a few parties do not blow the labels up to headline size
  style: [
    { selector: "node", style: { label: "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22,
        "background-color": (n) => COLORS[n.data("kind")] || "#495057", "text-wrap": "ellipsis", "text-max-width": 140 } },
    { selector: "node[role]", style: { "border-width": 3, "border-color": "#c92a2a" } },
    { selector: "node:selected", style: { "overlay-opacity": 0.25, "overlay-color": "#f0b429" } },
    { selector: "edge", style: { width: 1.5, "line-color": "#adb5bd", "curve-style": "bezier", label: "data(label)", "font-size": 9, color: "#495057",
        "text-background-color": "#fff", "text-background-opacity": 0.8 } },
    { selector: "edge[kind = 'money']", style: { width: 3, "line-color": "#d9480f", "target-arrow-color": "#d9480f", "target-arrow-shape": "triangle" } },
    { selector: "edge[kind = 'uses']", style: { "line-style": "dashed", "line-color": "#1d5fa8" } },
    { selector: "edge[kind = 'mentions']", style: { "line-style": "dotted", "target-arrow-shape": "vee", "target-arrow-color": "#adb5bd" } },
    { selector: ".path", style: { "line-color": "#f08c00", "background-color": "#f08c00", width: 5 } },
  ],
});
window.casegraphGraph = cy;
const selected = [];

function kinds() { return [...document.querySelectorAll("input[name=kind]:checked")].map((i) => i.value).join(","); }
function windowParams() {
  const p = new URLSearchParams({ kinds: kinds() });
  const s = document.getElementById("since").value, u = document.getElementById("until").value;
  if (s) p.set("since", s);
  if (u) p.set("until", u + "T23:59:59+00:00");
  return p;
}
function addAll(data) {
  const els = [];
  for (const n of data.nodes) {
    if (cy.getElementById(n.id).length) continue;
    const name = n.name || n.id;
    const d = { id: n.id, label: n.label === "Chat" ? "chat · " + name : name, kind: n.label };
    if (n.roles && n.roles.length) d.role = n.roles.join(", ");
    els.push({ group: "nodes", data: d });
  }
  for (const e of data.edges) {
    if (cy.getElementById(e.key).length) continue;
    const label = e.kind === "money" ? `${e.amount_text} (${e.count})` : e.kind === "message" ? `${e.count} msg` : "";
    els.push({ group: "edges", data: { id: e.key, source: e.source, target: e.target, kind: e.kind, label, tie: e } });
  }
  cy.add(els);
  // rings by degree (the busiest parties in the middle): every party gets its own place, labels do not pile up
  cy.layout({ name: "concentric", animate: false, fit: true, padding: 40, minNodeSpacing: 70, avoidOverlap: true,
              concentric: (n) => n.degree(), levelWidth: () => 2 }).run();
}
async function expand(id) {
  const p = windowParams();
  p.set("node", id);
  addAll(await casegraph.get("/api/graph/expand?" + p.toString()));
}
function showTie(t) {
  const d = document.getElementById("detail");
  d.replaceChildren(casegraph.el("h3", { text: `${t.kind}: ${casegraph.plural(t.count, "record")}` }));
  if (t.amount_text) d.append(casegraph.el("p", { text: `${t.amount_text} from ${t.source} to ${t.target}` }));
  if (t.first) d.append(casegraph.el("p", { class: "meta", text: `${t.first} … ${t.last} (UTC)` }));
  const ul = casegraph.el("ul");
  for (const r of t.records) {
    const a = casegraph.el("a", { href: "/source?record=" + encodeURIComponent(r), text: r.split("/").slice(-1)[0] });
    ul.append(casegraph.el("li", {}, a));
  }
  d.append(ul);
  if (t.records.length < t.count) d.append(casegraph.el("p", { class: "meta", text: `first ${t.records.length} of ${t.count} shown` }));
}
cy.on("tap", "node", async (ev) => {
  const id = ev.target.id();
  if (ev.originalEvent && ev.originalEvent.shiftKey) { selected.push(id); if (selected.length > 2) selected.shift(); return; }
  selected.splice(0, selected.length, id);
  await expand(id);
});
cy.on("tap", "edge", (ev) => showTie(ev.target.data("tie")));

const find = document.getElementById("find"), found = document.getElementById("found");
let timer = null;
find.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    found.replaceChildren();
    if (find.value.trim().length < 2) return;
    for (const n of await casegraph.get("/api/graph/find?q=" + encodeURIComponent(find.value))) {
      const b = casegraph.el("button", { type: "button", class: "link", text: `${n.name || n.id} (${n.label})` });
      b.addEventListener("click", () => { found.replaceChildren(); expand(n.id); });
      found.append(casegraph.el("li", {}, b));
    }
  }, 200);
});
document.getElementById("refresh").addEventListener("click", async () => {
  const ids = cy.nodes().map((n) => n.id());
  cy.elements().remove();
  for (const id of ids) await expand(id);
});
document.getElementById("clear").addEventListener("click", () => cy.elements().remove());
document.getElementById("path").addEventListener("click", async () => {
  const out = document.getElementById("path-result");
  if (selected.length < 2) { out.textContent = "select two parties first"; return; }
  const p = new URLSearchParams({ a: selected[0], b: selected[1], kinds: kinds() });
  const r = await casegraph.get("/api/graph/path?" + p.toString());
  cy.elements().removeClass("path");
  if (!r.found) { out.textContent = `no path within the tie kinds chosen (${r.visited} parties searched)`; return; }
  addAll(r);
  r.edges.forEach((e) => cy.getElementById(e.key).addClass("path"));
  r.nodes.forEach((n) => cy.getElementById(n.id).addClass("path"));
  out.textContent = `${casegraph.plural(r.hops, "hop")}`;
});
const pinBtn = document.getElementById("pin");
if (pinBtn) pinBtn.addEventListener("click", async () => {
  const title = document.getElementById("pin-title").value;
  const r = await casegraph.post("/api/graph/pin", {
    title, nodes: cy.nodes().map((n) => n.id()), edges: cy.edges().map((e) => e.id()),
    filters: Object.fromEntries(windowParams()),
  });
  casegraph.toast(`pinned view ${r.seq}: ${r.title}`);
});
if (cyEl.dataset.focus) expand(cyEl.dataset.focus);
