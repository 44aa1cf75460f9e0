"use strict";
// every decision needs a reason: it goes into the custody log with the user's name
function reasonOf(box) {
  const r = box.querySelector("input.reason");
  if (!r || !r.value.trim()) { casegraph.toast("a reason is required (it is recorded in the custody log)", true); return null; }
  return r.value;
}
document.querySelectorAll("section.pair").forEach((sec) => {
  const go = async (url, done) => {
    const reason = reasonOf(sec);
    if (reason === null) return;
    await casegraph.post(url, { a: sec.dataset.a, b: sec.dataset.b, reason });
    casegraph.toast(done);
    window.location.reload();
  };
  const m = sec.querySelector("button.merge"), k = sec.querySelector("button.apart");
  if (m) m.addEventListener("click", () => go("/api/review/merge", "merged"));
  if (k) k.addEventListener("click", () => go("/api/review/keep-apart", "kept apart"));
});
document.querySelectorAll("tr[data-finding] button.verdict").forEach((b) => {
  b.addEventListener("click", async () => {
    const row = b.closest("tr");
    const reason = reasonOf(row);
    if (reason === null) return;
    await casegraph.post("/api/findings/decide", { finding: row.dataset.finding, verdict: b.dataset.verdict, reason });
    casegraph.toast(b.dataset.verdict);
    window.location.reload();
  });
});
const mark = document.getElementById("mark");
if (mark) mark.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(mark);
  await casegraph.post("/api/people/mark", { entity: f.get("entity"), role: f.get("role"), reason: f.get("reason") });
  casegraph.toast(`marked as ${f.get("role")}`);
  window.location.reload();
});
