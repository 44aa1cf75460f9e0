// casegraph workspace: what every page shares. No inline scripts anywhere (the CSP forbids them):
// each view has its own file under /static/views/, and data reaches scripts through data-* attributes.
"use strict";
window.casegraph = (function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // "1 record", "3 records": a count with the right plural, never "record(s)"
  function plural(n, word, many) {
    return `${Number(n).toLocaleString()} ${Number(n) === 1 ? word : (many || word + "s")}`;
  }

  function toast(text, bad) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    t.className = bad ? "show bad" : "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.className = ""; }, 6000);
  }

  // every write: JSON body, the session's CSRF token in a header; errors come back as {"error": "..."}
  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = { error: await r.text().catch(() => r.statusText) }; }
    if (!r.ok) { const msg = (data && data.error) || r.statusText; toast(msg, true); throw new Error(msg); }
    return data;
  }

  async function get(url) {
    const r = await fetch(url, { credentials: "same-origin" });
    const data = await r.json();
    if (!r.ok) { toast(data.error || r.statusText, true); throw new Error(data.error || r.statusText); }
    return data;
  }

  // <form data-csrf-form> posts with the token (the logout form)
  document.querySelectorAll("form[data-csrf-form]").forEach((f) => {
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await fetch(f.action, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
      window.location = r.url || "/";
    });
  });

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  return { csrf, post, get, toast, el, plural };
})();
