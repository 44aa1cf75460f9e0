// casegraph portable case viewer: read-only views over the case database in case-data.js (SQLite, read
// with sql.js). Every view queries one page of rows: nothing loads more than it shows.
"use strict";
(function () {
  const PAGE = 50;
  let db = null;
  const view = document.getElementById("view");

  // -- helpers ------------------------------------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  function rows(sql, params) {
    const st = db.prepare(sql);
    try {
      st.bind(params || []);
      const out = [];
      while (st.step()) out.push(st.getAsObject());
      return out;
    } finally { st.free(); }
  }
  const one = (sql, params) => rows(sql, params)[0];
  const meta = (k) => (one("SELECT value FROM meta WHERE key = ?", [k]) || {}).value;
  // the same normalisation as the database's search column (casegraph.ai.lexicon.normalise): NFC, lower
  // case, zero-width joiners dropped, single spaces. Combining vowel signs (Sinhala, Tamil) are kept.
  const norm = (s) => s.normalize("NFC").replace(/[\u200b\u200c\u200d\ufeff]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  const link = (hash, ...kids) => h("a", { href: hash }, ...kids);
  const recLink = (id, text) => link("#/record/" + encodeURIComponent(id), text || "source");
  function route(name, args) {
    const q = Object.entries(args || {}).filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");
    return "#/" + name + (q ? "?" + q : "");
  }
  function pager(total, page, go) {
    const pages = Math.max(1, Math.ceil(total / PAGE));
    return h("div", { class: "pager" },
      h("button", { disabled: page <= 0, onclick: () => go(page - 1) }, "◀ previous"),
      h("span", { class: "muted" }, `page ${page + 1} of ${pages} (${total.toLocaleString("en")} in all, ${PAGE} a page)`),
      h("button", { disabled: page + 1 >= pages, onclick: () => go(page + 1) }, "next ▶"));
  }
  function highlight(text, terms) {
    // marks each term where the normalised text has it; the text itself is shown as recorded
    const out = h("span", {});
    const t = String(text || "");
    const low = t.normalize("NFC").toLowerCase();
    if (low.length !== t.length || !terms.length) { out.append(t); return out; }
    const marks = [];
    for (const term of terms) { let i = low.indexOf(term); while (i >= 0) { marks.push([i, i + term.length]); i = low.indexOf(term, i + term.length); } }
    marks.sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [a, b] of marks) { if (a < at) continue; out.append(t.slice(at, a), h("mark", {}, t.slice(a, b))); at = b; }
    out.append(t.slice(at));
    return out;
  }
  const exhibitLabel = (ref) => { const e = one("SELECT exhibit_id, name FROM exhibits WHERE n = ? OR sha256 = ?", [ref, ref]); return e ? `${e.exhibit_id} ${e.name || ""}` : String(ref || "").slice(0, 16); };
  const toHex = (b) => (b instanceof Uint8Array ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : "");

  // media thumbnails embedded in the database (PNG made from bytes that still hashed as recorded, no metadata)
  function thumbsLine() {
    const t = JSON.parse(meta("thumbs") || "{}");
    if (!t.pictures) return "No picture inside an exhibit is attached to a message.";
    return `${t.embedded} of ${t.pictures} pictures attached to messages are shown as thumbnails (${Math.round((t.bytes || 0) / 1024)} KiB)` +
      (t.left_out ? `; ${t.left_out} left out: ${t.why}` : "") + (t.failed ? `; ${t.failed} could not be made (not readable as an image)` : "") + ".";
  }
  function thumb(sha) {
    const t = sha && one("SELECT png FROM thumbs WHERE sha256 = ?", [sha]);
    if (!t) return null;
    let bin = "";
    for (let i = 0; i < t.png.length; i += 0x8000) bin += String.fromCharCode.apply(null, t.png.subarray(i, i + 0x8000));
    return h("img", { class: "thumb", src: "data:image/png;base64," + btoa(bin), alt: "thumbnail of the attached picture", title: "thumbnail; SHA-256 of the file as found: " + sha });
  }
  const MEDIA_KINDS = [[/\.(jpe?g|png|gif|webp|heic|bmp)$/i, "image"], [/\.(opus|m4a|aac|mp3|ogg|amr|wav)$/i, "audio"], [/\.(mp4|3gp|mov|mkv|avi)$/i, "video"],
    [/\.(pdf|docx?|xlsx?|pptx?|txt|odt|rtf|csv)$/i, "document"], [/\.(zip|rar|7z|gz|tar)$/i, "archive"], [/\.vcf$/i, "contact"]];
  const mediaKind = (name) => (MEDIA_KINDS.find(([re]) => re.test(name || "")) || [null, "other"])[1];  // as casegraph.thumbnails.kind_of

  // -- overview -----------------------------------------------------------------------------------
  function overview() {
    const c = JSON.parse(meta("case")), v = JSON.parse(meta("verdict")), asOf = JSON.parse(meta("as_of"));
    const counts = JSON.parse(meta("counts"));
    const box = h("div", { class: "box " + (v.ok ? "ok" : "bad") },
      h("h3", {}, "Verification state when this viewer was built"),
      h("p", {}, `The viewer was built with the bundle, from the case as of custody event ${asOf.seq} (${asOf.time.slice(0, 19).replace("T", " ")} UTC), and the case was verified then. `,
        v.ok ? `The case verified: custody chain of ${v.events} events intact, ${v.exhibits_checked} exhibits re-hashed, ` +
        `${v.segments_checked} segments and ${v.tables_checked} tables checked against the digests recorded when they were written.`
        : `The case did NOT verify at build time: ${v.problems.length} problem(s).`),
      v.problems.length ? h("ul", {}, v.problems.map((p) => h("li", {}, p))) : null,
      v.override ? h("p", {}, `Reported anyway on the examiner's override by ${v.override.actor}: ${v.override.reason}`) : null,
      v.warnings.length ? h("ul", {}, v.warnings.map((p) => h("li", { class: "muted" }, p))) : null,
      h("p", {}, v.reparse),
      h("p", { class: "small" }, "This is the state at build time, as recorded; this page cannot check itself. To check that this bundle ",
        "(this viewer and its data included) is complete, unaltered and signed by the examiner, run ",
        h("code", {}, "casegraph verify BUNDLE_DIRECTORY --expect-key FINGERPRINT"), " (see ../README.txt)."));
    const ex = rows("SELECT * FROM exhibits ORDER BY exhibit_id, name");
    const fnd = rows("SELECT kind, count(*) AS n FROM findings GROUP BY kind ORDER BY n DESC, kind");
    return [
      h("h2", {}, `Case ${c.case_no}: ${c.title}`),
      h("p", {}, `Examiner ${c.examiner}${c.agency ? ", " + c.agency : ""}. Devices' time zone ${c.timezone}. ` +
        `The case as of custody event ${asOf.seq} (${asOf.hash}).` + (meta("redacted") === "yes" ? " Victim-protected copy: persons marked victim, witness or minor are shown under pseudonyms." : "")),
      box,
      h("h3", {}, "Exhibits"),
      h("table", {}, h("tr", {}, ["exhibit", "file", "format", "bytes", "SHA-256", "seized from"].map((x) => h("th", {}, x))),
        ex.map((e) => h("tr", {}, h("td", {}, e.exhibit_id), h("td", {}, e.name), h("td", {}, e.format),
          h("td", { class: "num" }, Number(e.size).toLocaleString("en")), h("td", { class: "hash" }, e.sha256), h("td", {}, e.seized_from || "")))),
      h("h3", {}, "Records"),
      h("table", {}, Object.entries(counts).map(([k, n]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, n.toLocaleString("en"))))),
      h("h3", {}, "Media thumbnails"),
      h("p", { class: "small", id: "thumbs-state" }, thumbsLine()),
      h("h3", {}, "Findings in the report"),
      h("table", {}, fnd.map((f) => h("tr", {}, h("td", {}, f.kind), h("td", { class: "num" }, f.n)))),
    ];
  }

  // -- conversations ------------------------------------------------------------------------------
  function chats(args) {
    const page = Number(args.p || 0);
    const total = one("SELECT count(*) AS n FROM chats").n;
    const list = rows("SELECT * FROM chats ORDER BY last_utc DESC, name LIMIT ? OFFSET ?", [PAGE, page * PAGE]);
    const side = h("div", { class: "side list" }, h("h3", {}, "Conversations"),
      list.map((c) => h("a", { class: "item" + (String(c.n) === args.chat ? " on" : ""), href: route("chats", { chat: c.n }) },
        h("b", {}, c.name || "(no name)"), h("div", { class: "small muted" }, `${c.platform} · ${c.messages} messages · ${exhibitLabel(c.exhibit)}`))),
      total > PAGE ? pager(total, page, (p) => (location.hash = route("chats", { p }))) : null);
    const main = h("div", { class: "grow" });
    if (args.chat) main.append(...thread(args));
    else main.append(h("p", { class: "muted" }, "Choose a conversation."));
    return [h("div", { class: "cols" }, side, main)];
  }

  function thread(args) {
    const chat = one("SELECT * FROM chats WHERE n = ?", [Number(args.chat)]);
    if (!chat) return [h("p", {}, "No such conversation in this case.")];
    const where = ["chat = ?"], params = [chat.n];
    if (args.who) { where.push("sender = ?"); params.push(args.who); }
    if (args.q) { for (const t of norm(args.q).split(" ")) { where.push("n IN (SELECT n FROM search WHERE instr(norm, ?) > 0)"); params.push(t); } }
    const w = where.join(" AND ");
    const total = one(`SELECT count(*) AS n FROM messages WHERE ${w}`, params).n;
    let page = args.p !== undefined ? Number(args.p) : 0;
    if (args.at !== undefined && args.p === undefined) page = Math.floor(one(`SELECT count(*) AS n FROM messages WHERE ${w} AND pos < ?`, [...params, Number(args.at)]).n / PAGE);
    if (args.day && args.p === undefined) page = Math.floor(one(`SELECT count(*) AS n FROM messages WHERE ${w} AND day < ?`, [...params, args.day]).n / PAGE);
    const msgs = rows(`SELECT * FROM msg WHERE ${w} ORDER BY pos LIMIT ? OFFSET ?`, [...params, PAGE, page * PAGE]);
    const go = (extra) => (location.hash = route("chats", { chat: args.chat, who: args.who, q: args.q, ...extra }));
    const senders = JSON.parse(chat.senders || "[]");
    const qBox = h("input", { type: "search", placeholder: "search in this chat", value: args.q || "" });
    const dayBox = h("input", { type: "date", value: args.day || "" });
    const who = h("select", { onchange: () => (location.hash = route("chats", { chat: args.chat, who: who.value, q: args.q })) },
      h("option", { value: "" }, "everyone"), senders.map((s) => h("option", { value: s, selected: s === args.who }, s)));
    const tools = h("div", { class: "pager" },
      h("form", { onsubmit: (e) => { e.preventDefault(); location.hash = route("chats", { chat: args.chat, who: args.who, q: qBox.value }); } }, qBox, h("button", {}, "find")),
      h("label", {}, "sender ", who),
      h("form", { onsubmit: (e) => { e.preventDefault(); if (dayBox.value) location.hash = route("chats", { chat: args.chat, who: args.who, q: args.q, day: dayBox.value }); } },
        "jump to ", dayBox, h("button", {}, "go")));
    const box = h("div", { class: "thread", id: "thread" });
    let lastDay = null;
    const terms = args.q ? norm(args.q).split(" ") : [];
    for (const m of msgs) {
      if (m.day !== lastDay) { box.append(h("div", { class: "day" }, h("span", {}, m.day || "no date"))); lastDay = m.day; }
      const hover = (m.utc ? `UTC ${m.utc}` : "no UTC time") + (m.zone ? ` · ${m.zone}` : "") + ` · recorded ${m.local || "without a time"}`;
      const when = h("span", { title: hover }, m.local ? m.local.slice(11, 16) || m.local : "no time");
      const meta = h("div", { class: "meta" }, m.edited ? h("span", { class: "tag ed" }, "edited") : null, when, " · ", recLink(m.id, "source"));
      if (m.kind === "system") {
        box.append(h("div", { class: "system" + (String(m.pos) === args.at ? " hit" : ""), "data-pos": m.pos }, h("span", { class: "tag" }, "system"), highlight(m.text, terms), meta));
        continue;
      }
      const cls = "msg" + (m.direction === "outgoing" ? " out" : "") + (m.kind === "deleted" ? " deleted" : "") + (String(m.pos) === args.at ? " hit" : "");
      const media = m.media || m.media_sha256 || m.kind === "media"
        ? h("div", { class: "media" }, thumb(m.media_sha256) || h("span", { class: "tag kind-" + mediaKind(m.media) }, mediaKind(m.media)), " ", m.media || "media (no file named)", m.media_sha256 ? h("div", { class: "hash" }, "SHA-256 " + m.media_sha256)
          : h("div", { class: "muted" }, m.media ? "the file was not found in the exhibit: no hash" : "the export left the file out")) : null;
      box.append(h("div", { class: cls, "data-pos": m.pos, id: "m" + m.pos },
        h("div", { class: "who" }, m.sender || "(sender not recorded)"),
        m.kind === "deleted" ? h("span", { class: "tag del" }, "deleted") : null,
        media,
        m.text && !(m.kind === "media" && m.text === "<Media omitted>") ? h("div", { class: "body" }, highlight(m.text, terms)) : null,
        meta));
    }
    return [h("h2", {}, chat.name || "(no name)"),
      h("p", { class: "small muted" }, `${chat.platform} · ${chat.messages} messages · from exhibit ${exhibitLabel(chat.exhibit)} · times as the phone recorded them (UTC on hover)`),
      tools, pager(total, page, (p) => go({ p })), box, pager(total, page, (p) => go({ p }))];
  }

  // -- search -------------------------------------------------------------------------------------
  const TABLES = { messages: "message", ocr_text: "text from an image", contacts: "contact", transactions: "transaction", calls: "call" };
  function search(args) {
    const input = h("input", { type: "search", id: "q", size: 40, value: args.q || "", placeholder: "words in any script: English, සිංහල, தமிழ், romanised" });
    const form = h("form", { onsubmit: (e) => { e.preventDefault(); location.hash = route("search", { q: input.value }); } }, input, " ", h("button", {}, "search"));
    const out = [h("h2", {}, "Search"), form,
      h("p", { class: "small muted" }, "Messages, text read from images, contacts, calls and transaction narrations. Every word must appear (a word may be part of a longer one: பாஸ்போர்ட் finds பாஸ்போர்ட்டை). Matching ignores case; letters and vowel signs must match as written.")];
    if (!args.q || !norm(args.q)) return out;
    const terms = norm(args.q).split(" ");
    const page = Number(args.p || 0);
    const w = terms.map(() => "instr(s.norm, ?) > 0").join(" AND ");
    const total = one(`SELECT count(*) AS n FROM search s WHERE ${w}`, terms).n;
    const hits = rows(`SELECT r.* FROM (SELECT s.n FROM search s JOIN records x USING (n) WHERE ${w}
                       ORDER BY x.utc IS NULL, x.utc, s.n LIMIT ? OFFSET ?) s JOIN rec r USING (n)`, [...terms, PAGE, page * PAGE]);
    out.push(h("h3", {}, `${total.toLocaleString("en")} record(s) with these words`));
    out.push(h("div", { class: "hits", id: "hits" }, hits.map((r) => h("div", { class: "hit" },
      h("div", {}, h("span", { class: "tag" }, TABLES[r.tbl] || r.tbl), h("b", {}, highlight(r.title, terms)), " ", h("span", { class: "muted small" }, r.shown)),
      h("div", {}, highlight(r.body, terms)),
      h("div", { class: "small" }, r.chat ? link(route("chats", { chat: r.chat, at: r.pos }), "open in its thread") : null, r.chat ? " · " : null, recLink(r.id))))));
    if (total > PAGE) out.push(pager(total, page, (p) => (location.hash = route("search", { q: args.q, p }))));
    // findings whose title or summary has the words: the records they cite, whatever their language
    const fw = terms.map(() => "instr(norm, ?) > 0").join(" AND ");
    const fs = rows(`SELECT * FROM findings WHERE ${fw} ORDER BY kind, title LIMIT 20`, terms);
    if (fs.length) {
      out.push(h("h3", {}, "Findings that name these words, and the records they cite"),
        h("p", { class: "small muted" }, "Not a word match in the records: the finding's detector (for example an indicator's word list in Sinhala or Tamil) flagged them. Read the record itself."));
      const box = h("div", { class: "hits", id: "flagged" });
      for (const f of fs) {
        const cited = rows(`SELECT r.* FROM finding_records x JOIN rec r USING (n) WHERE x.finding = ? ORDER BY r.utc, r.n LIMIT 10`, [f.id]);
        box.append(h("div", { class: "hit" }, h("div", {}, h("span", { class: "tag" }, f.kind), h("b", {}, highlight(f.title, terms))),
          h("div", { class: "small muted" }, f.summary || ""),
          cited.map((r) => h("div", { class: "small cited" }, "↳ ", h("span", { class: "tag" }, TABLES[r.tbl] || r.tbl), r.body, " ",
            r.chat ? link(route("chats", { chat: r.chat, at: r.pos }), "open in its thread") : null, " · ", recLink(r.id)))));
      }
      out.push(box);
    }
    return out;
  }

  // -- people -------------------------------------------------------------------------------------
  function people(args) {
    if (args.id) return person(args.id, Number(args.p || 0));
    const page = Number(args.p || 0);
    const total = one("SELECT count(*) AS n FROM people").n;
    const list = rows(`SELECT p.*, (SELECT count(*) FROM person_identifiers i WHERE i.person = p.id) AS ids,
                       (SELECT count(*) FROM person_records r WHERE r.person = p.id) AS recs FROM people p ORDER BY label LIMIT ? OFFSET ?`, [PAGE, page * PAGE]);
    return [h("h2", {}, "People (persons resolved across the exhibits)"),
      h("table", {}, h("tr", {}, ["person", "marked", "identifiers", "records", "exhibits"].map((x) => h("th", {}, x))),
        list.map((p) => h("tr", {}, h("td", {}, link(route("people", { id: p.id }), p.label)), h("td", {}, JSON.parse(p.roles).join(", ")),
          h("td", { class: "num" }, p.ids), h("td", { class: "num" }, p.recs), h("td", { class: "num" }, JSON.parse(p.exhibits).length)))),
      total > PAGE ? pager(total, page, (p) => (location.hash = route("people", { p }))) : null];
  }

  function person(id, page) {
    const p = one("SELECT * FROM people WHERE id = ?", [id]);
    if (!p) return [h("p", {}, "No such person in this case.")];
    const ids = rows("SELECT * FROM person_identifiers WHERE person = ? ORDER BY kind, value, record", [id]);
    const money = rows("SELECT * FROM person_money WHERE person = ? ORDER BY direction, currency", [id]);
    const others = rows("SELECT * FROM person_other_accounts WHERE person = ? ORDER BY account", [id]);
    const names = JSON.parse(p.names);
    const recs = rows(`SELECT r.* FROM (SELECT n FROM person_records WHERE person = ? ORDER BY utc, n LIMIT ? OFFSET ?) x JOIN rec r USING (n)`, [id, PAGE, page * PAGE]);
    const nrec = one("SELECT count(*) AS n FROM person_records WHERE person = ?", [id]).n;
    return [h("h2", {}, p.label), h("p", { class: "small muted" }, id, JSON.parse(p.roles).length ? " · marked " + JSON.parse(p.roles).join(", ") : "",
      " · ", link(route("graph", { focus: id }), "show in the graph")),
      h("h3", {}, "Names seen"), h("p", {}, Object.entries(names).map(([n, k]) => `${n} (${k}×)`).join("; ") || "none"),
      h("h3", {}, "Identifiers, and where each was found"),
      ids.length ? h("table", {}, h("tr", {}, ["kind", "identifier", "role", "exhibit", "locator", ""].map((x) => h("th", {}, x))),
        ids.map((i) => h("tr", {}, h("td", {}, i.kind), h("td", {}, i.value), h("td", {}, i.role || ""), h("td", {}, exhibitLabel(i.exhibit || "")),
          h("td", {}, h("code", {}, i.locator || "")), h("td", {}, i.record ? recLink(i.record) : "")))) : h("p", { class: "muted" }, "No identifier is joined to this person."),
      h("h3", {}, "Payments in and out, per currency (accounts and wallets this person holds or uses)"),
      money.length ? h("table", {}, h("tr", {}, ["direction", "currency", "transfers", "total", "failed (left out)"].map((x) => h("th", {}, x))),
        money.map((m) => h("tr", {}, h("td", {}, m.direction === "in" ? "received" : "paid"), h("td", {}, m.currency), h("td", { class: "num" }, m.transfers),
          h("td", { class: "num" }, m.total), h("td", { class: "num" }, m.failed))))
        : h("p", { class: "muted" }, "No account or wallet this person holds or uses is in a transfer in this case, so no payment is theirs here."),
      others.length ? [h("h3", {}, "Accounts tied to this person that they are not recorded as holding (their money is not shown as theirs)"),
        h("table", {}, h("tr", {}, ["account", "why it is tied"].map((x) => h("th", {}, x))),
          others.map((o) => h("tr", {}, h("td", {}, o.account), h("td", {},
            o.messages ? h("div", {}, `account they mentioned, in ${o.messages} message${o.messages === 1 ? "" : "s"} they sent: `, JSON.parse(o.cited).flatMap((c) => [" ", recLink(c)])) : null,
            JSON.parse(o.joins).map((j) => h("div", {}, `joined to them by entity resolution (${j.method}, score ${j.score})` + (j.narration ? `: narration "${j.narration}" ` : " "),
              j.records.flatMap((c) => [" ", recLink(c)])))))))] : null,
      h("h3", {}, "Map"),
      placesMap({ person: id }),
      h("h3", {}, `Personal timeline: records sent or paid (${nrec}), in time order`),
      nrec > PAGE ? pager(nrec, page, (p) => (location.hash = route("people", { id, p }))) : null,
      h("div", { class: "hits" }, recs.map((r) => h("div", { class: "hit" }, h("span", { class: "muted small" }, r.shown, " "), h("b", {}, r.title), h("div", {}, r.body), recLink(r.id))))];
  }

  // -- graph --------------------------------------------------------------------------------------
  const COLOURS = { Person: "#c0392b", Phone: "#2874a6", Chat: "#7d3c98", BankAccount: "#1e8449", Wallet: "#b9770e", Email: "#117a65" };
  const TIE_COLOURS = { payment: "#1e8449", message: "#7d3c98", mentioned: "#b9770e" };
  const LAYOUT = { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 12000, idealEdgeLength: () => 70, nodeOverlap: 20, padding: 30 };
  function graph(args) {
    const panel = h("div", { class: "side", id: "panel" }, h("p", { class: "muted" }, "Click a party to see its ties and add its neighbours."));
    const kinds = rows("SELECT DISTINCT kind FROM ties ORDER BY kind").map((r) => r.kind);
    const shownKinds = new Set(kinds);
    const filters = h("div", { class: "pager" }, "ties: ", kinds.map((k) => h("label", {}, h("input", { type: "checkbox", checked: true, onchange: (e) => {
      if (e.target.checked) shownKinds.add(k); else shownKinds.delete(k);
      cy.edges().forEach((ed) => ed.style("display", shownKinds.has(ed.data("kind")) ? "element" : "none"));
    } }), " " + k + " ")), h("button", { onclick: () => cy.layout(LAYOUT).run() }, "re-layout"));
    const present = new Set(rows("SELECT DISTINCT label FROM nodes").map((r) => r.label));
    const legendColours = Object.entries(COLOURS).filter(([k]) => present.has(k));
    const legend = h("div", { class: "legend small" }, legendColours.map(([k]) => h("span", {}, h("i", {}), k)));
    const box = h("div", { id: "cy" });
    let cy = null;
    const out = [h("h2", {}, "Graph of parties"),
      h("p", { class: "small muted" }, "It starts with the 40 most tied parties (or the one chosen); click one to add its neighbours. Payments point from payer to payee, with their totals per currency."),
      filters, legend, h("div", { class: "cols" }, h("div", { class: "grow" }, box), panel)];
    setTimeout(() => {
      cy = cytoscape({ container: box, style: [
        { selector: "node", style: { label: "data(name)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 3, "background-color": "data(colour)", width: "data(size)", height: "data(size)", "text-wrap": "ellipsis", "text-max-width": 140 } },
        { selector: "edge", style: { width: "data(width)", "line-color": "data(colour)", "target-arrow-color": "data(colour)", "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(money)", "font-size": 10, "text-rotation": "autorotate", "text-margin-y": -8, "text-background-color": "#fff", "text-background-opacity": 0.8 } },
        { selector: ":selected", style: { "border-width": 3, "border-color": "#f39c12" } }] });
      // legend colours set through the CSSOM (the page's policy forbids inline style attributes)
      legend.querySelectorAll("i").forEach((i, n) => { i.style.background = legendColours[n][1]; });
      const start = args.focus ? [args.focus, ...neighbours(args.focus)] : rows("SELECT id FROM nodes ORDER BY strength DESC, id LIMIT 40").map((r) => r.id);
      add(cy, start.map((x) => (one("SELECT id FROM nodes WHERE id = ? OR person = ? ORDER BY id = ? DESC LIMIT 1", [x, x, x]) || {}).id).filter(Boolean));
      cy.layout(LAYOUT).run();
      cy.on("tap", "node", (e) => { const n = e.target.id(); add(cy, neighbours(n)); cy.layout(LAYOUT).run(); showNode(panel, n); });
      window.__cy = cy;
    }, 0);
    return out;
  }
  const neighbours = (n) => rows("SELECT b AS id FROM ties WHERE a = ? UNION SELECT a FROM ties WHERE b = ? LIMIT 60", [n, n]).map((r) => r.id);
  function add(cy, ids) {
    const have = new Set(cy.nodes().map((n) => n.id()));
    const fresh = [...new Set(ids)].filter((i) => !have.has(i));
    const els = [];
    for (const i of fresh) {
      const n = one("SELECT * FROM nodes WHERE id = ?", [i]); if (!n) continue;
      els.push({ group: "nodes", data: { id: n.id, name: n.name, colour: COLOURS[n.label] || "#566573", size: 12 + Math.min(30, Math.sqrt(n.strength) * 3) } });
      have.add(n.id);
    }
    cy.add(els);
    const all = [...have];
    const edges = [];
    for (const i of fresh) for (const t of rows("SELECT rowid AS r, * FROM ties WHERE a = ? OR b = ?", [i, i])) {
      if (!have.has(t.a) || !have.has(t.b) || cy.getElementById("t" + t.r).length) continue;
      edges.push({ group: "edges", data: { id: "t" + t.r, source: t.a, target: t.b, kind: t.kind, money: t.money || "", colour: TIE_COLOURS[t.kind] || "#999", width: Math.min(6, 1 + Math.sqrt(t.n)) } });
    }
    if (all.length) cy.add(edges);
  }
  function showNode(panel, id) {
    const n = one("SELECT * FROM nodes WHERE id = ?", [id]);
    const ties = rows("SELECT * FROM ties WHERE a = ? OR b = ? ORDER BY kind, n DESC LIMIT ?", [id, id, PAGE]);
    const name = (x) => (one("SELECT name FROM nodes WHERE id = ?", [x]) || { name: x }).name;
    panel.replaceChildren(...[h("h3", {}, n.name), h("p", { class: "small muted" }, `${n.label} · ${id}`),
      n.person ? h("p", {}, link(route("people", { id: n.person }), "person profile")) : null,
      h("table", { class: "small" }, h("tr", {}, ["tie", "with", "records", "dates (UTC)"].map((x) => h("th", {}, x))),
        ties.map((t) => h("tr", {}, h("td", {}, t.kind + (t.a === id ? " →" : " ←")), h("td", {}, name(t.a === id ? t.b : t.a), t.money ? h("div", { class: "muted" }, t.money) : null),
          h("td", { class: "num" }, t.n), h("td", { class: "small" }, t.first === t.last ? t.first : `${t.first} – ${t.last}`))))].filter(Boolean));
  }

  // -- timeline -----------------------------------------------------------------------------------
  function timeline(args) {
    const lanes = rows("SELECT lane, count(*) AS n FROM timeline GROUP BY lane ORDER BY lane");
    const lane = args.lane || "";
    const lw = lane ? " WHERE lane = ?" : "";
    const lp = lane ? [lane] : [];
    const span = one(`SELECT min(day) AS a, max(day) AS b FROM timeline${lw}`, lp);
    const days = [];
    if (span && span.a) {
      const t0 = Date.parse(span.a + "T00:00:00Z"), t1 = Date.parse(span.b + "T00:00:00Z");
      const monthly = (t1 - t0) / 864e5 > 370;  // more than a year: one bar a month
      const key = monthly ? "substr(day, 1, 7)" : "day";
      const counts = Object.fromEntries(rows(`SELECT ${key} AS k, count(*) AS n FROM timeline${lw} GROUP BY k`, lp).map((r) => [r.k, r.n]));
      for (let d = new Date(t0); d <= new Date(t1);) {
        const k = d.toISOString().slice(0, monthly ? 7 : 10);
        days.push({ key: k, n: counts[k] || 0, monthly });
        if (monthly) d.setUTCMonth(d.getUTCMonth() + 1, 1); else d.setUTCDate(d.getUTCDate() + 1);
      }
    }
    const max = Math.max(1, ...days.map((d) => d.n));
    const first = days.find((d) => d.n);
    const day = args.day || (first ? (first.monthly ? (one(`SELECT min(day) AS d FROM timeline${lw}`, lp) || {}).d : first.key) : undefined);
    const bars = h("div", { class: "bars", id: "bars" });
    for (const d of days) {
      const target = d.monthly ? (one(`SELECT min(day) AS d FROM timeline WHERE substr(day, 1, 7) = ?${lane ? " AND lane = ?" : ""}`, [d.key, ...lp]) || {}).d : d.key;
      const a = h(d.n ? "a" : "span", { href: d.n ? route("timeline", { lane, day: target }) : null, title: `${d.key}: ${d.n} item(s)`,
        class: (day && day.startsWith(d.key) ? "on" : "") + (d.n ? "" : " empty") });
      a.style.height = (d.n ? Math.max(3, Math.round((130 * d.n) / max)) : 0) + "px";
      bars.append(a);
    }
    const axis = h("div", { class: "axis small muted" }, h("span", {}, days.length ? days[0].key : ""),
      h("span", {}, days.length > 2 ? days[Math.floor(days.length / 2)].key : ""), h("span", {}, days.length > 1 ? days[days.length - 1].key : ""));
    const sel = h("select", { onchange: () => (location.hash = route("timeline", { lane: sel.value })) }, h("option", { value: "" }, "every lane"),
      lanes.map((l) => h("option", { value: l.lane, selected: l.lane === lane }, `${l.lane} (${l.n})`)));
    const page = Number(args.p || 0);
    const params = [day, ...lp];
    const total = day ? one(`SELECT count(*) AS n FROM timeline WHERE day = ?${lane ? " AND lane = ?" : ""}`, params).n : 0;
    // the page of the day, then each of its rows by key (a LEFT JOIN to the view would make SQLite read every record)
    const items = day ? rows(`SELECT * FROM timeline WHERE day = ?${lane ? " AND lane = ?" : ""} ORDER BY utc, n, finding LIMIT ? OFFSET ?`,
      [...params, PAGE, page * PAGE]).map((t) => ({ ...t, ...(t.n !== null ? one("SELECT * FROM rec WHERE n = ?", [t.n]) : {}),
      ftitle: t.finding ? one("SELECT title FROM findings WHERE id = ?", [t.finding]).title : null })) : [];
    return [h("h2", {}, "Timeline"),
      h("p", { class: "small muted" }, `Every dated record, and each finding at the first dated record it cites, per ${days.length && days[0].monthly ? "month" : "day"} (the source's calendar days; a record with a date and no time counts on its date). Click a bar.`),
      h("div", { class: "pager" }, h("label", {}, "lane ", sel)), bars, axis,
      h("h3", {}, day ? `${day}: ${total} item(s)` : "No dated record"),
      h("div", { class: "hits", id: "items" }, items.map((t) => h("div", { class: "hit" }, h("span", { class: "tag" }, t.lane),
        t.finding ? h("b", {}, t.ftitle) : [h("span", { class: "muted small" }, t.shown, " "), h("b", {}, t.title), h("div", {}, t.body)],
        h("div", { class: "small" }, t.chat ? link(route("chats", { chat: t.chat, at: t.pos }), "open in its thread") : null, t.chat ? " · " : null,
          t.finding ? null : recLink(t.id))))),
      total > PAGE ? pager(total, page, (p) => (location.hash = route("timeline", { lane, day, p }))) : null];
  }

  // -- map ----------------------------------------------------------------------------------------
  // Natural Earth outlines (npm world-atlas, countries-50m, in atlas.js) projected with d3-geo, as the
  // workspace's Map view draws them; the case's locations as points by kind. Nothing is fetched.
  const PLACE_COLOURS = { "shared-location": "#c0392b", "live-location": "#e67e22", venue: "#7d3c98", "map-link": "#2471a3", exif: "#1e8449", ufdr: "#17202e" };
  let atlas = null;
  function placesMap(args) {
    const where = args.person ? " WHERE id IN (SELECT place FROM person_places WHERE person = ?)" : (args.kind ? " WHERE kind = ?" : "");
    const params = args.person ? [args.person] : (args.kind ? [args.kind] : []);
    const pts = rows(`SELECT * FROM places${where} ORDER BY shown, id`, params);
    const wrap = h("div", { class: "map-wrap", id: args.person ? "person-map" : "map" });
    if (!pts.length) {
      wrap.append(h("p", { class: "muted" }, args.person ? "No location is joined to this person (none came with a message they sent, and none names one of their identifiers)."
        : "No locations in this case (the parsers found no shared location, map link, EXIF GPS tag or report location)."));
      return wrap;
    }
    if (!atlas) { const topo = window.CG_ATLAS; atlas = { land: topojson.feature(topo, topo.objects.countries), borders: topojson.mesh(topo, topo.objects.countries, (a, b) => a !== b) }; }
    const W = 1000, H = args.person ? 420 : 560;
    const lonlat = pts.map((p) => [Number(p.lon), Number(p.lat)]);
    // fit to the points (at least a few degrees around them), the rest of the world outside the frame
    const [x0, x1] = d3.extent(lonlat, (d) => d[0]), [y0, y1] = d3.extent(lonlat, (d) => d[1]);
    const pad = Math.max(2, (x1 - x0) * 0.15, (y1 - y0) * 0.15);
    const frame = { type: "MultiPoint", coordinates: [[x0 - pad, y0 - pad], [x1 + pad, y1 + pad]] };
    const projection = d3.geoEquirectangular().fitExtent([[10, 10], [W - 10, H - 10]], frame);
    const path = d3.geoPath(projection);
    const svg = d3.create("svg").attr("viewBox", `0 0 ${W} ${H}`).attr("width", "100%").attr("role", "img").attr("aria-label", "map of the locations");
    svg.append("rect").attr("width", W).attr("height", H).attr("fill", "#dfeaf3");
    svg.append("path").attr("class", "land").attr("d", path(atlas.land)).attr("fill", "#f4f1ea").attr("stroke", "#b9b2a3").attr("stroke-width", 0.6);
    svg.append("path").attr("d", path(atlas.borders)).attr("fill", "none").attr("stroke", "#b9b2a3").attr("stroke-width", 0.5);
    svg.append("g").selectAll("circle").data(pts).join("circle").attr("class", "place")
      .attr("cx", (p) => projection([Number(p.lon), Number(p.lat)])[0]).attr("cy", (p) => projection([Number(p.lon), Number(p.lat)])[1])
      .attr("r", 6).attr("fill", (p) => PLACE_COLOURS[p.kind] || "#333").attr("fill-opacity", 0.85).attr("stroke", "#fff").attr("stroke-width", 1.2)
      .append("title").text((p) => `${p.kind}: ${p.lat}, ${p.lon}${p.label ? " · " + p.label : ""}\n${p.shown}${p.who ? " · " + p.who : ""}`);
    wrap.append(svg.node());
    const kinds = [...new Set(pts.map((p) => p.kind))].sort();
    wrap.append(h("div", { class: "legend" }, kinds.map((k) => { const i = h("i", {}); i.style.background = PLACE_COLOURS[k] || "#333"; return h("span", {}, i, k); })));
    wrap.append(h("table", { class: "places" }, h("tr", {}, ["when (as recorded)", "kind", "latitude, longitude", "place", "who", ""].map((x) => h("th", {}, x))),
      pts.slice(0, 300).map((p) => {
        const rec = p.came_with !== null ? one("SELECT id FROM records WHERE n = ?", [p.came_with]) : null;
        return h("tr", {}, h("td", {}, p.shown), h("td", {}, p.kind), h("td", {}, `${p.lat}, ${p.lon}` + (p.accuracy_m ? ` (±${p.accuracy_m} m)` : "")),
          h("td", {}, p.label || ""), h("td", {}, p.who || ""), h("td", {}, rec ? recLink(rec.id, "record it came with") : h("code", {}, `${exhibitLabel(p.exhibit)} ${p.locator}`)));
      })));
    if (pts.length > 300) wrap.append(h("p", { class: "muted small" }, `The first 300 of ${pts.length} listed.`));
    return wrap;
  }
  function map(args) {
    const kinds = rows("SELECT kind, count(*) AS n FROM places GROUP BY kind ORDER BY kind");
    const st = JSON.parse(meta("places") || "{}");
    const sel = h("select", { onchange: () => (location.hash = route("map", { kind: sel.value })) }, h("option", { value: "" }, "every kind"),
      kinds.map((k) => h("option", { value: k.kind, selected: k.kind === args.kind }, `${k.kind} (${k.n})`)));
    return [h("h2", {}, "Map"),
      h("p", { class: "small muted" }, "Locations from messages (shared and live locations, venues, map links), photos' EXIF tags and forensic reports, on Natural Earth outlines drawn offline. " +
        "A venue is a place picked from a list, not necessarily where the phone was." + (st.total > st.shown ? ` This viewer holds ${st.shown} of the case's ${st.total} locations.` : "") +
        (st.withheld ? ` ${st.withheld.toLocaleString("en")} location${st.withheld === 1 ? " of a protected person (victim, witness or minor) is" : "s of protected persons (victims, witnesses, minors) are"} withheld from this victim-protected copy.` : "")),
      h("div", { class: "pager" }, h("label", {}, "kind ", sel)), placesMap(args)];
  }

  // -- a record and its source --------------------------------------------------------------------
  function hex(bytes) {
    const lines = [];
    for (let i = 0; i < bytes.length && i < 4096; i += 16) {
      const part = Array.from(bytes.slice(i, i + 16));
      lines.push(i.toString(16).padStart(8, "0") + "  " + part.map((b) => b.toString(16).padStart(2, "0")).join(" ").padEnd(48) + "  " +
        part.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join(""));
    }
    return lines.join("\n") + (bytes.length > 4096 ? "\n…" : "");
  }
  function record(id) {
    const r = one("SELECT * FROM rec WHERE id = ?", [id]);
    const s = r && one("SELECT s.*, e.sha256 AS exhibit_sha256 FROM sources s LEFT JOIN exhibits e ON e.n = s.exhibit WHERE s.n = ?", [r.n]);
    if (!r || !s) return [h("p", {}, "No such record in this case.")];
    const m = r.chat ? r : null;
    const fs = rows("SELECT f.* FROM finding_records x JOIN findings f ON f.id = x.finding WHERE x.n = ? ORDER BY f.kind, f.title", [r.n]);
    const out = [h("h2", {}, r.title), h("p", {}, r.body), h("p", { class: "small muted" }, r.shown, r.zone ? ` · ${r.zone}` : ""),
      m ? h("p", {}, link(route("chats", { chat: m.chat, at: m.pos }), "open in its thread")) : null,
      h("h3", {}, "Source"),
      h("table", {}, [["exhibit", exhibitLabel(s.exhibit)], ["exhibit SHA-256", h("span", { class: "hash", id: "src-sha" }, s.exhibit_sha256)], ["parser", s.parser],
        ["locator", h("code", { id: "src-loc" }, s.locator)], ["record id", h("code", {}, id)],
        ["bytes at the locator", s.size === null ? "not cut out" : `${s.size} bytes, SHA-256 ${toHex(s.sha256)}`], ["note", s.note || ""]]
        .map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))))];
    if (s.data) {
      const bytes = s.data instanceof Uint8Array ? s.data : new TextEncoder().encode(String(s.data));
      let text = null;
      try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch (e) { text = null; }
      const pre = h("pre", { class: "src", id: "src-bytes" }, text !== null ? text : hex(bytes));
      out.push(h("p", { class: "small muted" }, text !== null ? "The bytes at the locator, as UTF-8 text:" : "The bytes at the locator (not UTF-8 text: hex):"), pre);
      if (text !== null) out.push(h("button", { onclick: () => { pre.textContent = hex(bytes); } }, "show as hex"));
    }
    if (fs.length) out.push(h("h3", {}, "Findings that cite it"), h("ul", {}, fs.map((f) => h("li", {}, h("span", { class: "tag" }, f.kind), f.title))));
    return out;
  }

  // -- routing ------------------------------------------------------------------------------------
  const VIEWS = { overview, chats, search, people, graph, timeline, map };
  function show() {
    const [path, query] = (location.hash.replace(/^#\/?/, "") || "overview").split("?");
    const args = Object.fromEntries(new URLSearchParams(query || ""));
    const [name, ...rest] = path.split("/");
    document.querySelectorAll("#tabs a").forEach((a) => a.classList.toggle("on", a.dataset.tab === name));
    let content;
    try {
      content = name === "record" ? record(decodeURIComponent(rest.join("/"))) : (VIEWS[name] || overview)(args);
    } catch (e) {
      content = [h("p", { class: "box bad" }, "This view failed: " + e.message)];
      console.error(e);
    }
    view.replaceChildren(...content.flat().filter((x) => x !== null && x !== undefined && x !== false));
    const hit = view.querySelector(".hit[data-pos]");
    if (hit) hit.scrollIntoView({ block: "center" });
    else window.scrollTo(0, 0);
  }

  function b64(s) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(s);  // native, where the browser has it
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  // case-data.js holds the database gzipped: the browser's own DecompressionStream unpacks it (no network: a Blob's stream)
  const gunzip = (bytes) => new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  const t0 = performance.now();
  let SQL, t1, t2;
  initSqlJs({ wasmBinary: b64(window.CG_WASM) }).then((lib) => {
    SQL = lib;
    t1 = performance.now();
    const packed = b64(window.CG_DB);
    window.CG_DB = null;
    return gunzip(packed);
  }).then((buffer) => {
    const bytes = new Uint8Array(buffer);
    t2 = performance.now();
    db = new SQL.Database(bytes);
    window.__cgTiming = { wasm_ms: t1 - t0, decode_ms: t2 - t1, open_ms: performance.now() - t2, bytes: bytes.length };
    const c = JSON.parse(meta("case")), v = JSON.parse(meta("verdict")), asOf = JSON.parse(meta("as_of"));
    document.getElementById("caseline").textContent = `case ${c.case_no}, as of custody event ${asOf.seq} · read-only` + (meta("redacted") === "yes" ? " · victim-protected copy" : "");
    const st = document.getElementById("state");
    st.textContent = (v.ok ? "case verified" : "case did NOT verify") + ` when the bundle was built (case state of custody event ${asOf.seq}); check the bundle itself with casegraph verify`;
    st.className = v.ok ? "ok" : "bad";
    window.addEventListener("hashchange", show);
    show();
    document.body.dataset.ready = "1";
  }).catch((e) => { view.replaceChildren(h("p", { class: "box bad" }, "The case database could not be opened: " + e.message)); console.error(e); });
})();
