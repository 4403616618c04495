// The open conversation: which one it is (currentId), opening and closing it, its header and
// messages refetched on live events, and read marks. It imports no feature module: the list, the
// composer and collision play their part through onConversationLeaving / onThreadShown /
// onHeaderRefreshed, feature modules hear about it through onConversationOpened /
// onConversationClosed (see main.js).
import { $, delegate, el, runHooks, throttle, toast } from "./dom.js";
import { api, fragment } from "./http.js";
import { fmt, gettext } from "./i18n.js";
import { on, onStale } from "./live.js";
import { tick } from "./time.js";

let current = null; // the open conversation's id, or null
let started = false; // startThread ran (main.js's boot)
const openedHooks = [];
const closedHooks = [];
const leavingHooks = [];
const shownHooks = [];
const headerHooks = [];

export const currentId = () => current;

// fn(id) after a conversation's panes are in place (also for the one the page was rendered with:
// a module registering after the boot, e.g. from its own <script type="module">, hears it at once).
export function onConversationOpened(fn) {
  openedHooks.push(fn);
  if (started && current) runHooks([fn], current);
}
// fn(id) after the open conversation was closed (back to the empty state).
export function onConversationClosed(fn) { closedHooks.push(fn); }
// fn(previousId, nextId) just before the open conversation changes (nextId null: it is closed).
export function onConversationLeaving(fn) { leavingHooks.push(fn); }
// fn(id, {opened, push}) as the thread's panes are rendered, before it scrolls to the end; opened:
// it was opened here (false: the page came with it); push: the URL is to say so.
export function onThreadShown(fn) { shownHooks.push(fn); }
// fn(id) after the header was fetched again.
export function onHeaderRefreshed(fn) { headerHooks.push(fn); }

let threadGeneration = 0;
// While a conversation's fragment is on its way, its live message events are kept and applied once
// it is shown: a reply delivered during the fetch would otherwise stay "Queued" on screen.
let opening = null;
const missedWhileOpening = new Set();

export async function openConversation(id, { push = true } = {}) {
  id = Number(id);
  const generation = ++threadGeneration;
  const previous = current;
  opening = id;
  missedWhileOpening.clear();
  try {
    const content = await fragment(`/desk/conversations/${id}/`);
    if (generation !== threadGeneration) return;
    runHooks(leavingHooks, previous, id);
    current = id;
    const customer = content.querySelector("#customer-pane-content");
    $("thread-pane").replaceChildren(content.querySelector("#thread"));
    $("customer-pane").replaceChildren(customer.content);
    afterThreadRender({ opened: true, push });
    markRead(id);
    opening = null;
    if (missedWhileOpening.size) queueMessages([...missedWhileOpening]);
    missedWhileOpening.clear();
    runHooks(openedHooks, id);
  } catch (error) {
    if (generation !== threadGeneration) return;
    opening = null;
    toast(error.status === 404 ? gettext("That conversation is not visible to you any more.") : fmt(gettext("Could not open: %(error)s"), { error: error.message }), { error: true });
  }
}

export function closeConversation() {
  const id = current;
  runHooks(leavingHooks, id, null);
  current = null;
  const empty = el("div", "empty-state");
  empty.append(el("p", "", gettext("Pick a conversation, or press j.")));
  $("thread-pane").replaceChildren(empty);
  $("customer-pane").replaceChildren(el("div", "empty-state small", gettext("The customer's identities and whole history show here.")));
  if (id) runHooks(closedHooks, id);
}

// The page was rendered with a conversation open (/c/<id>/): set it up as if opened here.
export function startThread(id) {
  started = true;
  current = id || null;
  if (!current) return;
  afterThreadRender({ opened: false, push: false });
  markRead(current);
  runHooks(openedHooks, current);
}

function afterThreadRender(how) {
  const text = $("composer-text");
  if (text && !text.dataset.replyPlaceholder) text.dataset.replyPlaceholder = text.placeholder;
  tick($("thread-pane"));
  tick($("customer-pane"));
  document.querySelectorAll(".msg-html").forEach(sizeFrame);
  runHooks(shownHooks, current, how);
  scrollThreadToEnd();
}

function scrollThreadToEnd() {
  const scroller = $("thread-scroll");
  if (scroller) scroller.scrollTop = scroller.scrollHeight;
}

function nearEnd() {
  const scroller = $("thread-scroll");
  return !scroller || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 150;
}

