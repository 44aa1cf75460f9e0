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
