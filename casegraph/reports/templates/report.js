// Interactive pictures in the HTML report (the PDF shows them static). No network, no libraries.
(function () {
  document.querySelectorAll("svg.network").forEach(function (svg) {
    var vp = svg.querySelector(".viewport"), s = 1, tx = 0, ty = 0, drag = null;
    function apply() { vp.setAttribute("transform", "translate(" + tx + "," + ty + ") scale(" + s + ")"); }
    svg.addEventListener("wheel", function (e) { e.preventDefault(); s = Math.max(0.3, Math.min(8, s * (e.deltaY < 0 ? 1.15 : 0.87))); apply(); });
    svg.addEventListener("mousedown", function (e) { drag = [e.clientX - tx, e.clientY - ty]; });
    window.addEventListener("mouseup", function () { drag = null; });
    svg.addEventListener("mousemove", function (e) { if (drag) { tx = e.clientX - drag[0]; ty = e.clientY - drag[1]; apply(); } });
    svg.querySelectorAll(".node").forEach(function (node) {
      node.addEventListener("click", function (e) {
        e.stopPropagation();
        var id = node.getAttribute("data-id"), on = !node.classList.contains("hot") || !svg.classList.contains("focus");
        svg.querySelectorAll(".hot").forEach(function (el) { el.classList.remove("hot"); });
        svg.classList.toggle("focus", on);
        if (!on) return;
        node.classList.add("hot");
        svg.querySelectorAll("line[data-a]").forEach(function (l) {
          var a = l.getAttribute("data-a"), b = l.getAttribute("data-b");
          if (a === id || b === id) {
            l.classList.add("hot");
            svg.querySelectorAll(".node").forEach(function (n) {
              var nid = n.getAttribute("data-id"); if (nid === a || nid === b) n.classList.add("hot");
            });
          }
        });
      });
    });
  });
  document.querySelectorAll("svg.timeline .lane text").forEach(function (t) {
    t.addEventListener("click", function () { t.parentNode.classList.toggle("off"); });
  });
})();
