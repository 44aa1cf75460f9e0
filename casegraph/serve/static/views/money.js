// Money: run a trace (POST /api/money/trace, written and logged like `casegraph trace`), then draw one
// flow diagram per currency with d3-sankey. Widths use the amount as a number for layout only; every
// label shows the exact amount with its currency, as the server formatted it. Never summed across currencies.
"use strict";
(function () {
  const { post, el, toast } = window.casegraph;
  const form = document.getElementById("trace-form");
  const status = document.getElementById("trace-status");
  const box = document.getElementById("diagrams");
  const tableBox = document.getElementById("trace-table");
  const val = (id) => document.getElementById(id).value.trim();

  function short(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }

  function diagram(d) {
    const W = Math.max(640, box.clientWidth - 20), H = Math.max(220, 60 + 46 * d.nodes.length);
    const wrap = el("figure", { class: "flow", "data-currency": d.currency || "" });
    wrap.append(el("figcaption", { text: `${d.currency || "(currency not stated)"}: ${casegraph.plural(d.links.length, "flow")} between ${casegraph.plural(d.nodes.length, "account")}` }));
    if (!d.links.length) { wrap.append(el("p", { class: "meta", text: "No transfers between the accounts reached in this currency." })); box.append(wrap); return; }
    const index = new Map(d.nodes.map((n, i) => [n.account, i]));
    const graph = {
      nodes: d.nodes.map((n) => ({ ...n })),
      links: d.links.map((l) => ({ source: index.get(l.from), target: index.get(l.to), value: Math.max(Number(l.amount), 1e-9), l })),
    };
    const sk = d3.sankey().nodeWidth(14).nodePadding(18).nodeAlign(d3.sankeyLeft).extent([[150, 10], [W - 190, H - 10]]);
    const { nodes, links } = sk(graph);
    const svg = d3.create("svg").attr("viewBox", `0 0 ${W} ${H}`).attr("width", W).attr("height", H).attr("role", "img")
      .attr("aria-label", `flow diagram in ${d.currency}`);
    const g = svg.append("g");
    const link = g.append("g").attr("fill", "none").selectAll("path").data(links).join("path")
      .attr("class", "flow-link").attr("d", d3.sankeyLinkHorizontal())
      .attr("stroke", "#d35400").attr("stroke-opacity", 0.35).attr("stroke-width", (x) => Math.max(1.5, x.width));
    link.append("title").text((x) => `${x.l.from} → ${x.l.to}: ${x.l.amount_text} in ${casegraph.plural(x.l.transfers, "transfer")}`);
    g.append("g").selectAll("text").data(links).join("text").attr("class", "flow-amount")
      .attr("x", (x) => (x.source.x1 + x.target.x0) / 2).attr("y", (x) => (x.y0 + x.y1) / 2 - 3)
      .attr("text-anchor", "middle").attr("font-size", 11).attr("fill", "#6e2c00").text((x) => x.l.amount_text);
    const node = g.append("g").selectAll("g").data(nodes).join("g").attr("class", "flow-node");
    node.append("rect").attr("x", (n) => n.x0).attr("y", (n) => n.y0).attr("width", (n) => n.x1 - n.x0)
      .attr("height", (n) => Math.max(2, n.y1 - n.y0)).attr("fill", (n) => n.origin ? "#1d5fa8" : n.unknown ? "#95a5a6" : "#c0392b");
    node.append("title").text((n) => `${n.label}${n.tainted_text ? "\ntainted: " + n.tainted_text : ""}\nhops from the origin: ${n.depth}`);
    const text = node.append("text").attr("font-size", 12).attr("y", (n) => (n.y0 + n.y1) / 2)
      .attr("x", (n) => n.x0 < 150 + 1 ? n.x0 - 6 : n.x1 + 6).attr("text-anchor", (n) => n.x0 < 150 + 1 ? "end" : "start");
    text.append("tspan").attr("dy", "-0.2em").text((n) => short(n.label, 28));
    text.append("tspan").attr("x", (n) => n.x0 < 150 + 1 ? n.x0 - 6 : n.x1 + 6).attr("dy", "1.2em").attr("fill", "#a61b1b").attr("font-size", 11)
      .text((n) => n.origin ? "origin" : n.tainted_text ? "tainted " + n.tainted_text : "");
    wrap.append(svg.node());
    if (d.not_drawn) wrap.append(el("p", { class: "meta", text: `${casegraph.plural(d.not_drawn, "smaller flow")} not drawn (the diagram shows the largest ${d.links.length}).` }));
    if (d.back.length) {
      wrap.append(el("p", { class: "meta", text: `${casegraph.plural(d.back.length, "flow")} run back towards the origin or between accounts at the same distance; a flow diagram cannot draw a cycle, so they are listed:` }));
      const ul = el("ul", { class: "back" });
      d.back.forEach((l) => ul.append(el("li", { text: `${l.from} → ${l.to}: ${l.amount_text} in ${casegraph.plural(l.transfers, "transfer")}` })));
      wrap.append(ul);
    }
    box.append(wrap);
  }

  // one line per currency: amounts are never added across currencies
  function perCurrency(list, what) {
    if (!list.length) return [el("span", { class: "meta", text: "none" })];
    return list.map((x) => el("div", { class: "amount", text: `${x.amount_text}` + (what ? ` (${casegraph.plural(x.transfers, "transfer")})` : "") }));
  }

  function table(rows) {
    const t = el("table", { class: "grid", id: "trace-rows" });
    const heads = [
      ["Account reached", ""],
      ["Transfers on the path", "transfers from the origin to this account, one after another in time (hops)"],
      ["Path (amounts, when)", ""],
      ["Received, per currency", "the sum of the traced transfers into this account, in each currency, with how many transfers it sums"],
      ["Tainted, per currency", "the part of what it received that the chosen taint model counts as tainted"],
      ["Transfers cited", "the transaction records the finding cites: the path and every transfer summed (other records it cites, such as the basis for taking two ends as one holder, in brackets)"],
    ];
    t.append(el("thead", {}, el("tr", {}, ...heads.map(([h, title]) => el("th", { text: h, title })))));
    const tb = el("tbody");
    rows.forEach((r) => tb.append(el("tr", {},
      el("td", { text: r.reached }),
      el("td", { class: "num", text: r.path ? String(r.path_transfers) : "(grouped)", title: r.path ? "" : "transfers to ends the records do not name, grouped: not one path" }),
      el("td", { class: "path", text: r.path_amounts.length ? `${r.path}\n${r.path_amounts.join(", ")}, ${r.when}` : r.when }),
      el("td", { class: "num" }, ...perCurrency(r.received, true)),
      el("td", { class: "num" }, ...perCurrency(r.tainted, false)),
      el("td", { class: "num", text: String(r.cited) + (r.other_cited ? ` (+${casegraph.plural(r.other_cited, "other record")})` : "") }))));
    t.append(tb);
    tableBox.replaceChildren(el("h3", { text: "Accounts reached (the findings written)" }),
      el("p", { class: "meta", text: "Each row is one finding. Amounts are exact and per currency; a total is never added across currencies." }), t);
  }

  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = document.getElementById("run-trace");
    if (!btn) return;
    btn.disabled = true;
    status.textContent = "tracing…";
    try {
      const r = await post("/api/money/trace", {
        account: val("account"), model: val("model"), hops: val("hops"), backward: document.getElementById("backward").checked,
        since: val("since"), until: val("until"),
      });
      box.replaceChildren();
      status.replaceChildren(el("p", { class: "ok", text: `${casegraph.plural(r.findings, "finding")} written by ${r.detector}, logged as custody event ${r.custody_seq}.` }));
      const left = Object.entries(r.left_out || {});
      if (left.length) status.append(el("p", { class: "meta", text: "Left out of the graph: " + left.map(([k, v]) => `${v.count} ${k}`).join(", ") }));
      r.diagrams.forEach(diagram);
      table(r.table);
      toast(`trace logged as custody event ${r.custody_seq}`);
    } catch (e) {
      status.textContent = "";
    } finally { btn.disabled = false; }
  });
  if (form && form.dataset.autorun) form.requestSubmit();
})();
