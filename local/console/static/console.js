// The local console's page: plain JavaScript, no build step. It polls the console's JSON API
// (local/console/app.py) once a second for the visible panel and renders it; every action is a POST.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { tab: "parent", parent: null, managersChat: null, rendered: {}, replyTo: null, email: null, timezone: null };

async function api(path, body, method) {
  const options = body === undefined ? { method: method || "GET" } : {
    method: method || "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error(data.error || `${response.status}`);
  return data;
}

function showError(error) {
  $("error").hidden = !error;
  $("error").textContent = error ? String(error.message || error) : "";
}

async function act(work) {
  try { await work(); showError(null); await refresh(); } catch (error) { showError(error); }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function table(node, header, rows) {
  node.replaceChildren(
    el("tr", {}, ...header.map((h) => el("th", {}, h))),
    ...rows.map((row) => el("tr", {}, ...row.map((cell) => (cell instanceof Node ? el("td", {}, cell) : el("td", {}, cell))))),
  );
}

// Times are shown in the academy's zone, as the calendar, the bot and the managers see them.
function local(iso) {
  const options = { dateStyle: "medium", timeStyle: "short", timeZone: state.timezone || undefined };
  return iso ? new Date(iso).toLocaleString(undefined, options) : "";
}

// ---- chats -------------------------------------------------------------------------------------------
function messageNode(message, chatId, own) {
  const node = el("div", { class: `msg ${message.from_bot ? "bot" : "me"}`, "data-id": message.message_id });
  if (!own && !message.from_bot) node.append(el("div", { class: "who" }, message.from?.first_name || ""));
  if (message.video_note) node.append(el("div", { class: "attachment" }, "🎥 video note"));
  if (message.document) node.append(el("div", { class: "attachment" }, `📎 ${message.document.file_name || "file"}`));
  if (message.voice) node.append(el("div", { class: "attachment" }, `🎤 voice note, ${message.voice.duration || "?"} s`));
  if (message.contact) node.append(el("div", { class: "attachment" }, `📱 ${message.contact.phone_number}`));
  if (message.reply_to_message) node.append(el("div", { class: "meta" }, `↪ ${(message.reply_to_message.text || "").slice(0, 60)}`));
  if (message.text) node.append(el("div", { class: "text" }, message.text));
  if (message.caption) node.append(el("div", { class: "text" }, message.caption));
  const rows = message.reply_markup?.inline_keyboard;
  if (rows) {
    node.append(el("div", { class: "keyboard" }, ...rows.map((row) => el("div", { class: "krow" }, ...row.map((button) =>
      button.url
        ? el("a", { href: button.url, target: "_blank", rel: "noopener", class: "inline url" }, `${button.text} ↗`)
        : el("button", { class: "inline", type: "button", onclick: () => act(() => api(`/api/chat/${chatId}/send`, {
          kind: "callback", message_id: message.message_id, data: button.callback_data,
        })) }, button.text))))));
  }
  const meta = [message.edit_date ? "edited" : "", (message.reactions || []).join(" ")].filter(Boolean).join(" · ");
  if (meta) node.append(el("div", { class: "meta" }, meta));
  return node;
}

function renderChat(container, data, own, onSelect) {
  const key = JSON.stringify(data.messages);
  if (state.rendered[container.id] === key) return;
  state.rendered[container.id] = key;
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  container.replaceChildren(...data.messages.map((m) => {
    const node = messageNode(m, data.chat_id, own);
    if (onSelect) node.addEventListener("click", (event) => { if (event.target === node || event.target.classList.contains("text")) onSelect(m, node); });
    return node;
  }));
  if (atBottom || !container.dataset.scrolled) { container.scrollTop = container.scrollHeight; container.dataset.scrolled = "1"; }
}

function renderReplyKeyboard(keyboard) {
  const node = $("parent-reply-keyboard");
  const rows = keyboard && !keyboard.remove_keyboard ? keyboard.keyboard || [] : [];
  const key = JSON.stringify(rows);
  if (state.rendered.reply === key) return;
  state.rendered.reply = key;
  node.replaceChildren(...rows.flat().map((button) => {
    const text = typeof button === "string" ? button : button.text;
    const contact = typeof button === "object" && button.request_contact;
    return el("button", { class: "reply-key", type: "button", onclick: () => act(() => api(`/api/chat/${state.parent}/send`,
      contact ? { kind: "contact" } : { kind: "text", text })) }, contact ? `📱 ${text}` : text);
  }));
}

async function refreshParent() {
  if (state.parent === null) {
    $("parent-chat").replaceChildren(el("p", { class: "muted" }, "Add a parent above, then write /start."));
    return;
  }
  const data = await api(`/api/chat/${state.parent}`);
  renderChat($("parent-chat"), data, true);
  renderReplyKeyboard(data.reply_keyboard);
}

async function refreshManagers() {
  const data = await api(`/api/chat/${state.managersChat}`);
  renderChat($("managers-chat"), data, false, (message, node) => {
    state.replyTo = state.replyTo === message.message_id ? null : message.message_id;
    document.querySelectorAll("#managers-chat .msg").forEach((n) => n.classList.toggle("selected", n === node && state.replyTo !== null));
  });
}

// ---- CRM, emails, calendar, queue, faults ------------------------------------------------------------
async function refreshCrm() {
  const data = await api("/api/crm");
  const key = JSON.stringify(data);
  if (state.rendered.crm === key) return;
  state.rendered.crm = key;
  $("crm").replaceChildren(...data.sheets.map((sheet) => {
    const [header = [], ...rows] = sheet.values;
    const node = el("table", { "data-sheet": sheet.title });
    table(node, header, rows);
    return el("div", {}, el("h3", {}, `${sheet.title} (${rows.length})`), node);
  }));
}

async function refreshEmails() {
  const data = await api("/api/emails");
  const key = JSON.stringify(data);
  if (state.rendered.emails === key) return;
  state.rendered.emails = key;
  $("email-list").replaceChildren(...data.emails.map((email) => el("li", {
    class: state.email === email.index ? "active" : "",
    onclick: () => { state.email = email.index; $("email-view").src = `/api/emails/${email.index}`; state.rendered.emails = ""; refresh(); },
  }, el("strong", {}, email.subject || ""), el("br"), `${email.to} · ${local(email.created_at)}`)));
}

async function refreshCalendar() {
  const data = await api("/api/calendar");
  table($("calendar"), ["start", "end", "event", ""], data.events.map((event) => [
    local(event.start), local(event.end), el("span", { class: event.free ? "free" : "booked" }, event.summary),
    el("button", { type: "button", onclick: () => act(() => api(`/api/calendar/${encodeURIComponent(event.id)}`, undefined, "DELETE")) }, "Remove"),
  ]));
}

async function refreshQueue() {
  const data = await api("/api/tasks");
  table($("tasks-pending"), ["due", "queue", "task", "payload", ""], data.pending.map((task) => [
    local(task.scheduleTime), task.name.split("/queues/")[1].split("/")[0], task.name.split("/").pop(), task.payload || "",
    el("button", { type: "button", class: "run", onclick: () => act(() => api("/api/tasks/run", { name: task.name })) }, "Run now"),
  ]));
  table($("tasks-history"), ["at", "task", "HTTP", "outcome"], data.history.slice().reverse().map((attempt) => [
    local(attempt.time), attempt.name.split("/").pop(), attempt.status ?? "", attempt.error || attempt.outcome,
  ]));
  table($("tasks-failed"), ["task", "attempts"], data.failed.map((task) => [task.name.split("/").pop(), task.dispatchCount ?? ""]));
}

async function refreshFaults() {
  const data = await api("/api/faults");
  table($("faults"), ["fake", "answers"], Object.entries(data).map(([fake, mode]) => [
    fake,
    el("select", { "data-fake": fake, onchange: (event) => act(() => api(`/api/faults/${fake}`, { mode: event.target.value })) },
      ...["off", "500", "429", "hang"].map((option) => {
        const node = el("option", { value: option }, option === "off" ? "normally" : option === "hang" ? "hang (30 s)" : `HTTP ${option}`);
        node.selected = option === mode;
        return node;
      })),
  ]));
}

// ---- wiring ------------------------------------------------------------------------------------------
const PANELS = { parent: refreshParent, managers: refreshManagers, crm: refreshCrm, emails: refreshEmails,
  calendar: refreshCalendar, queue: refreshQueue, faults: refreshFaults };
let busy = false;

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const overview = await api("/api/overview");
    state.timezone = overview.timezone;
    $("clock").textContent = `now: ${local(overview.now)} (${overview.timezone}, the academy's time)`;
    state.managersChat = overview.managers_chat;
    const select = $("parent-select");
    const options = overview.parents.map((p) => `${p.user_id}:${p.name}`).join("|");
    if (select.dataset.options !== options) {
      select.dataset.options = options;
      select.replaceChildren(...overview.parents.map((p) => el("option", { value: p.user_id }, `${p.name} (${p.phone}, ${p.language}) · chat ${p.user_id}`)));
      if (state.parent !== null) select.value = String(state.parent);
    }
    if (state.tab !== "faults" || !document.activeElement?.dataset?.fake) await PANELS[state.tab]();
  } catch (error) {
    showError(error);
  } finally {
    busy = false;
  }
}

