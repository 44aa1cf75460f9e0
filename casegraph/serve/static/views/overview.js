"use strict";
document.getElementById("verify").addEventListener("click", async (ev) => {
  const out = document.getElementById("verify-result");
  ev.target.disabled = true;
  out.textContent = "verifying…";
  try {
    const v = await casegraph.post("/api/custody/verify");
    out.textContent = `${v.verdict}: ${v.events} events, ${v.exhibits_checked} exhibits re-hashed, ${v.segments_checked} segments, ` +
      `${v.runs_checked} parse runs, ${v.tables_checked} derived tables` + (v.logged ? " (logged)" : " (not logged: read-only)");
    out.className = v.ok ? "ok" : "bad";
    (v.problems || []).forEach((p) => out.append(casegraph.el("div", { class: "bad", text: p })));
  } catch (e) {
    out.textContent = "";
  } finally {
    ev.target.disabled = false;
  }
});
