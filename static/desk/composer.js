// The composer: reply or internal note, attachments, the length counter, sending, whether the
// agent is typing (collision.js tells the others, onTypingChanged), and drafts kept per
// conversation. Its menus (composer-menus.js) hear each keystroke through onComposerInput.
import { $, delegate, el, runHooks } from "./dom.js";
import { api } from "./http.js";
import { fmt, gettext } from "./i18n.js";
import { currentId, onConversationLeaving, onThreadShown, queueMessages } from "./thread.js";

let mode = "reply";
let files = [];
let typing = false;
let typingTimer = null;
const drafts = new Map(); // conversation id -> {text, mode, files} not sent yet
const typingHooks = [];
const inputHooks = [];

// fn(typing) when the agent starts typing (true) or stops (false, after a pause or on sending).
export function onTypingChanged(fn) { typingHooks.push(fn); }
// fn() after each change of the composer's text.
export function onComposerInput(fn) { inputHooks.push(fn); }

export const composerMode = () => mode;
export const isTyping = () => typing;

export function resetFiles() { files = []; }

export function setMode(wanted) {
  const composer = $("composer");
  if (!composer) return;
  mode = wanted === "reply" && composer.dataset.canReply !== "1" ? "note" : wanted;
  composer.classList.toggle("mode-note", mode === "note");
  composer.querySelectorAll(".tab").forEach((tab) => tab.classList.toggle("active", tab.dataset.mode === mode));
  $("composer-send").textContent = mode === "note" ? gettext("Add note") : gettext("Send reply");
  $("composer-text").placeholder = mode === "note"
    ? gettext("Internal note: only agents see it. @name notifies a colleague.")
    : $("composer-text").dataset.replyPlaceholder || $("composer-text").placeholder;
  updateCounter();
}

// Half-written replies survive switching conversations and a refetch after a reconnect.
export function saveDraft(id) {
  const text = $("composer-text");
  if (!id || !text) return;
  if (text.value || files.length) drafts.set(id, { text: text.value, mode, files });
  else drafts.delete(id);
}

export function restoreDraft(id) {
  const draft = drafts.get(id);
  if (!draft || !$("composer-text")) return;
  $("composer-text").value = draft.text;
  files = draft.files;
  renderFiles();
  setMode(draft.mode);
}

// Channels that count a link as a fixed length (X) say so in data-url-chars.
function textLength(text) {
  const composer = $("composer");
  const urlChars = Number(composer.dataset.urlChars || 0);
  if (!urlChars) return text.length;
  const urls = text.match(/https?:\/\/\S+/gi) || [];
  return text.replace(/https?:\/\/\S+/gi, "").length + urlChars * urls.length;
}

export function updateCounter() {
  const composer = $("composer");
  if (!composer) return;
  const max = mode === "reply" ? Number(composer.dataset.max || 0) : 0;
  const length = textLength($("composer-text").value);
  const counter = $("composer-counter");
  counter.textContent = max ? `${length} / ${max}` : `${length}`;
  counter.classList.toggle("over", Boolean(max) && length > max);
  $("composer-send").disabled = Boolean(max) && length > max;
}

async function sendComposer(event) {
  event.preventDefault();
  const composer = $("composer");
  const id = Number(composer.dataset.conversation);
  const textarea = $("composer-text");
  const text = textarea.value.trim();
  if (!text) return;
  const kind = mode === "note" ? "note" : "message";
  const visibility = composer.querySelector('input[name="visibility"]:checked');
  const isPublic = kind === "message" && visibility ? visibility.value === "public" : null;
  let request;
  if (files.length) {
    const form = new FormData();
    form.append("text", text);
    form.append("kind", kind);
    if (isPublic !== null) form.append("public", isPublic ? "true" : "false");
    files.forEach((file) => form.append("files", file));
    request = { method: "POST", form };
  } else {
    request = { method: "POST", body: { text, kind, ...(isPublic === null ? {} : { public: isPublic }) } };
  }
  $("composer-send").disabled = true;
  $("composer-error").hidden = true;
  try {
    const message = await api(`/api/conversations/${id}/messages/`, request);
    textarea.value = "";
    files = [];
    drafts.delete(id);
    renderFiles();
    stopTyping();
    if (id === currentId()) queueMessages([message.id]);
  } catch (error) {
    $("composer-error").textContent = error.message;
    $("composer-error").hidden = false;
  } finally {
    $("composer-send").disabled = false;
    updateCounter();
  }
}

function renderFiles() {
  const list = $("composer-files");
  if (!list) return;
  list.replaceChildren(...files.map((file, index) => {
    const item = el("li", "", `${fmt(gettext("%(name)s (%(size)s KB)"), { name: file.name, size: Math.ceil(file.size / 1024) })} `);
    const remove = el("button", "tag-x", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", fmt(gettext("Remove %(name)s"), { name: file.name }));
    remove.addEventListener("click", () => { files.splice(index, 1); renderFiles(); });
    item.append(remove);
    return item;
  }));
}

// Typing indicator for the other agents (collision): "typing" while keys go down, "viewing" after a pause.
function noteTyping() {
  if (!typing) {
    typing = true;
    runHooks(typingHooks, true);
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 4000);
}

function stopTyping() {
  clearTimeout(typingTimer);
  if (typing) {
    typing = false;
    runHooks(typingHooks, false);
  }
}

// --- wiring -----------------------------------------------------------------------------------------

delegate("click", ".tab[data-mode]", (event, tab) => {
  if (tab.disabled) return false;
  setMode(tab.dataset.mode);
  $("composer-text").focus();
});
delegate("change", "#composer-attach", (event, input) => {
  files = [...files, ...input.files].slice(0, 10);
  input.value = "";
  renderFiles();
});
delegate("change", 'input[name="visibility"]', () => updateCounter());
delegate("input", "#composer-text", () => { updateCounter(); runHooks(inputHooks); noteTyping(); });
onConversationLeaving((previous) => saveDraft(previous));
onThreadShown((id, { opened }) => {
  if (opened) resetFiles();
  setMode($("composer") && $("composer").dataset.canReply === "1" ? "reply" : "note");
  updateCounter();
  if (opened) restoreDraft(id);
});
delegate("submit", "#composer", (event) => sendComposer(event));
