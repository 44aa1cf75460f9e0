// Interactive pictures in the HTML report: Cytoscape.js (network) and d3 (timeline), both inlined
// above this script. The positions come from the report (the same layout as the static picture,
// which is what prints and what the PDF shows). Nothing is fetched.
(function () {
  "use strict";
  function json(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  function live(id) {  // show the interactive copy; the static one stays for printing
    var box = document.getElementById(id + "-live");
    box.hidden = false;
    document.getElementById(id + "-static").classList.add("print-only");
    return box;
  }

  // ---------------------------------------------------------------- network
  var els = json("network-data");
  if (els && window.cytoscape) {
    var box = live("network"), host = box.querySelector(".cy"), status = document.getElementById("network-status");
    var cy = window.cytoscape({
      container: host, elements: els, layout: { name: "preset" }, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 8,
      boxSelectionEnabled: false, autoungrabify: true,
      style: [
        { selector: "node", style: { "background-color": "data(colour)", width: "data(size)", height: "data(size)", label: "data(name)",
          "font-size": 9, "text-outline-color": "#fff", "text-outline-width": 1.5, "text-halign": "right", "text-valign": "center", "text-margin-x": 3, color: "#111",
          "font-family": "Noto Sans, Noto Sans Sinhala Embedded, Noto Sans Tamil Embedded, DejaVu Sans, sans-serif" } },
        { selector: "edge", style: { width: "data(width)", "line-color": "data(colour)", "target-arrow-color": "data(colour)",
          "target-arrow-shape": "triangle", "arrow-scale": 0.9, "curve-style": "bezier", "control-point-step-size": 8,
          label: "data(label)", "font-size": 8, "text-margin-x": "data(mx)", "text-margin-y": "data(my)", color: "#6e2c00",
          "text-outline-color": "#fff", "text-outline-width": 1.5, "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": 1 } },
        { selector: "edge[!mx]", style: { "text-margin-x": 0, "text-margin-y": 0 } },
        { selector: ".faded", style: { opacity: 0.12 } },
        { selector: "node.hot", style: { "border-width": 3, "border-color": "#f1c40f" } }
      ]
    });
    var order = cy.nodes().sort(function (a, b) { return a.data("name").localeCompare(b.data("name")); }), current = -1;
    function fit() { cy.fit(undefined, 12); }
    function clear() { cy.elements().removeClass("faded hot"); current = -1; status.textContent = ""; }
    function highlight(node) {
      var near = node.closedNeighborhood();
      cy.elements().addClass("faded").removeClass("hot");
      near.removeClass("faded");
      node.addClass("hot");
      status.textContent = node.data("tip") + "; tied to " + (near.nodes().length - 1) + " part" + (near.nodes().length === 2 ? "y" : "ies");
    }
    function reset() { clear(); fit(); }
    fit();
    cy.on("tap", "node", function (e) {
      if (e.target.hasClass("hot")) { clear(); return; }
      current = order.indexOf(e.target); highlight(e.target);
    });
    cy.on("tap", function (e) { if (e.target === cy) clear(); });
    cy.on("mouseover", "node, edge", function (e) { host.title = e.target.data("tip"); });
    cy.on("mouseout", "node, edge", function () { host.title = ""; });
    box.querySelector("button.reset").addEventListener("click", reset);
    host.addEventListener("keydown", function (e) {
      var w = host.clientWidth, h = host.clientHeight, k = e.key, step = 40;
      var centre = { x: w / 2, y: h / 2 };
      if (k === "+" || k === "=") cy.zoom({ level: cy.zoom() * 1.2, renderedPosition: centre });
      else if (k === "-" || k === "_") cy.zoom({ level: cy.zoom() / 1.2, renderedPosition: centre });
      else if (k === "ArrowLeft") cy.panBy({ x: step, y: 0 });
      else if (k === "ArrowRight") cy.panBy({ x: -step, y: 0 });
      else if (k === "ArrowUp") cy.panBy({ x: 0, y: step });
      else if (k === "ArrowDown") cy.panBy({ x: 0, y: -step });
      else if (k === "0" || k === "Home") reset();
      else if (k === "Escape") clear();
      else if (k === "n" || k === "N" || k === "p" || k === "P") {
        current = (current + (k.toLowerCase() === "n" ? 1 : order.length - 1)) % order.length;
        highlight(order[current]);
      } else return;
      e.preventDefault();
    });
    window.casegraphNetwork = cy;  // for the browser tests
  }

  // ---------------------------------------------------------------- timeline
  var tl = json("timeline-data");
  if (tl && tl.points.length && window.d3) {
    var d3 = window.d3, L = tl.layout, tbox = live("timeline");
    var W = L.width, H = L.top + L.lane * tl.lanes.length + L.axis;
    var t0 = d3.min(tl.points, function (p) { return p.t; }), t1 = d3.max(tl.points, function (p) { return p.t; });
    if (t0 === t1) { t0 -= 3600000; t1 += 3600000; }
    var x = d3.scaleUtc().domain([t0, t1]).range([L.left, W - L.right]);
    var svg = d3.select(tbox.querySelector(".tl")).append("svg").attr("class", "timeline live").attr("viewBox", "0 0 " + W + " " + H)
      .attr("role", "img").attr("aria-label", "Timeline, interactive");
    svg.append("clipPath").attr("id", "tl-clip").append("rect").attr("x", L.left - 6).attr("y", -H).attr("width", W - L.left - L.right + 12).attr("height", 2 * H);  // lane-local units
    var off = {};
    var lanes = svg.selectAll("g.lane").data(tl.lanes).join("g").attr("class", "lane").attr("data-lane", function (l) { return l.key; })
      .attr("transform", function (l, i) { return "translate(0," + (L.top + L.lane * i + L.lane / 2) + ")"; });
    lanes.append("line").attr("x1", L.left).attr("x2", W - L.right).attr("stroke", "#ddd");
    lanes.append("text").attr("class", "lane-name").attr("x", 8).attr("y", 3).attr("tabindex", 0).attr("role", "button")
      .attr("aria-pressed", "true").attr("fill", function (l) { return tl.groups[l.group]; })
      .text(function (l) { return l.name; })
      .on("click", function (e, l) { toggle(l, this); })
      .on("keydown", function (e, l) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(l, this); } });
    var plot = lanes.append("g").attr("clip-path", "url(#tl-clip)");
    plot.selectAll("circle").data(function (l) { return tl.points.filter(function (p) { return p.lane === l.key; }); }).join("circle")
      .attr("r", 4).attr("fill", function (p) { return tl.colours[p.table] || "#555"; }).attr("fill-opacity", 0.75)
      .append("title").text(function (p) { return p.tip; });
    plot.selectAll("text.amount").data(function (l) { return tl.points.filter(function (p) { return p.lane === l.key && p.amount; }); })
      .join("text").attr("class", "amount").attr("fill", "#6e2c00").attr("y", -6).text(function (p) { return p.amount; });
    var axis = svg.append("g").attr("class", "axis").attr("transform", "translate(0," + (H - L.axis + 4) + ")");
    function toggle(l, el) {
      off[l.key] = !off[l.key];
      d3.select(el.parentNode).classed("off", off[l.key]);
      el.setAttribute("aria-pressed", off[l.key] ? "false" : "true");
    }
    function draw() {
      plot.selectAll("circle").attr("cx", function (p) { return x(p.t); })
        .attr("display", function (p) { var v = x(p.t); return v < L.left - 5 || v > W - L.right + 5 ? "none" : null; });
      plot.each(function () {  // amounts where they do not run into the one before
        var end = -1e9;
        d3.select(this).selectAll("text.amount").attr("display", null).attr("x", function (p) {
          var v = x(p.t), w = this.getComputedTextLength();  // inside the plot at both ends of the axis
          return Math.min(Math.max(v - w / 2, L.left - 4), W - L.right - w + 4);
        }).attr("display", function (p) {
          var v = x(p.t), s = +this.getAttribute("x"), w = this.getComputedTextLength();
          if (v < L.left - 5 || v > W - L.right + 5 || s < end + 2) return "none";
          end = s + w; return null;
        });
      });
      axis.call(d3.axisBottom(x).ticks(6).tickSizeOuter(0));
    }
    var brush = d3.brushX().extent([[L.left, 0], [W - L.right, H - L.axis]]).on("end", function (e) {
      if (!e.selection) return;
      var a = x.invert(e.selection[0]), b = x.invert(e.selection[1]);
      if (b - a > 1000) { x.domain([a, b]); draw(); }
      svg.select("g.brush").call(brush.move, null);
    });
    svg.insert("g", "g.lane").attr("class", "brush").call(brush);
    function treset() {
      x.domain([t0, t1]); off = {};
      svg.selectAll("g.lane").classed("off", false);
      svg.selectAll("text.lane-name").attr("aria-pressed", "true");
      draw();
    }
    tbox.querySelector("button.reset").addEventListener("click", treset);
    draw();
    window.casegraphTimeline = { domain: function () { return x.domain().map(Number); }, reset: treset };
  }
})();
