// Centralita desk: fetch state over the REST API, then apply live events from /ws/desk/.
// The socket is a notification channel: on every (re)connect the page refetches what it shows.
// Untrusted text goes in with textContent; only a message's `html` (sanitized on the server
// during ingest) is inserted as HTML.
(() => {
  "use strict";

  const me = JSON.parse(document.getElementById("desk-user").textContent);
  const $ = (id) => document.getElementById(id);
  const CHANNEL_LABELS = { email: "Email", phone: "Phone", twitter: "X", facebook: "Facebook", webform: "Form", api: "API" };
  const PRIORITY_LABELS = { 0: "Low", 1: "Normal", 2: "High", 3: "Urgent" };

  const state = {
    status: "open",
    conversations: new Map(), // id -> conversation as the API shapes it
    next: null,
    listGeneration: 0,
    currentId: null,
    threadGeneration: 0,
    messageIds: new Set(),
    customerId: null,
    timelineIds: new Set(),
    timelineNext: null,
    channels: new Map(), // channel account id -> {id, kind, name}
    users: new Map([[me.id, { id: me.id, username: me.username }]]),
    pendingDetails: new Set(),
    flash: new Set(),
  };

  // --- HTTP -----------------------------------------------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(url, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = csrfToken();
    }
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (response.status === 403 && data && /credentials|authenticat/i.test(data.message || "")) {
      window.location.assign(`/login/?next=${encodeURIComponent(location.pathname + location.hash)}`);
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // --- formatting ---------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function relativeTime(iso) {
    if (!iso) return "";
    const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
    if (seconds < 45) return "now";
    if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
    if (seconds < 86400) return `${Math.round(seconds / 3600)}h`;
    if (seconds < 7 * 86400) return `${Math.round(seconds / 86400)}d`;
    return new Date(iso).toLocaleDateString();
  }

  function fullTime(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function channelChip(channel) {
    const kind = channel ? channel.kind : "";
    const chip = el("span", `channel ${kind}`, CHANNEL_LABELS[kind] || kind || "?");
    if (channel) chip.title = channel.name;
    return chip;
  }

  // --- the conversation list -------------------------------------------------------------------

  function remember(conversation) {
    state.conversations.set(conversation.id, conversation);
    state.channels.set(conversation.channel.id, conversation.channel);
    if (conversation.assignee) state.users.set(conversation.assignee.id, conversation.assignee);
  }

  function matchesFilter(conversation) {
    return !state.status || conversation.status === state.status;
  }

  async function loadList({ more = false } = {}) {
    const generation = more ? state.listGeneration : ++state.listGeneration;
    const url = more ? state.next : `/api/conversations/?page_size=50${state.status ? `&status=${state.status}` : ""}`;
    if (!url) return;
    try {
      const data = await api(url);
      if (generation !== state.listGeneration) return; // the filter changed meanwhile
      if (!more) state.conversations.clear();
      data.results.forEach(remember);
      state.next = data.next;
      renderList();
    } catch (error) {
      showListError(error);
    }
  }

  function showListError(error) {
    $("list-empty").hidden = false;
    $("list-empty").textContent = `Could not load conversations: ${error.message}`;
  }

  function sortedConversations() {
    return [...state.conversations.values()].sort(
      (a, b) => new Date(b.last_activity_at) - new Date(a.last_activity_at) || b.id - a.id,
    );
  }

  function renderList() {
    const list = $("conversations");
    const items = sortedConversations().map(conversationItem);
    list.replaceChildren(...items);
    state.flash.clear();
    $("list-empty").hidden = items.length > 0;
    $("list-empty").textContent = "No conversations here.";
    $("load-more").hidden = !state.next;
  }

  function conversationItem(c) {
    const item = el("li", "conversation");
    item.dataset.id = c.id;
    if (c.id === state.currentId) item.classList.add("selected");
    if (state.flash.has(c.id)) item.classList.add("fresh");

    const top = el("div", "row");
    top.append(channelChip(c.channel), el("span", "customer-name grow", c.customer.display_name || "Unknown"));
    const time = el("span", "time", relativeTime(c.last_activity_at));
    time.title = fullTime(c.last_activity_at);
    top.append(time);
    item.append(top);

    if (c.subject) item.append(el("div", "subject", c.subject));
    item.append(el("div", "preview", c.last_message_preview || ""));

    const tags = el("div", "tags");
    if (!state.status) tags.append(el("span", `tag status-${c.status}`, c.status));
    if (c.priority >= 2) tags.append(el("span", `tag p${c.priority}`, PRIORITY_LABELS[c.priority]));
    if (c.waiting_since) {
      const waiting = el("span", "tag waiting", `waiting ${relativeTime(c.waiting_since)}`);
      waiting.title = `Waiting for a reply since ${fullTime(c.waiting_since)}`;
      tags.append(waiting);
    }
    tags.append(el("span", "tag", c.assignee ? `@${c.assignee.username}` : "unassigned"));
    if (c.team) tags.append(el("span", "tag", c.team.name));
    item.append(tags);
    item.addEventListener("click", () => openConversation(c.id));
    return item;
  }

  // --- the open conversation --------------------------------------------------------------------

  async function openConversation(id) {
    const generation = ++state.threadGeneration;
    state.currentId = id;
    state.messageIds.clear();
    history.replaceState(null, "", `#/conversations/${id}`);
    document.querySelectorAll(".conversation").forEach((node) => {
      node.classList.toggle("selected", Number(node.dataset.id) === id);
    });
    $("thread-empty").hidden = true;
    $("thread").hidden = false;
    $("messages").replaceChildren();
    $("composer-error").hidden = true;
    try {
      let conversation = state.conversations.get(id);
      if (!conversation) {
        conversation = await api(`/api/conversations/${id}/`);
        state.channels.set(conversation.channel.id, conversation.channel);
      }
      if (generation !== state.threadGeneration) return;
      renderThreadHeader(conversation);
      loadCustomer(conversation.customer.id);
      let url = `/api/conversations/${id}/messages/?page_size=100`;
      for (let page = 0; url && page < 20; page += 1) {
        const data = await api(url);
        if (generation !== state.threadGeneration) return;
        data.results.forEach((message) => appendMessage(message, conversation));
        url = data.next;
      }
      scrollThreadToEnd();
    } catch (error) {
      if (generation !== state.threadGeneration) return;
      $("thread-title").textContent = error.status === 404 ? "Not found (or not yours to see)" : "Could not load";
      $("thread-meta").textContent = error.message;
    }
  }

  function renderThreadHeader(c) {
    $("thread-title").textContent = c.subject || c.customer.display_name || `Conversation ${c.id}`;
    const meta = $("thread-meta");
    meta.replaceChildren(
      channelChip(c.channel),
      document.createTextNode(
        ` ${c.customer.display_name} · ${c.channel.name} · ${PRIORITY_LABELS[c.priority] || ""} priority · ` +
          `${c.assignee ? `assigned to ${c.assignee.username}` : "unassigned"}` +
          `${c.is_public ? " · public" : ""} · #${c.id}`,
      ),
    );
    $("thread-status").value = c.status;
    $("composer-text").placeholder =
      c.channel.kind === "twitter" && c.is_public ? "Reply in public on X…" : `Reply by ${CHANNEL_LABELS[c.channel.kind] || "the same channel"}…`;
  }

  function authorName(message, conversation) {
    if (message.direction === "in") return conversation ? conversation.customer.display_name : "Customer";
    const author = message.author || state.users.get(message.author_id);
    if (author) return author.username;
    if (message.author_id) return `agent #${message.author_id}`;
    return conversation ? conversation.channel.name : "Sent";
  }

  function messageNode(message, conversation) {
    const kindClass = message.kind === "message" ? "" : message.kind;
    const node = el("li", `message ${message.direction} ${kindClass}`.trim());
    node.dataset.id = message.id;
    const head = el("div", "message-head");
    head.append(el("span", "author", authorName(message, conversation)));
    if (message.kind === "note") head.append(el("span", "", "internal note"));
    if (message.kind === "call") head.append(el("span", "", "call"));
    if (message.kind === "form") head.append(el("span", "", "form"));
    if (message.is_public) head.append(el("span", "", "public"));
    const time = el("span", "", fullTime(message.sent_at));
    head.append(time);
    node.append(head);
    if (message.subject && !/^re:/i.test(message.subject)) node.append(el("div", "message-subject", message.subject));
    const body = el("div", "message-body");
    if (message.html) {
      body.classList.add("html");
      body.innerHTML = message.html; // sanitized server-side (nh3) when it was ingested
    } else {
      body.textContent = message.text;
    }
    node.append(body);
    if (message.attachments && message.attachments.length) {
      const files = el("div", "attachments");
      message.attachments.forEach((a) => {
        const link = el("a", "", `📎 ${a.filename}`);
        if (/^(https?:)?\//.test(a.url || "")) link.href = a.url;
        link.rel = "noopener noreferrer";
        files.append(link);
      });
      node.append(files);
    }
    if (message.direction === "out" && message.kind === "message") node.append(deliveryNode(message));
    return node;
  }

  function deliveryNode(message) {
    const failed = message.delivery_status === "failed";
    const text = failed ? `failed: ${message.delivery_error || "not sent"}` : message.delivery_status;
    const node = el("div", `delivery ${failed ? "failed" : ""}`, text);
    node.dataset.delivery = "";
    return node;
  }

  function appendMessage(message, conversation) {
    if (state.messageIds.has(message.id)) return;
    state.messageIds.add(message.id);
    const list = $("messages");
    // Keep the thread in time order even when an event arrives out of order.
    const node = messageNode(message, conversation);
    node.dataset.sentAt = message.sent_at;
    const after = [...list.children].find((child) => new Date(child.dataset.sentAt) > new Date(message.sent_at));
    list.insertBefore(node, after || null);
  }

  function threadNearEnd() {
    const pane = document.querySelector(".thread-pane");
    return pane.scrollHeight - pane.scrollTop - pane.clientHeight < 120;
  }

  function scrollThreadToEnd() {
    const pane = document.querySelector(".thread-pane");
    pane.scrollTop = pane.scrollHeight;
  }

  // --- the customer: identities and cross-channel history ------------------------------------------

  async function loadCustomer(customerId) {
    state.customerId = customerId;
    state.timelineIds.clear();
    $("customer-empty").hidden = true;
    $("customer").hidden = false;
    $("timeline").replaceChildren();
    try {
      const [customer, timeline] = await Promise.all([
        api(`/api/customers/${customerId}/`),
        api(`/api/customers/${customerId}/timeline/?page_size=30`),
      ]);
      if (state.customerId !== customerId) return;
      renderCustomer(customer);
      timeline.results.forEach((item) => addTimelineItem(item, false));
      state.timelineNext = timeline.next;
      $("timeline-more").hidden = !timeline.next;
    } catch (error) {
      $("customer-name").textContent = "Customer";
      $("identities").replaceChildren(el("li", "muted", `Could not load: ${error.message}`));
    }
  }

  async function loadOlderTimeline() {
    if (!state.timelineNext) return;
    const customerId = state.customerId;
    const data = await api(state.timelineNext);
    if (state.customerId !== customerId) return;
    data.results.forEach((item) => addTimelineItem(item, false));
    state.timelineNext = data.next;
    $("timeline-more").hidden = !data.next;
  }

  function renderCustomer(customer) {
    $("customer-name").textContent = customer.display_name || `Customer ${customer.id}`;
    $("identities").replaceChildren(
      ...customer.identities.map((identity) => {
        const item = el("li");
        item.append(el("span", `channel ${identity.kind === "web" ? "webform" : identity.kind}`, identity.kind));
        item.append(el("span", "", identity.handle || identity.value));
        if (identity.display_name && identity.display_name !== customer.display_name) {
          item.append(el("span", "muted small", identity.display_name));
        }
        return item;
      }),
    );
    $("suggestions").replaceChildren(
      ...(customer.open_merge_suggestions || []).map((s) =>
        el("div", "suggestion", `Possibly the same person as ${s.other.display_name} (#${s.other.id}): ${s.reason}`),
      ),
    );
  }

  function addTimelineItem(item, prepend) {
    if (state.timelineIds.has(item.id)) return;
    state.timelineIds.add(item.id);
    const conversationId = item.conversation_id ?? (item.conversation && item.conversation.id) ?? item.conversation;
    const channel = item.channel || state.channels.get(item.channel_account_id);
    const node = el("li", item.direction);
    if (conversationId === state.currentId) node.classList.add("current");
    const head = el("div", "row small");
    head.append(channelChip(channel));
    head.append(el("span", "muted grow", `${item.direction === "in" ? "from customer" : item.kind === "note" ? "note" : "reply"} · #${conversationId}`));
    const time = el("span", "time", relativeTime(item.sent_at));
    time.title = fullTime(item.sent_at);
    head.append(time);
    node.append(head, el("div", "timeline-text", item.text || item.subject || `(${item.kind})`));
    node.addEventListener("click", () => openConversation(conversationId));
    const timeline = $("timeline");
    timeline.insertBefore(node, prepend ? timeline.firstChild : null);
  }

  // --- agent actions ------------------------------------------------------------------------

  async function changeStatus(event) {
    const id = state.currentId;
    if (!id) return;
    try {
      const updated = await api(`/api/conversations/${id}/`, { method: "PATCH", body: { status: event.target.value } });
      remember(updated);
      if (!matchesFilter(updated)) state.conversations.delete(updated.id);
      renderList();
      renderThreadHeader(updated);
    } catch (error) {
      showComposerError(error);
    }
  }

  async function send(event) {
    event.preventDefault();
    const id = state.currentId;
    const textarea = $("composer-text");
    const text = textarea.value.trim();
    if (!id || !text) return;
    const kind = (event.submitter && event.submitter.dataset.kind) || "message";
    const buttons = event.target.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    $("composer-error").hidden = true;
    try {
      const message = await api(`/api/conversations/${id}/messages/`, { method: "POST", body: { text, kind } });
      if (state.currentId === id) {
        appendMessage(message, state.conversations.get(id));
        scrollThreadToEnd();
      }
      textarea.value = "";
    } catch (error) {
      showComposerError(error);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function showComposerError(error) {
    $("composer-error").textContent = error.message;
    $("composer-error").hidden = false;
  }

  // --- live events ----------------------------------------------------------------------------

  function fetchConversation(id) {
    if (state.pendingDetails.has(id)) return;
    state.pendingDetails.add(id);
    api(`/api/conversations/${id}/`)
      .then((conversation) => {
        if (!matchesFilter(conversation)) return;
        remember(conversation);
        state.flash.add(conversation.id);
        renderList();
        if (conversation.id === state.currentId) renderThreadHeader(conversation);
      })
      .catch(() => {}) // 404: no longer visible to this user
      .finally(() => state.pendingDetails.delete(id));
  }

  function applyConversation(data) {
    const known = state.conversations.get(data.id);
    if (!known) {
      // New to this page: the event carries ids only, the list wants names; fetch it once.
      if (matchesFilter(data)) fetchConversation(data.id);
      return;
    }
    const assigneeKnown = data.assignee_id == null || state.users.has(data.assignee_id);
    const teamSame = (known.team ? known.team.id : null) === (data.team_id ?? null);
    Object.assign(known, {
      status: data.status,
      priority: data.priority,
      subject: data.subject,
      is_public: data.is_public,
      last_activity_at: data.last_activity_at,
      waiting_since: data.waiting_since,
      last_message_preview: data.last_message_preview,
      message_count: data.message_count,
      assignee: data.assignee_id == null ? null : state.users.get(data.assignee_id) || known.assignee,
    });
    if (!matchesFilter(known)) {
      state.conversations.delete(known.id);
    } else {
      state.flash.add(known.id);
      if (!assigneeKnown || !teamSame) fetchConversation(known.id);
    }
    renderList();
    if (known.id === state.currentId) renderThreadHeader(known);
  }

  function applyMessage(message) {
    if (message.conversation_id === state.currentId) {
      const nearEnd = threadNearEnd();
      appendMessage(message, state.conversations.get(message.conversation_id));
      if (nearEnd) scrollThreadToEnd();
    }
    if (message.customer_id === state.customerId) addTimelineItem(message, true);
  }

  function applyMessageUpdate(message) {
    const node = document.querySelector(`.message[data-id="${message.id}"]`);
    if (!node) return;
    const old = node.querySelector("[data-delivery]");
    const fresh = deliveryNode(message);
    if (old) old.replaceWith(fresh);
    else node.append(fresh);
  }

  function resync() {
    loadList();
    if (state.currentId) openConversation(state.currentId);
  }

  let socket = null;
  let retryDelay = 1000;
  let everOpened = false;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/desk/`);
    socket.addEventListener("open", () => {
      retryDelay = 1000;
      everOpened = true;
      setLive(true);
      resync(); // anything published while we were away is only in the database
    });
    socket.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (data.type === "conversation.created" || data.type === "conversation.updated") applyConversation(data.conversation);
      else if (data.type === "message.created") applyMessage(data.message);
      else if (data.type === "message.updated") applyMessageUpdate(data.message);
    });
    socket.addEventListener("close", (event) => {
      setLive(false);
      if (event.code === 4401) {
        window.location.assign("/login/?next=/");
        return;
      }
      const delay = retryDelay * (0.75 + Math.random() * 0.5);
      retryDelay = Math.min(retryDelay * 2, 15000);
      setTimeout(connect, delay);
    });
  }

  function setLive(online) {
    const live = $("live");
    live.classList.toggle("online", online);
    live.classList.toggle("offline", !online);
    live.textContent = online ? "live" : "reconnecting…";
  }

  // --- wiring ----------------------------------------------------------------------------------

  document.querySelectorAll(".filter").forEach((button) => {
    button.addEventListener("click", () => {
      document.querySelectorAll(".filter").forEach((b) => b.classList.toggle("active", b === button));
      state.status = button.dataset.status;
      loadList();
    });
  });
  $("load-more").addEventListener("click", () => loadList({ more: true }));
  $("timeline-more").addEventListener("click", loadOlderTimeline);
  $("thread-status").addEventListener("change", changeStatus);
  $("composer").addEventListener("submit", send);
  // Relative times age: refresh them once a minute.
  setInterval(renderList, 60000);

  const linked = location.hash.match(/^#\/conversations\/(\d+)$/);
  if (linked) openConversation(Number(linked[1]));
  connect(); // its "open" loads the list, so no event falls between the fetch and the socket
  // Without a socket (a proxy that drops websockets) the desk still shows its state.
  setTimeout(() => { if (!everOpened) loadList(); }, 2000);
})();
