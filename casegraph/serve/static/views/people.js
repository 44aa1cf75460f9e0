"use strict";
const mark = document.getElementById("mark");
if (mark) mark.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(mark);
  await casegraph.post("/api/people/mark", { entity: mark.dataset.entity, role: f.get("role"), reason: f.get("reason") });
  casegraph.toast(`marked as ${f.get("role")}`);
  window.location.reload();
});
