"use strict";
// a chat: tag a message with a note (logged in custody with the user), and bring the asked-for message into view
document.querySelectorAll("button.tag").forEach((b) => {
  b.addEventListener("click", async () => {
    const note = window.prompt("Note for this message (it is recorded in the custody log with your name):");
    if (!note || !note.trim()) return;
    await casegraph.post("/api/tags", { record: b.dataset.record, note: note });
    casegraph.toast("tagged");
    window.location.reload();
  });
});
const at = document.getElementById("at");
if (at) at.scrollIntoView({ block: "center" });
// a picture this build cannot make a thumbnail of (HEIC, damaged, altered): its typed icon instead of a broken image
function noThumb(img) {
  const icon = casegraph.el("span", { class: "media-icon kind-image", title: "no thumbnail could be made of this file", text: "image" });
  img.closest("a.thumb").replaceWith(icon);
}
document.querySelectorAll("img.thumb").forEach((img) => {
  if (img.complete && img.naturalWidth === 0 && img.src) noThumb(img);
  else img.addEventListener("error", () => noThumb(img), { once: true });
});
