// The conversation list: filters and the URL, the first page and "load more", the view counts,
// and rows refetched (as server-rendered fragments) when live events say they changed. It marks
// the open conversation's row and puts it in the URL through thread.js's hooks; the ticked rows'
// bar (bulk.js) hears onRowsChanged.
import { $, delegate, runHooks, throttle, toast } from "./dom.js";
import { fragment } from "./http.js";
import { fmt, gettext, ngettext } from "./i18n.js";
import { on, onStale } from "./live.js";
import { tick } from "./time.js";
import { currentId, markReadSoon, onConversationClosed, onThreadShown, openConversation } from "./thread.js";

const FILTER_KEYS = ["view", "status", "channel", "priority", "tag", "sla", "q"];
const rowsHooks = [];

// fn() after the list's rows were rendered or refetched.
export function onRowsChanged(fn) { rowsHooks.push(fn); }

// --- filters and the URL ----------------------------------------------------------------------

export function filterQuery() {
  const params = new URLSearchParams(location.search);
  const out = new URLSearchParams();
  FILTER_KEYS.forEach((key) => { if (params.get(key)) out.set(key, params.get(key)); });
  return out;
}

export function pushUrl({ query = filterQuery(), id = currentId() } = {}) {
  const qs = query.toString();
  const path = id ? `/c/${id}/` : "/";
  history.pushState({ id }, "", qs ? `${path}?${qs}` : path);
}

function setFilter(changes) {
  const query = filterQuery();
  Object.entries(changes).forEach(([key, value]) => { if (value) query.set(key, value); else query.delete(key); });
  if (query.get("view") === "all") query.delete("view");
  pushUrl({ query });
  syncFilterControls();
  loadList();
  refreshNav();
}

// The controls follow the URL (after back/forward too).
export function syncFilterControls() {
  const query = filterQuery();
  const form = $("filters");
  ["status", "channel", "priority", "sla", "tag"].forEach((key) => {
    const control = form.elements[key];
    if (control) control.value = query.get(key) || (key === "status" ? "open,pending" : "");
  });
  $("search").value = query.get("q") || "";
  const view = query.get("view") || "all";
  document.querySelectorAll(".nav-view").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
  const active = document.querySelector(`.nav-view[data-view="${view}"] .grow`);
  $("list-title").textContent = (active ? active.textContent : gettext("Inbox")) + (query.get("q") ? ` · “${query.get("q")}”` : "");
}

// --- the list ---------------------------------------------------------------------------------

let listGeneration = 0;

export async function loadList() {
  const generation = ++listGeneration;
  try {
    const content = await fragment(`/desk/list/?${filterQuery()}`);
    if (generation !== listGeneration) return; // the filters changed meanwhile
    $("list").replaceChildren(content);
    markSelectedRow();
    tick($("list"));
    runHooks(rowsHooks);
  } catch (error) {
    toast(fmt(gettext("Could not load the list: %(error)s"), { error: error.message }), { error: true });
  }
}

async function loadMore() {
  const rows = $("rows");
  const cursor = rows && rows.dataset.next;
  if (!cursor) return;
  const query = filterQuery();
  query.set("cursor", cursor);
  const content = await fragment(`/desk/list/?${query}`);
  const more = content.querySelector("#rows");
  more.querySelectorAll("li.row").forEach((row) => {
    if (!rows.querySelector(`li.row[data-id="${row.dataset.id}"]`)) rows.append(row);
  });
  rows.dataset.next = more.dataset.next || "";
  $("load-more").hidden = !more.dataset.next;
  tick(rows);
}

export const refreshNav = throttle(async () => {
  try {
    const content = await fragment(`/desk/counts/?${filterQuery()}`);
    $("nav-views").replaceWith(content);
  } catch { /* counts are a nicety */ }
}, 1500);

// --- rows changed by live events or by the agent ----------------------------------------------------

const rowQueue = new Set();
let rowsBusy = false;

export function queueRows(ids) {
  ids.forEach((id) => rowQueue.add(Number(id)));
  flushRows();
}

