"use strict";
const rebuild = document.getElementById("rebuild");
if (rebuild) rebuild.addEventListener("click", async () => {
  rebuild.disabled = true;
  const r = await casegraph.post("/api/search/index");
  casegraph.toast(`index built: ${r.docs} records (logged in custody)`);
  window.location.reload();
});
