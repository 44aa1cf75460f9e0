// Timeline: lanes of dated records and findings (GET /api/timeline), brush to zoom (the server is asked for
// the brushed window again), filters by kind, party and indicator. Date-only records are drawn as their day.
"use strict";
(function () {
  const { get, el } = window.casegraph;
  const chart = document.getElementById("tl-chart"), status = document.getElementById("tl-status");
  const detail = document.getElementById("tl-detail"), legend = document.getElementById("tl-legend");
  const partySel = document.getElementById("tl-party"), indSel = document.getElementById("tl-indicator");
  const COLOURS = { messages: "#2471a3", calls: "#1e8449", transactions: "#d35400", locations: "#7d3c98" };
  const GROUP = { kind: "#17202e", person: "#c0392b", identifier: "#2471a3", indicator: "#7d3c98", finding: "#555" };
  const DAY = 86400000;
  let win = null; // [since, until] ms, or null for the whole case
  let filled = false;

  function params() {
    const kinds = [...document.querySelectorAll('input[name="kind"]:checked')].map((x) => x.value);
    const q = new URLSearchParams({ kinds: kinds.join(",") });
    if (win) { q.set("since", Math.floor(win[0])); q.set("until", Math.ceil(win[1])); }
    if (partySel.value) q.set("party", partySel.value);
    if (indSel.value) q.set("indicator", indSel.value);
    return q;
  }

  async function load() {
    status.textContent = "loading…";
    const d = await get("/api/timeline?" + params());
    if (!filled) { fillFilters(d); filled = true; }
    draw(d);
  }

  function fillFilters(d) {
    d.lanes.filter((l) => l.group === "person" || l.group === "identifier")
      .forEach((l) => partySel.append(el("option", { value: l.key.slice(2), text: `${l.name} (${l.n})` })));
    d.lanes.filter((l) => l.group === "indicator").forEach((l) => indSel.append(el("option", { value: l.name, text: `${l.name.replaceAll("-", " ")} (${l.n})` })));
  }

  function draw(d) {
    chart.replaceChildren();
    if (!d.total && !(d.findings || []).length) { status.textContent = "No dated records in this window."; detail.replaceChildren(); return; }
    const lanes = d.lanes, left = 190, right = 20, top = 8, laneH = 24, axisH = 26;
    const W = Math.max(700, chart.clientWidth || 1100), H = top + laneH * lanes.length + axisH;
    const x = d3.scaleUtc().domain([d.window[0] - (d.mode === "points" ? DAY / 2 : 0), d.window[1] + (d.mode === "points" ? DAY / 2 : 0)]).range([left, W - right]);
    const row = new Map(lanes.map((l, i) => [l.key, i]));
    const svg = d3.create("svg").attr("viewBox", `0 0 ${W} ${H}`).attr("width", W).attr("height", H).attr("role", "img").attr("aria-label", "timeline");
    const g = svg.append("g");
    lanes.forEach((l, i) => {
      g.append("rect").attr("x", left).attr("y", top + i * laneH).attr("width", W - left - right).attr("height", laneH).attr("fill", i % 2 ? "#fafbfc" : "#f0f2f5");
      g.append("text").attr("class", "tl-lane-label").attr("x", left - 6).attr("y", top + i * laneH + laneH / 2 + 4).attr("text-anchor", "end")
        .attr("fill", GROUP[l.group] || "#333").text(`${l.name.length > 26 ? l.name.slice(0, 25) + "…" : l.name} (${l.n})`);
    });
    const yOf = (lane) => top + row.get(lane) * laneH + laneH / 2;
    if (d.mode === "bins") {
      const max = d3.max(d.bins, (b) => b.n) || 1;
      const bw = Math.max(1, x(d.window[0] + d.bin_ms) - x(d.window[0]));
      g.append("g").selectAll("rect").data(d.bins.filter((b) => row.has(b.lane))).join("rect").attr("class", "tl-bin")
        .attr("x", (b) => x(d.window[0] + b.bin * d.bin_ms)).attr("width", bw)
        .attr("y", (b) => yOf(b.lane) - (laneH - 4) * Math.sqrt(b.n / max) / 2).attr("height", (b) => Math.max(1, (laneH - 4) * Math.sqrt(b.n / max)))
        .attr("fill", "#2471a3").append("title").text((b) => `${casegraph.plural(b.n, "record")} from ${new Date(d.window[0] + b.bin * d.bin_ms).toISOString().slice(0, 16).replace("T", " ")} UTC`);
      status.textContent = `${d.total.toLocaleString()} records in this window: counts per ${fmtSpan(d.bin_ms)}; brush a span to see the records.` +
        (d.people_from ? ` Lanes per person appear once the window holds ${d.people_from.toLocaleString()} records or fewer.` : "");
      detail.replaceChildren(el("p", { class: "meta", text: "Zoom in to list the records." }));
    } else {
      const pts = d.points.filter((p) => row.has(p.lane));
      const days = pts.filter((p) => p.day_only), inst = pts.filter((p) => !p.day_only);
      // a date-only record spans its day (it sits at noon UTC of its own date)
      g.append("g").selectAll("rect").data(days).join("rect").attr("class", "tl-day")
        .attr("x", (p) => x(p.t - DAY / 2)).attr("width", (p) => Math.max(3, x(p.t + DAY / 2) - x(p.t - DAY / 2)))
        .attr("y", (p) => yOf(p.lane) - 5).attr("height", 10).attr("fill", (p) => COLOURS[p.kind] || "#555").attr("fill-opacity", 0.35)
        .attr("stroke", (p) => COLOURS[p.kind] || "#555").append("title").text((p) => `${p.time} · ${p.text}`);
      g.append("g").selectAll("circle").data(inst).join("circle").attr("class", "tl-point")
        .attr("cx", (p) => x(p.t)).attr("cy", (p) => yOf(p.lane)).attr("r", 4).attr("fill", (p) => COLOURS[p.kind] || "#555")
        .append("title").text((p) => `${p.time} · ${p.text}`);
      status.textContent = `${casegraph.plural(d.total, "record")} in this window.`;
      listRecords(pts);
    }
    if (row.has("f:findings")) {
      const y = yOf("f:findings");
      g.append("g").selectAll("line").data(d.findings).join("line").attr("class", "tl-finding")
        .attr("x1", (f) => x(Math.max(f.t0, d.window[0]))).attr("x2", (f) => Math.max(x(Math.max(f.t0, d.window[0])) + 3, x(Math.min(f.t1, d.window[1]))))
        .attr("y1", (f, i) => y - 8 + (i % 5) * 4).attr("y2", (f, i) => y - 8 + (i % 5) * 4).attr("stroke", "#555").attr("stroke-width", 3)
        .append("title").text((f) => `${f.kind}: ${f.title} (${casegraph.plural(f.dated, "dated record")} cited)`);
    }
    svg.append("g").attr("transform", `translate(0,${H - axisH})`).call(d3.axisBottom(x).ticks(Math.floor(W / 110)));
    const brush = d3.brushX().extent([[left, top], [W - right, H - axisH]]).on("end", (ev) => {
      if (!ev.selection) return;
      const [a, b] = ev.selection.map((v) => x.invert(v).getTime());
      if (b - a < 60000) return;
      win = [a, b];
      load();
    });
    svg.append("g").attr("class", "brush").call(brush);
    chart.append(svg.node());
    legend.replaceChildren(...Object.entries(COLOURS).map(([k, c]) => { const i = el("i"); i.style.background = c; return el("span", {}, i, k); }),
      el("span", { text: "bar: a date without a time (its whole day)" }), el("span", { text: "grey lines: findings, from the first to the last dated record they cite" }));
  }

  function fmtSpan(ms) {
    if (ms >= DAY) return `${casegraph.plural(Math.round(ms / DAY), "day")}`;
    if (ms >= 3600000) return `${casegraph.plural(Math.round(ms / 3600000), "hour")}`;
    return `${casegraph.plural(Math.max(1, Math.round(ms / 60000)), "minute")}`;
  }

  function listRecords(pts) {
    const seen = new Set(), t = el("table", { class: "grid", id: "tl-records" });
    t.append(el("thead", {}, el("tr", {}, ...["When (as recorded)", "Kind", "Record", ""].map((h) => el("th", { text: h })))));
    const tb = el("tbody");
    pts.forEach((p) => {
      if (seen.has(p.record)) return;
      seen.add(p.record);
      const a = el("a", { href: "/source?record=" + encodeURIComponent(p.record), text: "source" });
      tb.append(el("tr", {}, el("td", { text: p.time }), el("td", { text: p.kind }), el("td", { text: p.text }), el("td", {}, a)));
    });
    t.append(tb);
    detail.replaceChildren(t);
  }

  document.getElementById("tl-filters").addEventListener("change", () => load());
  document.getElementById("tl-reset").addEventListener("click", () => { win = null; load(); });
  load();
})();