// A sanitized HTML body sits in a sandboxed iframe (no scripts; same origin only so we can read its height).
function sizeFrame(frame) {
  const doc = frame.contentDocument;
  if (doc && doc.documentElement) frame.style.height = `${Math.min(doc.documentElement.scrollHeight + 4, 2000)}px`;
}

export function markRead(id) {
  const row = document.querySelector(`li.row[data-id="${id}"]`);
  if (row) {
    row.classList.remove("unread");
    const dot = row.querySelector(".unread-dot");
    if (dot) dot.remove();
  }
  api(`/api/conversations/${id}/read/`, { method: "POST" }).catch(() => {});
}

export const markReadSoon = throttle((id) => { if (id === current && !document.hidden) markRead(id); }, 500);

export const refreshHeader = throttle(async () => {
  const id = current;
  if (!id || !$("conv-head")) return;
  try {
    const content = await fragment(`/desk/conversations/${id}/header/`);
    if (id !== current || !$("conv-head")) return;
    // Keep what the agent is typing in a header field (a new tag) across the swap.
    const active = document.activeElement;
    const editing = $("conv-head").contains(active) && active.matches("input") ? active : null;
    $("conv-head").replaceWith(content.querySelector("#conv-head"));
    if (editing) {
      const again = $("conv-head").querySelector(editing.dataset.field ? `[data-field="${editing.dataset.field}"]` : ".tag-input");
      if (again) { again.value = editing.value; again.focus(); }
    }
    tick($("conv-head"));
    runHooks(headerHooks, id);
  } catch (error) {
    if (error.status === 404) closeConversation(); // no longer visible (moved to another team)
  }
}, 150);

// --- messages added or changed while it is open --------------------------------------------------------

const messageQueue = new Set();
let messagesBusy = false;

export function queueMessages(ids) {
  ids.forEach((id) => messageQueue.add(Number(id)));
  flushMessages();
}

async function flushMessages() {
  if (messagesBusy || !messageQueue.size || !current) return;
  messagesBusy = true;
  const id = current;
  const ids = [...messageQueue];
  messageQueue.clear();
  try {
    const content = await fragment(`/desk/conversations/${id}/messages/?ids=${ids.join(",")}`);
    if (id === current) applyMessages(content);
  } catch { /* the conversation went away; the next open refetches */ } finally {
    messagesBusy = false;
    if (messageQueue.size) setTimeout(flushMessages, 50);
  }
}

function applyMessages(content) {
  const list = $("messages");
  if (!list) return;
  const stick = nearEnd();
  content.querySelectorAll("li.msg").forEach((fresh) => {
    const old = $(`m-${fresh.dataset.id}`);
    if (old) {
      old.replaceWith(fresh);
    } else {
      fresh.classList.add("fresh");
      const at = new Date(fresh.dataset.sent).getTime();
      const after = [...list.children].find((node) => new Date(node.dataset.sent).getTime() > at);
      list.insertBefore(fresh, after || null);
    }
    tick(fresh);
    fresh.querySelectorAll(".msg-html").forEach((frame) => frame.addEventListener("load", () => sizeFrame(frame)));
  });
  if (stick) scrollThreadToEnd();
}

// --- wiring -----------------------------------------------------------------------------------------

function onConversationChanged(event) {
  if (event.conversation.id === current) refreshHeader();
}
on("conversation.created", onConversationChanged);
on("conversation.updated", onConversationChanged);
on("message.created", (event) => {
  if (event.message.conversation_id === opening) missedWhileOpening.add(event.message.id);
  else if (event.message.conversation_id === current) queueMessages([event.message.id]);
});
on("message.updated", (event) => {
  const m = event.message;
  if (m.conversation_id === opening) missedWhileOpening.add(m.id);
  else if (m.conversation_id === current && $(`m-${m.id}`)) queueMessages([m.id]);
});
onStale(() => { if (current) openConversation(current, { push: false }); });

// Links to another conversation (the customer's timeline) open it in place.
delegate("click", "[data-open]", (event, link) => {
  if (event.ctrlKey || event.metaKey) return false;
  event.preventDefault();
  openConversation(link.dataset.open);
});
// Iframe load events do not bubble; capture them to size sandboxed message bodies.
document.addEventListener("load", (event) => { if (event.target.matches && event.target.matches(".msg-html")) sizeFrame(event.target); }, true);
// Back to the tab: what arrived meanwhile in the open conversation is read now.
document.addEventListener("visibilitychange", () => { if (!document.hidden && current) markRead(current); });
