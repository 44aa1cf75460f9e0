// Report builder: POST /api/report/build with the chosen items, the interpretation and the redaction;
// shows the files written (with their SHA-256) and the bundle's verification verdict.
"use strict";
(function () {
  const { post, el, toast } = window.casegraph;
  const form = document.getElementById("report-form"), out = document.getElementById("build-result");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = document.getElementById("build");
    if (!btn) return;
    btn.disabled = true;
    out.replaceChildren(el("p", { class: "meta", text: "rendering the report and the bundle (this takes a while)…" }));
    try {
      const r = await post("/api/report/build", {
        items: [...form.querySelectorAll('input[name="item"]:checked')].map((x) => x.value),
        interpretation: document.getElementById("interpretation").value,
        redact: document.getElementById("redact").checked,
        bundle: document.getElementById("bundle").checked,
      });
      const files = el("ul");
      r.report.forEach((f) => files.append(el("li", {}, el("code", { text: f.name }), " SHA-256 ", el("code", { class: "sha", text: f.sha256 }))));
      const parts = [el("h3", { text: `Report as of custody event ${r.as_of_seq}${r.redacted ? " (redacted)" : ""}, signed by key ${r.signer}` }), files];
      if (r.bundle) {
        const v = r.verify;
        parts.push(el("h3", { text: `Bundle ${r.bundle.name}` }));
        parts.push(el("p", {}, el("span", { id: "verify-verdict", class: v.verdict === "VERIFIED" ? "verify-ok" : "verify-bad", text: v.verdict }),
          v.trusted_as ? ` · signed by ${v.signer_fingerprint}, trusted: ${v.trusted_as}` : ""));
        const checks = el("ul", { class: "checks" });
        v.checked.forEach((c) => checks.append(el("li", { text: "✓ " + c })));
        v.problems.forEach((c) => checks.append(el("li", { class: "bad", text: "✗ " + c })));
        v.notes.forEach((c) => checks.append(el("li", { class: "meta", text: c })));
        parts.push(checks);
      }
      out.replaceChildren(...parts);
      toast("report written and logged in custody");
    } catch (e) {
      out.replaceChildren();
    } finally { btn.disabled = false; }
  });
})();
