// Map: Natural Earth country outlines (world-atlas, served from /vendor) projected with d3-geo; the case's
// locations (GET /api/map/places) as points coloured by the kind of evidence. Nothing is fetched elsewhere.
"use strict";
(function () {
  const { get, el } = window.casegraph;
  const box = document.getElementById("map"), status = document.getElementById("map-status");
  const list = document.getElementById("map-list"), kindSel = document.getElementById("map-kind");
  const COLOURS = { "shared-location": "#c0392b", "live-location": "#e67e22", venue: "#7d3c98", "map-link": "#2471a3", exif: "#1e8449", ufdr: "#17202e" };
  let world = null, zoom = null, svg = null, projection = null, W = 0, H = 0, data = null;

  async function boot() {
    const topo = await get("/vendor/countries-50m.json");
    world = topojson.feature(topo, topo.objects.countries);
    const borders = topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b);
    W = Math.max(700, box.clientWidth || 1100); H = Math.round(W * 0.55);
    projection = d3.geoEquirectangular().fitSize([W, H], { type: "Sphere" });
    const path = d3.geoPath(projection);
    svg = d3.create("svg").attr("viewBox", `0 0 ${W} ${H}`).attr("width", W).attr("height", H).attr("role", "img").attr("aria-label", "map of the case's locations");
    const g = svg.append("g").attr("class", "zoomable");
    g.append("path").attr("d", path({ type: "Sphere" })).attr("fill", "#dfeaf3");
    g.append("path").attr("class", "land").attr("d", path(world)).attr("fill", "#f4f1ea").attr("stroke", "#b9b2a3").attr("stroke-width", 0.4);
    g.append("path").attr("d", path(borders)).attr("fill", "none").attr("stroke", "#b9b2a3").attr("stroke-width", 0.3);
    g.append("g").attr("class", "places");
    zoom = d3.zoom().scaleExtent([1, 4000]).on("zoom", (ev) => {
      g.attr("transform", ev.transform);
      g.selectAll("path").attr("stroke-width", 0.4 / ev.transform.k);
      g.selectAll("circle.place").attr("r", 5 / ev.transform.k).attr("stroke-width", 1 / ev.transform.k);
    });
    svg.call(zoom);
    box.append(svg.node());
    await load();
  }

  async function load() {
    // a person's map (the profile) asks only for their locations (profile.PLACES)
    const q = new URLSearchParams();
    if (kindSel.value) q.set("kind", kindSel.value);
    if (box.dataset.person) q.set("person", box.dataset.person);
    data = await get("/api/map/places" + (q.toString() ? "?" + q : ""));
    if (kindSel.options.length === 1) data.kinds.forEach((k) => kindSel.append(el("option", { value: k.kind, text: `${k.kind} (${k.n})`, title: k.meaning })));
    const pts = data.places.map((p) => ({ ...p, xy: projection([Number(p.lon), Number(p.lat)]) }));
    svg.select("g.places").selectAll("circle").data(pts, (p) => p.id).join("circle").attr("class", "place")
      .attr("cx", (p) => p.xy[0]).attr("cy", (p) => p.xy[1]).attr("r", 5).attr("fill", (p) => COLOURS[p.source_kind] || "#333")
      .attr("fill-opacity", 0.85).attr("stroke", "#fff").attr("stroke-width", 1)
      .selectAll("title").data((p) => [p]).join("title")
      .text((p) => `${p.source_kind}: ${p.lat}, ${p.lon}${p.label ? " · " + p.label : ""}\n${p.time}${p.who_name || p.who ? " · " + (p.who_name || p.who) : ""}${p.accuracy_m ? " · ±" + p.accuracy_m + " m" : ""}`);
    status.textContent = (data.withheld ? `${casegraph.plural(data.withheld, "location")} of protected persons withheld. ` : "") + (data.total ? `${data.shown} of ${casegraph.plural(data.total, "location")} shown.` : (box.dataset.person ? "No location is joined to this person (none came with a message they sent, and none names one of their identifiers)." : "No locations in this case (the parsers found no shared location, map link, EXIF GPS tag or report location)."));
    legend(data.kinds);
    table(data.places);
    fit();
  }

  function fit() {
    const pts = svg.selectAll("circle.place").data();
    if (!pts.length) { svg.call(zoom.transform, d3.zoomIdentity); return; }
    const xs = pts.map((p) => p.xy[0]), ys = pts.map((p) => p.xy[1]);
    const [x0, x1, y0, y1] = [d3.min(xs), d3.max(xs), d3.min(ys), d3.max(ys)];
    const k = Math.min(400, 0.8 / Math.max((x1 - x0) / W, (y1 - y0) / H, 1 / 400));
    const t = d3.zoomIdentity.translate(W / 2, H / 2).scale(k).translate(-(x0 + x1) / 2, -(y0 + y1) / 2);
    svg.call(zoom.transform, t);
  }

  function legend(kinds) {
    const box2 = document.getElementById("map-legend");
    box2.replaceChildren(...kinds.map((k) => { const i = el("i"); i.style.background = COLOURS[k.kind] || "#333"; return el("span", { title: k.meaning }, i, `${k.kind} (${k.n})`); }));
  }

  function table(rows) {
    if (!rows.length) { list.replaceChildren(); return; }
    const t = el("table", { class: "grid", id: "map-rows" });
    t.append(el("thead", {}, el("tr", {}, ...["When (as recorded)", "Kind", "Latitude, longitude", "Place", "Who", ""].map((h) => el("th", { text: h })))));
    const tb = el("tbody");
    rows.slice(0, 300).forEach((p) => tb.append(el("tr", {}, el("td", { text: p.time }), el("td", { text: p.source_kind }),
      el("td", { text: `${p.lat}, ${p.lon}${p.accuracy_m ? " (±" + p.accuracy_m + " m)" : ""}` }), el("td", { text: [p.label, p.address].filter(Boolean).join(", ") }),
      el("td", { text: p.who_name || p.who || "" }), el("td", {}, el("a", { href: "/source?record=" + encodeURIComponent(p.id), text: "source" })))));
    t.append(tb);
    list.replaceChildren(t);
    if (rows.length > 300) list.append(el("p", { class: "meta", text: `The first 300 of ${rows.length} listed.` }));
  }

  kindSel.addEventListener("change", load);
  document.getElementById("map-fit").addEventListener("click", fit);
  document.getElementById("map-world").addEventListener("click", () => svg.call(zoom.transform, d3.zoomIdentity));
  boot();
})();