// One rows request at a time, so an older answer never overwrites a newer one.
async function flushRows() {
  if (rowsBusy || !rowQueue.size) return;
  rowsBusy = true;
  const ids = [...rowQueue].slice(0, 200);
  ids.forEach((id) => rowQueue.delete(id));
  try {
    const query = filterQuery();
    query.set("ids", ids.join(","));
    applyRows(await fragment(`/desk/rows/?${query}`), ids);
  } catch (error) {
    if (error.status !== 404) ids.forEach((id) => rowQueue.add(id));
  } finally {
    rowsBusy = false;
    if (rowQueue.size) setTimeout(flushRows, 50);
  }
}

function rowKey(row) {
  return [new Date(row.dataset.activity).getTime(), Number(row.dataset.id)];
}

function applyRows(content, ids) {
  const list = $("rows");
  if (!list) return;
  let inserted = 0;
  ids.forEach((id) => {
    const fresh = content.querySelector(`li.row[data-id="${id}"]`);
    const old = list.querySelector(`li.row[data-id="${id}"]`);
    if (!fresh) { // no longer belongs to this list (filters, visibility, status)
      if (old) old.remove();
      return;
    }
    if (old) {
      fresh.querySelector(".pick-box").checked = old.querySelector(".pick-box").checked;
      if (old.dataset.activity !== fresh.dataset.activity) fresh.classList.add("fresh");
      old.remove();
    } else {
      fresh.classList.add("fresh");
      inserted += 1;
    }
    if (id === currentId() && fresh.classList.contains("unread")) {
      // The agent is looking at it: what just arrived is read.
      fresh.classList.remove("unread");
      fresh.querySelector(".unread-dot")?.remove();
      markReadSoon(id);
    }
    // Newest activity first, as the server orders it.
    const [at, pk] = rowKey(fresh);
    const before = [...list.children].find((row) => {
      const [rowAt, rowPk] = rowKey(row);
      return rowAt < at || (rowAt === at && rowPk < pk);
    });
    if (!before && list.dataset.next && list.children.length) return; // older than the loaded page
    list.insertBefore(fresh, before || null);
    tick(fresh);
  });
  markSelectedRow();
  $("list-empty").hidden = list.children.length > 0;
  if (inserted && $("list").scrollTop > 40) {
    $("new-pill").textContent = fmt(ngettext("%(count)s new", "%(count)s new", inserted), { count: inserted });
    $("new-pill").hidden = false;
  }
  runHooks(rowsHooks);
}

export function markSelectedRow() {
  document.querySelectorAll("li.row").forEach((row) => {
    row.classList.toggle("selected", Number(row.dataset.id) === currentId());
  });
}

// --- wiring -----------------------------------------------------------------------------------------

function onConversationChanged(event) {
  queueRows([event.conversation.id]);
  refreshNav();
}
on("conversation.created", onConversationChanged);
on("conversation.updated", onConversationChanged);
onStale(() => { loadList(); refreshNav(); });
onThreadShown((id, { opened, push }) => {
  if (!opened) return;
  if (push) pushUrl({ id });
  markSelectedRow();
});
onConversationClosed(() => markSelectedRow());

// A plain click opens the conversation in place; ctrl/cmd/middle clicks keep the link's new tab.
delegate("click", ".row-link", (event, link) => {
  if (event.ctrlKey || event.metaKey || event.button !== 0) return false;
  event.preventDefault();
  openConversation(link.closest("li.row").dataset.id);
});
delegate("click", ".nav-view", (event, view) => {
  event.preventDefault();
  setFilter({ view: view.dataset.view });
});
delegate("change", "#filters", (event) => {
  const { name, value } = event.target;
  if (name === "tag") return false; // applied on Enter (below), not on every change
  setFilter({ [name]: value === "open,pending" && name === "status" ? "" : value });
});
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.key === "Enter" && target.name === "tag" && target.closest("#filters")) {
    event.preventDefault();
    setFilter({ tag: target.value.trim() });
  }
}, true);
delegate("submit", "#search-form", (event) => {
  event.preventDefault();
  setFilter({ q: $("search").value.trim() });
  $("search").blur();
});
delegate("submit", "#filters", (event, form) => {
  event.preventDefault();
  setFilter({ tag: form.elements.tag.value.trim() });
});
document.addEventListener("click", (event) => { if (event.target.id === "load-more") loadMore(); });
$("list").addEventListener("scroll", () => { if ($("list").scrollTop < 40) $("new-pill").hidden = true; });
$("new-pill").addEventListener("click", () => { $("list").scrollTop = 0; $("new-pill").hidden = true; });
