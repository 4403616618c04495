// Centralita desk client. The server renders every pane (Django templates, autoescaped); this
// module swaps in fresh fragments of those same templates when live events arrive, and sends
// the agent's actions to the REST API. Nothing from JSON is ever put in the DOM as HTML: data
// goes in with textContent; HTML only comes from our own server-rendered fragments.
//
// Never missing a message: the page is rendered with the newest event id it is fresh to; on
// every (re)connect the socket replays what came after from GET /api/events/?after= and, when
// that window no longer reaches back (complete=false), refetches the list and the open pane.
(() => {
  "use strict";

  // Strings: Django's JavaScriptCatalog (/jsi18n/, loaded before this file) defines gettext, ngettext and
  // interpolate in the request's language (docs/languages.md); `make messages` extracts the calls below.
  if (typeof window.gettext !== "function") { // the catalog did not load: the English source text still works
    window.gettext = (text) => text;
    window.ngettext = (singular, plural, count) => (count === 1 ? singular : plural);
    window.interpolate = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }
  const fmt = (text, values) => interpolate(text, values, true);
  // Dates: the user's language and time zone, from <html lang data-time-zone> (the profile, else the desk's).
  const LANG = document.documentElement.lang || undefined;
  const TIME_ZONE = document.documentElement.dataset.timeZone || undefined;

  const json = (id) => JSON.parse(document.getElementById(id).textContent);
  const me = json("desk-user");
  const people = json("desk-people");
  const boot = json("desk-boot");
  const $ = (id) => document.getElementById(id);
  const FILTER_KEYS = ["view", "status", "channel", "priority", "tag", "sla", "q"];

  const state = {
    currentId: boot.conversation_id || null,
    lastEventId: boot.last_event_id || 0,
    seenEvents: new Set(),
    rowQueue: new Set(),
    rowsBusy: false,
    messageQueue: new Set(),
    messagesBusy: false,
    watchers: new Map(), // user id -> {name, state} for the open conversation
    mode: "reply",
    files: [],
    typing: false,
    typingTimer: null,
    presence: sessionStorage.getItem("centralita.presence") || "online",
    notifications: new Map(),
    drafts: new Map(), // conversation id -> {text, mode, files} not sent yet
  };

  // --- HTTP ------------------------------------------------------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && (body.message || body.detail)) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(url, { method = "GET", body, form } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: form || (body === undefined ? undefined : JSON.stringify(body)),
    });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // Server-rendered HTML fragments of our own templates (autoescaped by Django).
  async function fragment(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.redirected && new URL(response.url).pathname === "/login/") location.assign(response.url);
    if (!response.ok) throw new ApiError(response.status, null);
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    return template.content;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function toast(text, { error = false, onClick = null } = {}) {
    const node = el("div", `toast${error ? " error" : ""}`, text);
    node.addEventListener("click", () => { node.remove(); if (onClick) onClick(); });
    $("toasts").append(node);
    setTimeout(() => node.remove(), error ? 8000 : 5000);
  }

  // At most one call per `ms`, with the latest arguments: a busy desk's stream of events must
  // not starve the refresh (a debounce would wait for a quiet moment that never comes).
  function throttle(fn, ms) {
    let timer = null;
    let latest = [];
    return (...args) => {
      latest = args;
      if (!timer) timer = setTimeout(() => { timer = null; fn(...latest); }, ms);
    };
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  // --- time: relative times and waiting clocks tick without a reload ----------------------------------

  function ago(iso, { long = false } = {}) {
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 60) return long ? gettext("under a minute") : gettext("now");
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return fmt(gettext("%(minutes)sm"), { minutes });
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return fmt(gettext("%(hours)sh %(minutes)sm"), { hours, minutes: String(minutes % 60).padStart(2, "0") });
    const days = Math.floor(hours / 24);
    return days < 30 ? fmt(gettext("%(days)sd %(hours)sh"), { days, hours: hours % 24 }) : DATE_FORMAT.format(new Date(iso));
  }

  function dateFormat(options) {
    try {
      return new Intl.DateTimeFormat(LANG, { ...options, timeZone: TIME_ZONE });
    } catch { // a zone this browser does not know: its own
      return new Intl.DateTimeFormat(LANG, options);
    }
  }

  const LOCAL_TIME = dateFormat({ day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  const DATE_FORMAT = dateFormat({ day: "numeric", month: "short", year: "numeric" });
  const INPUT_PARTS = dateFormat({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

  function tick(root = document) {
    root.querySelectorAll("time.ago[datetime]").forEach((node) => { node.textContent = ago(node.getAttribute("datetime")); });
    // Absolute times in the agent's own time zone (the server renders its own).
    root.querySelectorAll("time.msg-time[datetime]").forEach((node) => {
      node.textContent = LOCAL_TIME.format(new Date(node.getAttribute("datetime")));
    });
    root.querySelectorAll('input[data-field="snoozed_until"][data-iso]').forEach((input) => {
      if (input.dataset.iso && document.activeElement !== input) input.value = localInputValue(new Date(input.dataset.iso));
    });
    root.querySelectorAll(".waiting[data-since]").forEach((node) => {
      const text = node.querySelector(".wait-text");
      if (text) text.textContent = ago(node.dataset.since, { long: true });
    });
    root.querySelectorAll(".badge.sla[data-remaining]").forEach(slaCountdown);
  }

  // SLA badges count down in WORKING time: the server says how many working seconds were left at
  // as_of and whether the calendar was open then (ticking) until when; past `until` the count
  // stands still until the row is fetched again (a live event, or the next render). The state
  // itself (due soon, breached) comes from the server's sweep, pushed live.
  function slaCountdown(node) {
    const left = node.querySelector(".sla-left");
    if (!left) return;
    let seconds = Number(node.dataset.remaining);
    if (node.dataset.ticking === "1") {
      const from = new Date(node.dataset.asOf).getTime();
      const to = node.dataset.until ? Math.min(Date.now(), new Date(node.dataset.until).getTime()) : Date.now();
      seconds -= Math.max(0, (to - from) / 1000);
    }
    const abs = Math.abs(seconds);
    const minutes = Math.floor(abs / 60);
    const text = minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
    left.textContent = (seconds < 0 ? node.dataset.over : node.dataset.left).replace("%s", text);
  }

  // --- filters and the URL ----------------------------------------------------------------------

  function filterQuery() {
    const params = new URLSearchParams(location.search);
    const out = new URLSearchParams();
    FILTER_KEYS.forEach((key) => { if (params.get(key)) out.set(key, params.get(key)); });
    return out;
  }

  function pushUrl({ query = filterQuery(), id = state.currentId } = {}) {
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

  function syncFilterControls() {
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

  // --- the list ---------------------------------------------------------------------------------------

  let listGeneration = 0;

  async function loadList() {
    const generation = ++listGeneration;
    try {
      const content = await fragment(`/desk/list/?${filterQuery()}`);
      if (generation !== listGeneration) return; // the filters changed meanwhile
      $("list").replaceChildren(content);
      markSelectedRow();
      tick($("list"));
      updateBulkBar();
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

  const refreshNav = throttle(async () => {
    try {
      const content = await fragment(`/desk/counts/?${filterQuery()}`);
      $("nav-views").replaceWith(content);
    } catch { /* counts are a nicety */ }
  }, 1500);

  function queueRows(ids) {
    ids.forEach((id) => state.rowQueue.add(Number(id)));
    flushRows();
  }

  // One rows request at a time, so an older answer never overwrites a newer one.
  async function flushRows() {
    if (state.rowsBusy || !state.rowQueue.size) return;
    state.rowsBusy = true;
    const ids = [...state.rowQueue].slice(0, 200);
    ids.forEach((id) => state.rowQueue.delete(id));
    try {
      const query = filterQuery();
      query.set("ids", ids.join(","));
      applyRows(await fragment(`/desk/rows/?${query}`), ids);
    } catch (error) {
      if (error.status !== 404) ids.forEach((id) => state.rowQueue.add(id));
    } finally {
      state.rowsBusy = false;
      if (state.rowQueue.size) setTimeout(flushRows, 50);
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
      if (id === state.currentId && fresh.classList.contains("unread")) {
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
    updateBulkBar();
  }

  function markSelectedRow() {
    document.querySelectorAll("li.row").forEach((row) => {
      row.classList.toggle("selected", Number(row.dataset.id) === state.currentId);
    });
  }

  // --- bulk actions -------------------------------------------------------------------------------

  function pickedIds() {
    return [...document.querySelectorAll(".pick-box:checked")].map((box) => Number(box.value));
  }

  function updateBulkBar() {
    const ids = pickedIds();
    $("bulk-bar").hidden = ids.length === 0;
    $("bulk-count").textContent = fmt(ngettext("%(count)s selected", "%(count)s selected", ids.length), { count: ids.length });
    const all = document.querySelectorAll(".pick-box");
    $("pick-all").checked = ids.length > 0 && ids.length === all.length;
  }

  async function bulk(changes) {
    const ids = pickedIds();
    if (!ids.length) return;
    try {
      const result = await api("/api/conversations/bulk/", { method: "POST", body: { ids, changes } });
      toast(fmt(ngettext("Updated %(count)s conversation", "Updated %(count)s conversations", result.updated), { count: result.updated }));
      document.querySelectorAll(".pick-box:checked").forEach((box) => { box.checked = false; });
      queueRows(ids);
      refreshNav();
      if (ids.includes(state.currentId)) refreshHeader();
    } catch (error) {
      toast(fmt(gettext("Bulk change failed: %(error)s"), { error: error.message }), { error: true });
    }
    updateBulkBar();
  }

  // --- the open conversation -----------------------------------------------------------------------------

  let threadGeneration = 0;

  async function openConversation(id, { push = true } = {}) {
    id = Number(id);
    const generation = ++threadGeneration;
    const previous = state.currentId;
    try {
      const content = await fragment(`/desk/conversations/${id}/`);
      if (generation !== threadGeneration) return;
      if (previous && previous !== id) watch("left", previous);
      saveDraft(previous);
      state.currentId = id;
      state.watchers.clear();
      state.files = [];
      const customer = content.querySelector("#customer-pane-content");
      $("thread-pane").replaceChildren(content.querySelector("#thread"));
      $("customer-pane").replaceChildren(customer.content);
      if (push) pushUrl({ id });
      afterThreadRender();
      restoreDraft(id);
      markSelectedRow();
      watch("viewing");
      markRead(id);
    } catch (error) {
      if (generation !== threadGeneration) return;
      toast(error.status === 404 ? gettext("That conversation is not visible to you any more.") : fmt(gettext("Could not open: %(error)s"), { error: error.message }), { error: true });
    }
  }

  // Half-written replies survive switching conversations and a refetch after a reconnect.
  function saveDraft(id) {
    const text = $("composer-text");
    if (!id || !text) return;
    if (text.value || state.files.length) state.drafts.set(id, { text: text.value, mode: state.mode, files: state.files });
    else state.drafts.delete(id);
  }

  function restoreDraft(id) {
    const draft = state.drafts.get(id);
    if (!draft || !$("composer-text")) return;
    $("composer-text").value = draft.text;
    state.files = draft.files;
    renderFiles();
    setMode(draft.mode);
  }

  function closeConversation() {
    saveDraft(state.currentId);
    if (state.currentId) watch("left", state.currentId);
    state.currentId = null;
    const empty = el("div", "empty-state");
    empty.append(el("p", "", gettext("Pick a conversation, or press j.")));
    $("thread-pane").replaceChildren(empty);
    $("customer-pane").replaceChildren(el("div", "empty-state small", gettext("The customer's identities and whole history show here.")));
    markSelectedRow();
  }

  function afterThreadRender() {
    const text = $("composer-text");
    if (text && !text.dataset.replyPlaceholder) text.dataset.replyPlaceholder = text.placeholder;
    tick($("thread-pane"));
    tick($("customer-pane"));
    document.querySelectorAll(".msg-html").forEach(sizeFrame);
    renderCollision();
    setMode($("composer") && $("composer").dataset.canReply === "1" ? "reply" : "note");
    updateCounter();
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

  function markRead(id) {
    const row = document.querySelector(`li.row[data-id="${id}"]`);
    if (row) {
      row.classList.remove("unread");
      const dot = row.querySelector(".unread-dot");
      if (dot) dot.remove();
    }
    api(`/api/conversations/${id}/read/`, { method: "POST" }).catch(() => {});
  }

  const markReadSoon = throttle((id) => { if (id === state.currentId && !document.hidden) markRead(id); }, 500);

  const refreshHeader = throttle(async () => {
    const id = state.currentId;
    if (!id || !$("conv-head")) return;
    try {
      const content = await fragment(`/desk/conversations/${id}/header/`);
      if (id !== state.currentId || !$("conv-head")) return;
      // Keep what the agent is typing in a header field (a new tag) across the swap.
      const active = document.activeElement;
      const editing = $("conv-head").contains(active) && active.matches("input") ? active : null;
      $("conv-head").replaceWith(content.querySelector("#conv-head"));
      if (editing) {
        const again = $("conv-head").querySelector(editing.dataset.field ? `[data-field="${editing.dataset.field}"]` : ".tag-input");
        if (again) { again.value = editing.value; again.focus(); }
      }
      tick($("conv-head"));
      renderCollision();
    } catch (error) {
      if (error.status === 404) closeConversation(); // no longer visible (moved to another team)
    }
  }, 150);

  function queueMessages(ids) {
    ids.forEach((id) => state.messageQueue.add(Number(id)));
    flushMessages();
  }

  async function flushMessages() {
    if (state.messagesBusy || !state.messageQueue.size || !state.currentId) return;
    state.messagesBusy = true;
    const id = state.currentId;
    const ids = [...state.messageQueue];
    state.messageQueue.clear();
    try {
      const content = await fragment(`/desk/conversations/${id}/messages/?ids=${ids.join(",")}`);
      if (id === state.currentId) applyMessages(content);
    } catch { /* the conversation went away; the next open refetches */ } finally {
      state.messagesBusy = false;
      if (state.messageQueue.size) setTimeout(flushMessages, 50);
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

  const refreshTimeline = throttle(async () => {
    const customer = $("customer");
    if (!customer) return;
    try {
      const content = await fragment(`/desk/customers/${customer.dataset.customerId}/timeline/?current=${state.currentId || ""}`);
      $("timeline").replaceChildren(content);
      tick($("timeline"));
    } catch { /* merged or gone: the next open refetches */ }
  }, 400);

  // --- agent actions on the open conversation ---------------------------------------------------------------

  async function patchConversation(changes, id = state.currentId) {
    if (!id) return;
    try {
      await api(`/api/conversations/${id}/`, { method: "PATCH", body: changes });
      queueRows([id]);
      refreshNav();
      if (id === state.currentId) refreshHeader();
    } catch (error) {
      toast(error.message, { error: true });
      if (id === state.currentId) refreshHeader();
    }
  }

  async function claim() {
    const id = state.currentId;
    if (!id) return;
    try {
      await api(`/api/conversations/${id}/claim/`, { method: "POST" });
    } catch (error) {
      if (error.status === 409) {
        const takeOver = window.centralitaDesk.confirmTakeover || (async (e) => confirm(`${e.message}\n\n${gettext("Take it over anyway?")}`));
        if (!(await takeOver(error))) return;
        await api(`/api/conversations/${id}/claim/?force=1`, { method: "POST" }).catch((e) => toast(e.message, { error: true }));
      } else if (error.status === 404 || error.status === 405) {
        return patchConversation({ assignee: me.id }); // a server without the claim endpoint
      } else {
        toast(error.message, { error: true });
        return;
      }
    }
    queueRows([id]);
    refreshNav();
    refreshHeader();
  }

  // The snooze field shows and takes wall-clock time in the user's zone (not the browser's).
  function snoozeDefault() {
    const tomorrow = localInputValue(new Date(Date.now() + 24 * 3600 * 1000)).slice(0, 10);
    return fromLocalInput(`${tomorrow}T09:00`);
  }

  function localInputValue(date) {
    const parts = Object.fromEntries(INPUT_PARTS.formatToParts(date).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  // "YYYY-MM-DDTHH:MM" in the user's zone -> a Date: take it as UTC, then correct by the zone's offset then.
  function fromLocalInput(value) {
    const wanted = Date.parse(`${value}:00Z`);
    let guess = wanted;
    for (let i = 0; i < 2; i += 1) guess = wanted - (Date.parse(`${localInputValue(new Date(guess))}:00Z`) - guess);
    return new Date(guess);
  }

  function onFieldChange(control) {
    const field = control.dataset.field;
    const value = control.value;
    if (field === "status" && value === "snoozed") {
      const input = document.querySelector('[data-field="snoozed_until"]');
      input.closest("label").hidden = false;
      const until = input.value ? fromLocalInput(input.value) : snoozeDefault();
      input.value = localInputValue(until);
      return patchConversation({ status: "snoozed", snoozed_until: until.toISOString() });
    }
    if (field === "snoozed_until") {
      if (!value) return;
      return patchConversation({ status: "snoozed", snoozed_until: fromLocalInput(value).toISOString() });
    }
    if (field === "assignee" || field === "team") return patchConversation({ [field]: value ? Number(value) : null });
    if (field === "priority") return patchConversation({ priority: Number(value) });
    return patchConversation({ [field]: value });
  }

  function currentTags() {
    const box = document.querySelector(".tags-edit");
    return box && box.dataset.tags ? box.dataset.tags.split(",").filter(Boolean) : [];
  }

  // --- the composer -----------------------------------------------------------------------------------------

  function setMode(mode) {
    const composer = $("composer");
    if (!composer) return;
    if (mode === "reply" && composer.dataset.canReply !== "1") mode = "note";
    state.mode = mode;
    composer.classList.toggle("mode-note", mode === "note");
    composer.querySelectorAll(".tab").forEach((tab) => tab.classList.toggle("active", tab.dataset.mode === mode));
    $("composer-send").textContent = mode === "note" ? gettext("Add note") : gettext("Send reply");
    $("composer-text").placeholder = mode === "note"
      ? gettext("Internal note: only agents see it. @name notifies a colleague.")
      : $("composer-text").dataset.replyPlaceholder || $("composer-text").placeholder;
    updateCounter();
  }

  function textLength(text) {
    const composer = $("composer");
    const urlChars = Number(composer.dataset.urlChars || 0);
    if (!urlChars) return text.length;
    const urls = text.match(/https?:\/\/\S+/gi) || [];
    return text.replace(/https?:\/\/\S+/gi, "").length + urlChars * urls.length;
  }

  function updateCounter() {
    const composer = $("composer");
    if (!composer) return;
    const max = state.mode === "reply" ? Number(composer.dataset.max || 0) : 0;
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
    const kind = state.mode === "note" ? "note" : "message";
    const visibility = composer.querySelector('input[name="visibility"]:checked');
    const isPublic = kind === "message" && visibility ? visibility.value === "public" : null;
    let request;
    if (state.files.length) {
      const form = new FormData();
      form.append("text", text);
      form.append("kind", kind);
      if (isPublic !== null) form.append("public", isPublic ? "true" : "false");
      state.files.forEach((file) => form.append("files", file));
      request = { method: "POST", form };
    } else {
      request = { method: "POST", body: { text, kind, ...(isPublic === null ? {} : { public: isPublic }) } };
    }
    $("composer-send").disabled = true;
    $("composer-error").hidden = true;
    try {
      const message = await api(`/api/conversations/${id}/messages/`, request);
      textarea.value = "";
      state.files = [];
      state.drafts.delete(id);
      renderFiles();
      stopTyping();
      if (id === state.currentId) queueMessages([message.id]);
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
    list.replaceChildren(...state.files.map((file, index) => {
      const item = el("li", "", `${fmt(gettext("%(name)s (%(size)s KB)"), { name: file.name, size: Math.ceil(file.size / 1024) })} `);
      const remove = el("button", "tag-x", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", fmt(gettext("Remove %(name)s"), { name: file.name }));
      remove.addEventListener("click", () => { state.files.splice(index, 1); renderFiles(); });
      item.append(remove);
      return item;
    }));
  }

  // Typing indicator for the other agents (collision): "typing" while keys go down, "viewing" after a pause.
  function noteTyping() {
    if (!state.typing) {
      state.typing = true;
      watch("typing");
    }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, 4000);
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (state.typing) {
      state.typing = false;
      watch("viewing");
    }
  }

  // A small menu at the caret: "@" in a note lists colleagues to mention; "/" at the start of
  // a line lists canned responses by shortcut (their variables filled in by the server).
  const caretMenu = { items: [], active: 0, start: -1 };

  function updateCaretMenu() {
    const textarea = $("composer-text");
    const before = textarea.value.slice(0, textarea.selectionStart);
    const mention = state.mode === "note" && before.match(/(^|\s)@([\w.+-]*)$/);
    if (mention) {
      const word = mention[2].toLowerCase();
      const items = people.agents
        .filter((a) => a.id !== me.id && (a.username.toLowerCase().startsWith(word) || a.name.toLowerCase().includes(word)))
        .slice(0, 8)
        .map((a) => ({ label: `@${a.username}`, hint: a.name !== a.username ? a.name : "", text: async () => `@${a.username} ` }));
      showCaretMenu(textarea.selectionStart - word.length - 1, items);
      return;
    }
    const canned = before.match(/(^|\n)\/([\w-]*)$/);
    if (canned) {
      cannedByShortcut(textarea.selectionStart - canned[2].length - 1, canned[2]);
      return;
    }
    $("mention-menu").hidden = true;
  }

  const cannedByShortcut = debounce(async (start, word) => {
    let results = [];
    try {
      const data = await api(`/api/canned-responses/?q=${encodeURIComponent(word)}`);
      results = Array.isArray(data) ? data : data.results || [];
    } catch { /* none set up */ }
    const textarea = $("composer-text");
    if (!textarea || textarea.value.slice(start, textarea.selectionStart) !== `/${word}`) return; // typed on meanwhile
    showCaretMenu(start, results.slice(0, 8).map((item) => ({
      label: `/${item.shortcut}`, hint: item.title, text: () => renderCanned(item.id),
    })));
  }, 150);

  function showCaretMenu(start, items) {
    const menu = $("mention-menu");
    caretMenu.start = start;
    caretMenu.items = items;
    caretMenu.active = 0;
    if (!items.length) { menu.hidden = true; return; }
    menu.replaceChildren(...items.map((item, index) => {
      const li = el("li", index === 0 ? "active" : "", item.label);
      li.setAttribute("role", "option");
      if (item.hint) li.append(el("span", "muted", item.hint));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); chooseCaretItem(index); });
      return li;
    }));
    menu.hidden = false;
  }

  async function chooseCaretItem(index) {
    const textarea = $("composer-text");
    const item = caretMenu.items[index];
    const { start } = caretMenu;
    const end = textarea.selectionStart;
    $("mention-menu").hidden = true;
    try {
      const text = await item.text();
      textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
      textarea.focus();
      textarea.setSelectionRange(start + text.length, start + text.length);
      updateCounter();
    } catch (error) {
      toast(error.message, { error: true });
    }
  }

  function caretMenuKeys(event) {
    const menu = $("mention-menu");
    if (menu.hidden) return false;
    const count = caretMenu.items.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      caretMenu.active = (caretMenu.active + (event.key === "ArrowDown" ? 1 : -1) + count) % count;
      [...menu.children].forEach((item, i) => item.classList.toggle("active", i === caretMenu.active));
    } else if (event.key === "Enter" || event.key === "Tab") {
      chooseCaretItem(caretMenu.active);
    } else if (event.key === "Escape") {
      menu.hidden = true;
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  // Canned responses: search, pick, and the server fills the variables ({{customer.name}}, {{agent.name}}...).
  async function searchCanned() {
    const list = $("canned-list");
    try {
      const items = await api(`/api/canned-responses/?q=${encodeURIComponent($("canned-search").value)}`);
      const results = Array.isArray(items) ? items : items.results || [];
      list.replaceChildren(...results.slice(0, 20).map((item) => {
        const li = el("li", "", item.title || item.shortcut);
        li.setAttribute("role", "option");
        li.append(el("span", "muted", item.text));
        li.addEventListener("mousedown", (e) => { e.preventDefault(); insertCanned(item.id); });
        return li;
      }));
      if (!results.length) list.replaceChildren(el("li", "muted", gettext("No canned responses match.")));
    } catch (error) {
      list.replaceChildren(el("li", "muted", error.status === 404 ? gettext("Canned responses are not set up.") : error.message));
    }
  }

  const searchCannedSoon = debounce(searchCanned, 200);

  async function renderCanned(cannedId) {
    const { text } = await api(`/api/canned-responses/${cannedId}/render/`, {
      method: "POST", body: { conversation_id: state.currentId },
    });
    return text;
  }

  async function insertCanned(cannedId) {
    $("canned-menu").hidden = true;
    try {
      const text = await renderCanned(cannedId);
      const textarea = $("composer-text");
      const at = textarea.selectionStart;
      textarea.value = textarea.value.slice(0, at) + text + textarea.value.slice(textarea.selectionEnd);
      textarea.focus();
      textarea.setSelectionRange(at + text.length, at + text.length);
      updateCounter();
    } catch (error) {
      toast(error.message, { error: true });
    }
  }

  // --- the customer sidebar ------------------------------------------------------------------------------------

  async function mergeInto(otherId, name) {
    const customer = $("customer");
    if (!customer) return;
    const other = name || fmt(gettext("customer #%(id)s"), { id: otherId });
    if (!confirm(fmt(gettext("Merge %(other)s into %(customer)s? Their identities and conversations move here."), { other, customer: $("customer-name").textContent }))) return;
    try {
      await api(`/api/customers/${customer.dataset.customerId}/merge/`, { method: "POST", body: { other_id: Number(otherId) } });
      toast(gettext("Customers merged"));
      if (state.currentId) openConversation(state.currentId, { push: false });
    } catch (error) {
      toast(error.message, { error: true });
    }
  }

  const searchMerge = debounce(async () => {
    const q = $("merge-query").value.trim();
    const results = $("merge-results");
    const current = Number($("customer").dataset.customerId);
    if (q.length < 2) { results.replaceChildren(); return; }
    try {
      const data = await api(`/api/customers/?q=${encodeURIComponent(q)}&page_size=8`);
      results.replaceChildren(...data.results.filter((c) => c.id !== current).map((c) => {
        const item = el("li");
        const ids = c.identities.map((i) => i.handle || i.value).slice(0, 2).join(", ");
        item.append(el("span", "", `${c.name || c.display_name || gettext("Unknown")} #${c.id}${ids ? ` · ${ids}` : ""}`));
        const button = el("button", "btn small", gettext("Merge"));
        button.type = "button";
        button.addEventListener("click", () => mergeInto(c.id, c.name || c.display_name));
        item.append(button);
        return item;
      }));
      if (!results.children.length) results.replaceChildren(el("li", "muted", gettext("No other customer matches.")));
    } catch (error) {
      results.replaceChildren(el("li", "muted", error.message));
    }
  }, 250);

  async function logCall(form) {
    const error = form.querySelector(".form-error");
    error.hidden = true;
    const data = new FormData(form);
    const body = {
      direction: data.get("direction"),
      status: data.get("status"),
      duration_seconds: Math.max(0, Math.round(Number(data.get("minutes") || 0) * 60)),
      notes: data.get("notes") || "",
    };
    if (data.get("phone")) body.phone = data.get("phone");
    if (state.currentId) body.conversation_id = state.currentId;
    const followUp = data.get("followup") === "1"; // issue 15: then write an email follow-up (static/desk/outbound.js)
    try {
      const message = await api(`/api/customers/${form.dataset.customer}/calls/`, { method: "POST", body });
      if (followUp) document.dispatchEvent(new CustomEvent("desk:follow-up", { detail: { customerId: Number(form.dataset.customer), kind: "email" } }));
      form.reset();
      form.closest("details").open = false;
      toast(gettext("Call logged"));
      if (message && message.id) queueMessages([message.id]);
      refreshTimeline();
    } catch (err) {
      error.textContent = err.status === 404 ? gettext("Call logging is not available on this server yet.") : err.message;
      error.hidden = false;
    }
  }

  // --- live events ---------------------------------------------------------------------------------------------

  function handleEvent(event) {
    if (event.id != null) {
      if (state.seenEvents.has(event.id)) return;
      state.seenEvents.add(event.id);
      if (state.seenEvents.size > 5000) state.seenEvents.delete(state.seenEvents.values().next().value);
      state.lastEventId = Math.max(state.lastEventId, event.id);
    }
    switch (event.type) {
      case "conversation.created":
      case "conversation.updated": {
        const c = event.conversation;
        queueRows([c.id]);
        refreshNav();
        if (c.id === state.currentId) refreshHeader();
        break;
      }
      case "message.created": {
        const m = event.message;
        if (m.conversation_id === state.currentId) queueMessages([m.id]);
        const customer = $("customer");
        if (customer && Number(customer.dataset.customerId) === m.customer_id) refreshTimeline();
        break;
      }
      case "message.updated": {
        const m = event.message;
        if (m.conversation_id === state.currentId && $(`m-${m.id}`)) queueMessages([m.id]);
        break;
      }
      case "collision":
        onCollision(event);
        break;
      case "presence":
        onPresence(event);
        break;
      case "notification":
        onNotification(event.notification);
        break;
      default:
        break;
    }
  }

  async function resync(after) {
    let complete = false;
    try {
      // A small overlap: ids from two publishers can commit out of order; seen ids are skipped.
      const data = await api(`/api/events/?after=${Math.max(0, after - 20)}`);
      complete = Boolean(data.complete);
      (data.events || []).forEach(handleEvent);
      if (data.last_id) state.lastEventId = Math.max(state.lastEventId, data.last_id);
    } catch {
      complete = false; // no event log on this server: refetch what the page shows
    }
    if (!complete) {
      loadList();
      refreshNav();
      if (state.currentId) openConversation(state.currentId, { push: false });
    }
  }

  let socket = null;
  let retryDelay = 1000;
  let held = false; // a deliberate disconnect (Centralita.disconnect): no reconnect until resumed
  let pingTimer = null;

  function connect() {
    if (held) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/desk/`);
    socket = ws;
    ws.addEventListener("open", () => {
      retryDelay = 1000;
      setLive(true);
      resync(state.lastEventId);
      send({ type: "presence", status: state.presence });
      if (state.currentId) watch(state.typing ? "typing" : "viewing");
      if (me.supervisor) loadAgents();
      clearInterval(pingTimer);
      pingTimer = setInterval(() => send({ type: "ping" }), 25000);
    });
    ws.addEventListener("message", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (data && data.type && data.type !== "hello" && data.type !== "pong") handleEvent(data);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      setLive(false);
      if (event.code === 4401) {
        location.assign(`/login/?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      const delay = retryDelay * (0.75 + Math.random() * 0.5);
      retryDelay = Math.min(retryDelay * 2, 30000);
      setTimeout(connect, delay);
    });
  }

  function send(data) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
  }

  function setLive(online) {
    const live = $("live");
    live.classList.toggle("online", online);
    live.classList.toggle("offline", !online);
    live.textContent = online ? gettext("live") : gettext("reconnecting…");
  }

  // --- collision: who else is here ------------------------------------------------------------------------------

  function watch(watchState, id = state.currentId) {
    if (id) send({ type: "watch", conversation_id: id, state: watchState });
  }

  function onCollision(event) {
    if (!event.user || event.user.id === me.id || event.conversation_id !== state.currentId) return;
    const isNew = !state.watchers.has(event.user.id);
    if (event.state === "left") state.watchers.delete(event.user.id);
    else state.watchers.set(event.user.id, { name: event.user.name || event.user.username, state: event.state });
    // Tell a newcomer we are here too (once per newcomer, so two desks do not echo forever).
    if (isNew && event.state !== "left") watch(state.typing ? "typing" : "viewing");
    renderCollision();
  }

  function renderCollision() {
    const bar = $("collision");
    if (!bar) return;
    const parts = [...state.watchers.values()].map((w) => {
      const doing = { typing: gettext("%(name)s is typing…"), idle: gettext("%(name)s has it open (idle)") }[w.state] || gettext("%(name)s is viewing");
      return el("span", w.state === "typing" ? "typing" : "", fmt(doing, { name: w.name }));
    });
    bar.replaceChildren();
    parts.forEach((part, i) => { if (i) bar.append(document.createTextNode(" · ")); bar.append(part); });
    bar.hidden = parts.length === 0;
  }

  // --- presence and the supervisors' agents panel --------------------------------------------------------------

  function setPresence(status) {
    state.presence = status;
    sessionStorage.setItem("centralita.presence", status);
    $("presence").value = status;
    $("presence-dot").className = `presence-dot ${status}`;
    send({ type: "presence", status });
  }

  const agents = new Map();

  async function loadAgents() {
    const list = $("agents-list");
    if (!list) return;
    try {
      const data = await api("/api/agents/");
      agents.clear();
      (Array.isArray(data) ? data : data.results || []).forEach((a) => agents.set(a.id, a));
      renderAgents();
    } catch (error) {
      list.replaceChildren(el("li", "muted small", error.status === 404 ? gettext("Agent presence is not available.") : error.message));
    }
  }

  function renderAgents() {
    const list = $("agents-list");
    if (!list) return;
    const order = { online: 0, away: 1, offline: 2 };
    const sorted = [...agents.values()].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || a.name.localeCompare(b.name));
    list.replaceChildren(...sorted.map((a) => {
      const item = el("li");
      item.dataset.agent = a.id;
      const dot = el("span", `presence-dot ${a.status || "offline"}`);
      dot.title = { online: gettext("Online"), away: gettext("Away") }[a.status] || gettext("Offline");
      item.append(dot, el("span", "", a.name || a.username));
      if (a.open_assigned != null) item.append(el("span", "open-count", fmt(ngettext("%(count)s open", "%(count)s open", a.open_assigned), { count: a.open_assigned })));
      return item;
    }));
    if (!sorted.length) list.replaceChildren(el("li", "muted small", gettext("No agents.")));
  }

  function onPresence(event) {
    if (!event.user || !$("agents-list")) return;
    const known = agents.get(event.user.id) || { id: event.user.id, name: event.user.name, role: "agent" };
    agents.set(event.user.id, { ...known, status: event.status });
    renderAgents();
  }

  // --- notifications: mentions and new assigned work ------------------------------------------------------------

  function onNotification(notification, { quiet = false } = {}) {
    if (!notification || state.notifications.has(notification.id)) return;
    state.notifications.set(notification.id, notification);
    renderNotifications();
    if (quiet) return;
    const title = notificationTitle(notification);
    const open = () => openNotification(notification);
    toast(`${title}: ${notification.text || fmt(gettext("conversation #%(id)s"), { id: notification.conversation_id })}`, { onClick: open });
    if ("Notification" in window && Notification.permission === "granted") {
      const desktop = new Notification(title, { body: notification.text || "", tag: `centralita-${notification.id}` });
      desktop.onclick = () => { window.focus(); open(); desktop.close(); };
    }
  }

  // A notification leads to its conversation, or (a channel that started failing) to its `link`.
  function notificationTitle(n) {
    const titles = boot.notification_titles || {};  // the server's (SLA kinds among them)
    if (n.kind === "channel_failing") return titles[n.kind] || gettext("A channel started failing");
    return titles[n.kind] || (n.kind === "mention" ? gettext("You were mentioned") : gettext("New work assigned to you"));
  }

  function openNotification(n) {
    readNotifications([n.id]);
    if (n.link && !n.conversation_id) { window.location.assign(n.link); return; }
    openConversation(n.conversation_id);
  }

  function renderNotifications() {
    const items = [...state.notifications.values()].sort((a, b) => b.id - a.id);
    const count = $("notif-count");
    count.textContent = String(items.length);
    count.hidden = items.length === 0;
    const list = $("notif-list");
    if (!items.length) { list.replaceChildren(el("li", "muted", gettext("Nothing new."))); return; }
    list.replaceChildren(...items.map((n) => {
      const item = el("li");
      const link = el("a");
      const channel = n.link && !n.conversation_id;
      link.href = channel ? n.link : `/c/${n.conversation_id}/`;
      link.append(el("strong", "", channel ? notificationTitle(n) : (boot.notification_titles || {})[n.kind] || (n.kind === "mention" ? gettext("Mention") : gettext("Assigned"))),
        document.createTextNode(channel ? "" : ` · #${n.conversation_id}`));
      link.append(el("div", "muted small", n.text || ""));
      link.addEventListener("click", (e) => {
        e.preventDefault();
        $("notif-panel").hidden = true;
        openNotification(n);
      });
      item.append(link);
      return item;
    }));
  }

  function readNotifications(ids) {
    ids.forEach((id) => state.notifications.delete(id));
    renderNotifications();
    api("/api/notifications/read/", { method: "POST", body: { ids } }).catch(() => {});
  }

  async function loadNotifications() {
    try {
      const data = await api("/api/notifications/?unread=1");
      (Array.isArray(data) ? data : data.results || []).forEach((n) => onNotification(n, { quiet: true }));
    } catch { /* not available on this server */ }
    $("notif-enable").hidden = !("Notification" in window) || Notification.permission !== "default";
  }

  // --- keyboard -----------------------------------------------------------------------------------------------------

  function moveSelection(step) {
    const rows = [...document.querySelectorAll("li.row")];
    if (!rows.length) return;
    const index = rows.findIndex((row) => Number(row.dataset.id) === state.currentId);
    const next = rows[Math.min(rows.length - 1, Math.max(0, index === -1 ? 0 : index + step))];
    next.scrollIntoView({ block: "nearest" });
    openConversation(next.dataset.id);
  }

  function focusComposer(mode) {
    if (!$("composer")) return;
    setMode(mode);
    $("composer-text").focus();
  }

  function onKey(event) {
    const target = event.target;
    const typing = target.matches && target.matches("input, textarea, select, [contenteditable]");
    if (target.id === "composer-text") {
      if (caretMenuKeys(event)) return;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); $("composer").requestSubmit(); }
      if (event.key === "Escape") { $("canned-menu").hidden = true; target.blur(); }
      return;
    }
    if (event.key === "Escape") {
      $("help").hidden = true;
      $("notif-panel").hidden = true;
      if (typing) target.blur();
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const actions = {
      j: () => moveSelection(1),
      k: () => moveSelection(-1),
      r: () => focusComposer("reply"),
      n: () => focusComposer("note"),
      c: () => claim(),
      e: () => state.currentId && patchConversation({ status: "resolved" }),
      x: () => {
        const box = document.querySelector(`li.row[data-id="${state.currentId}"] .pick-box`);
        if (box) { box.checked = !box.checked; updateBulkBar(); }
      },
      "/": () => { $("search").focus(); $("search").select(); },
      "?": () => { $("help").hidden = !$("help").hidden; },
    };
    const action = actions[event.key];
    if (action) { event.preventDefault(); action(); }
  }

  // --- wiring -------------------------------------------------------------------------------------------------------

  document.addEventListener("keydown", onKey);

  document.addEventListener("click", (event) => {
    const target = event.target;
    const row = target.closest(".row-link");
    if (row && !event.ctrlKey && !event.metaKey && event.button === 0) {
      event.preventDefault();
      openConversation(row.closest("li.row").dataset.id);
      return;
    }
    const open = target.closest("[data-open]");
    if (open && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      openConversation(open.dataset.open);
      return;
    }
    const view = target.closest(".nav-view");
    if (view) {
      event.preventDefault();
      setFilter({ view: view.dataset.view });
      return;
    }
    const tab = target.closest(".tab[data-mode]");
    if (tab && !tab.disabled) { setMode(tab.dataset.mode); $("composer-text").focus(); return; }
    const bulkButton = target.closest("[data-bulk]");
    if (bulkButton) {
      const changes = { claim: { assignee: me.id }, resolve: { status: "resolved" }, spam: { status: "spam" } }[bulkButton.dataset.bulk];
      if (bulkButton.dataset.bulk !== "spam" || confirm(gettext("Mark the selected conversations as spam?"))) bulk(changes);
      return;
    }
    const button = target.closest("[data-action]");
    if (!button) {
      if (!target.closest(".notif")) $("notif-panel").hidden = true;
      if (!target.closest("#canned-menu") && target.id !== "canned-open") { const menu = $("canned-menu"); if (menu) menu.hidden = true; }
      return;
    }
    const action = button.dataset.action;
    if (action === "claim") claim();
    else if (action === "resolve") patchConversation({ status: "resolved" });
    else if (action === "reopen") patchConversation({ status: "open" });
    else if (action === "spam") { if (confirm(gettext("Mark this conversation as spam / abusive? It leaves every queue."))) patchConversation({ status: "spam" }); }
    else if (action === "untag") patchConversation({ tags: currentTags().filter((t) => t !== button.dataset.tag) });
    else if (action === "retry") {
      button.disabled = true;
      api(`/api/messages/${button.dataset.message}/retry/`, { method: "POST" })
        .then(() => queueMessages([button.dataset.message]))
        .catch((error) => { button.disabled = false; toast(error.message, { error: true }); });
    } else if (action === "hide-comment") {
      button.disabled = true;
      api(`/api/messages/${button.dataset.message}/hide/`, { method: "POST" })
        .then(() => { queueMessages([button.dataset.message]); toast(gettext("Comment hidden on Facebook")); })
        .catch((error) => { button.disabled = false; toast(error.message, { error: true }); });
    } else if (action === "merge") mergeInto(button.dataset.other, button.dataset.name);
    else if (action === "dismiss-suggestion") {
      api(`/api/merge-suggestions/${button.dataset.suggestion}/dismiss/`, { method: "POST" })
        .then(() => button.closest(".suggestion").remove())
        .catch((error) => toast(error.message, { error: true }));
    } else if (action === "timeline-more") {
      fragment(`/desk/customers/${button.dataset.customer}/timeline/?before=${encodeURIComponent(button.dataset.before)}&current=${state.currentId || ""}`)
        .then((content) => { const item = button.closest("li"); tick(content); item.replaceWith(content); })
        .catch((error) => toast(error.message, { error: true }));
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-field]")) onFieldChange(target);
    else if (target.matches(".pick-box")) updateBulkBar();
    else if (target.id === "pick-all") {
      document.querySelectorAll(".pick-box").forEach((box) => { box.checked = target.checked; });
      updateBulkBar();
    } else if (target.closest("#filters") && target.name !== "tag") setFilter({ [target.name]: target.value === "open,pending" && target.name === "status" ? "" : target.value });
    else if (target.id === "bulk-assign" && target.value) { bulk({ assignee: target.value === "none" ? null : Number(target.value) }); target.value = ""; }
    else if (target.id === "bulk-team" && target.value) { bulk({ team: Number(target.value) }); target.value = ""; }
    else if (target.id === "bulk-priority" && target.value) { bulk({ priority: Number(target.value) }); target.value = ""; }
    else if (target.id === "composer-attach") {
      state.files = [...state.files, ...target.files].slice(0, 10);
      target.value = "";
      renderFiles();
    } else if (target.id === "presence") setPresence(target.value);
    else if (target.name === "visibility") updateCounter();
  });

  document.addEventListener("input", (event) => {
    const target = event.target;
    if (target.id === "composer-text") { updateCounter(); updateCaretMenu(); noteTyping(); }
    else if (target.id === "canned-search") searchCannedSoon();
    else if (target.id === "merge-query") searchMerge();
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "Enter") return;
    if (target.classList.contains("tag-input")) {
      event.preventDefault();
      const tag = target.value.trim().toLowerCase();
      if (tag) patchConversation({ tags: [...new Set([...currentTags(), tag])] });
      target.value = "";
    } else if (target.name === "tag" && target.closest("#filters")) {
      event.preventDefault();
      setFilter({ tag: target.value.trim() });
    }
  }, true);

  document.addEventListener("submit", (event) => {
    if (event.target.id === "composer") sendComposer(event);
    else if (event.target.id === "search-form") { event.preventDefault(); setFilter({ q: $("search").value.trim() }); $("search").blur(); }
    else if (event.target.id === "filters") { event.preventDefault(); setFilter({ tag: event.target.elements.tag.value.trim() }); }
    else if (event.target.id === "log-call") { event.preventDefault(); logCall(event.target); }
  });

  document.addEventListener("focusin", (event) => {
    if (event.target.id === "canned-search") searchCanned();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("#canned-open")) {
      const menu = $("canned-menu");
      menu.hidden = !menu.hidden;
      if (!menu.hidden) { $("canned-search").value = ""; $("canned-search").focus(); }
    }
  });
  // Iframe load events do not bubble; capture them to size sandboxed message bodies.
  document.addEventListener("load", (event) => { if (event.target.matches && event.target.matches(".msg-html")) sizeFrame(event.target); }, true);

  document.addEventListener("click", (event) => { if (event.target.id === "load-more") loadMore(); });
  $("list").addEventListener("scroll", () => { if ($("list").scrollTop < 40) $("new-pill").hidden = true; });
  $("new-pill").addEventListener("click", () => { $("list").scrollTop = 0; $("new-pill").hidden = true; });
  $("help-button").addEventListener("click", () => { $("help").hidden = false; });
  $("help-close").addEventListener("click", () => { $("help").hidden = true; });
  $("help").addEventListener("click", (event) => { if (event.target.id === "help") $("help").hidden = true; });
  $("notif-button").addEventListener("click", () => { $("notif-panel").hidden = !$("notif-panel").hidden; });
  $("notif-enable").addEventListener("click", () => {
    Notification.requestPermission().then(() => { $("notif-enable").hidden = Notification.permission !== "default"; });
  });
  // For the desk's ES modules (static/desk/outbound.js): what they need of this client, nothing more.
  window.centralitaDesk = Object.assign(window.centralitaDesk || {}, { api, toast, openConversation, refreshHeader, refreshNav, queueRows, fmt, localInputValue, fromLocalInput, ago });

  window.addEventListener("popstate", () => {
    syncFilterControls();
    loadList();
    refreshNav();
    const match = location.pathname.match(/^\/c\/(\d+)\/$/);
    if (match) openConversation(match[1], { push: false });
    else closeConversation();
  });
  window.addEventListener("beforeunload", () => watch("left"));
  // Others see "idle" while this tab is in the background.
  document.addEventListener("visibilitychange", () => {
    watch(document.hidden ? "idle" : state.typing ? "typing" : "viewing");
    if (!document.hidden && state.currentId) markRead(state.currentId);
  });
  setInterval(() => tick(), 15000);

  // A small handle for the browser tests and for debugging from the console.
  window.Centralita = {
    state,
    disconnect() { held = true; if (socket) socket.close(); },
    reconnect() { held = false; retryDelay = 1000; connect(); },
  };

  setPresence(state.presence);
  if (state.currentId) { afterThreadRender(); markRead(state.currentId); }
  tick();
  loadNotifications();
  connect();
})();