function selectTab(tab) {
  state.tab = tab;
  document.querySelectorAll(".tab").forEach((button) => button.classList.toggle("active", button.dataset.tab === tab));
  document.querySelectorAll(".panel").forEach((panel) => { panel.hidden = panel.id !== `panel-${tab}`; });
  state.rendered = {};
  refresh();
}

document.querySelectorAll(".tab").forEach((button) => button.addEventListener("click", () => selectTab(button.dataset.tab)));

$("parent-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    const parent = await api("/api/parents", { name: $("parent-name").value, language: $("parent-language").value, phone: $("parent-phone").value });
    state.parent = parent.user_id;
    state.rendered = {};
    const start = new URLSearchParams(location.search).get("start");
    if (start) await api(`/api/chat/${state.parent}/send`, { kind: "text", text: `/start ${start}` });
  });
});
$("parent-select").addEventListener("change", (event) => { state.parent = Number(event.target.value); state.rendered = {}; refresh(); });
$("parent-composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-input").value;
  act(async () => { await api(`/api/chat/${state.parent}/send`, { kind: "text", text }); $("chat-input").value = ""; });
});
$("contact-send").addEventListener("click", () => act(() => api(`/api/chat/${state.parent}/send`, { kind: "contact" })));
$("voice-composer").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    const file = $("voice-file").files[0];
    const body = { kind: "voice", says: $("voice-says").value };
    if (file) body.audio_base64 = btoa(String.fromCharCode(...new Uint8Array(await file.arrayBuffer())));
    await api(`/api/chat/${state.parent}/send`, body);
    $("voice-says").value = ""; $("voice-file").value = "";
  });
});
$("managers-composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { kind: "text", text: $("managers-input").value };
  if (state.replyTo !== null) body.reply_to = state.replyTo;
  act(async () => { await api(`/api/chat/${state.managersChat}/send`, body); $("managers-input").value = ""; state.replyTo = null; });
});
$("slot-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(() => api("/api/calendar", { start: $("slot-start").value, minutes: Number($("slot-minutes").value) }));
});
$("clock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(() => api("/api/clock", { seconds: Number($("clock-amount").value) * Number($("clock-unit").value) }));
});
$("clock-next").addEventListener("click", () => act(() => api("/api/clock", { next: true })));

// An email's deep link lands here with ?start=<token>: be (or become) the parent it was sent to.
if (new URLSearchParams(location.search).get("start")) {
  showError("Opened from an email's link: add the parent (or pick one and write /start) to follow it.");
}
refresh();
setInterval(refresh, 1000);
