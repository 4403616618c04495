// Issue 15: agents write first, schedule call-backs, and see who holds what before taking it over.
// A feature module of main.js (docs/desk-frontend.md); the dialogs' markup is server-rendered
// (templates/desk/_outbound.html, translated there); data from JSON goes in with textContent only.
//
// Hooks: any element with data-outbound="new" (optionally data-customer, data-customer-name,
// data-kind) opens "New conversation"; data-outbound="callback" opens the call-back dialog for the
// open conversation; customer.js dispatches "desk:follow-up" after a call is logged with "then write
// an email"; actions.js's claim asks the takeover confirmation set here before taking someone else's.
import { toast } from "./dom.js";
import { api } from "./http.js";
import { fmt, gettext } from "./i18n.js";
import { queueRows, refreshNav } from "./list.js";
import { openConversation, refreshHeader } from "./thread.js";
import { ago, fromLocalInput, localInputValue } from "./time.js";
import { setTakeoverConfirm } from "./actions.js";

const desk = { api, toast, queueRows, refreshNav, openConversation, refreshHeader, ago, fromLocalInput, localInputValue };
const $ = (id) => document.getElementById(id);
const KIND_LABELS = () => ({
  email: gettext("Email"), phone: gettext("Phone"), twitter: gettext("X"), facebook: gettext("Messenger"),
  web: gettext("Web visitor"), external: gettext("External system id"), api: gettext("API"),
});

// A date in the user's language and time zone (<html lang data-time-zone>), as the desk shows them.
function localTime(date) {
  const options = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, { ...options, timeZone: document.documentElement.dataset.timeZone || undefined }).format(date);
  } catch { // a zone this browser does not know
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, options).format(date);
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function show(id) {
  $(id).hidden = false;
  const first = $(id).querySelector("input:not([hidden]):not([type=radio]), textarea, button.primary");
  if (first) first.focus();
}

function hide(id) { $(id).hidden = true; }

for (const id of ["outbound", "callback", "takeover"]) {
  $(id).addEventListener("click", (event) => {
    if (event.target.id === id || event.target.closest("[data-close]")) hide(id);
  });
  $(id).addEventListener("keydown", (event) => { if (event.key === "Escape") { event.stopPropagation(); hide(id); } });
}

// --- New conversation -------------------------------------------------------------------------

const ob = { customer: null, options: [], route: null, files: [], searchTimer: null, prefer: null };

function openNew({ customerId = null, customerName = "", kind = null } = {}) {
  Object.assign(ob, { customer: null, options: [], route: null, files: [], prefer: kind });
  $("outbound-form").reset();
  $("ob-results").replaceChildren();
  $("ob-file-list").replaceChildren();
  for (const id of ["ob-routes", "ob-compose", "ob-notice", "ob-error", "ob-chosen"]) $(id).hidden = true;
  $("ob-customer-pick").hidden = false;
  $("ob-send").disabled = true;
  show("outbound");
  if (customerId) pickCustomer(customerId, customerName);
}

$("ob-search").addEventListener("input", () => {
  clearTimeout(ob.searchTimer);
  ob.searchTimer = setTimeout(searchCustomers, 250);
});

async function searchCustomers() {
  const q = $("ob-search").value.trim();
  const list = $("ob-results");
  if (q.length < 2) { list.replaceChildren(); return; }
  try {
    const page = await desk.api(`/api/customers/?q=${encodeURIComponent(q)}`);
    const items = (page.results || []).slice(0, 8).map((c) => {
      const item = el("li");
      const button = el("button", "ob-result");
      button.type = "button";
      button.append(el("strong", "", c.name || c.display_name));
      const ids = (c.identities || []).map((i) => i.handle || i.value).slice(0, 3).join(" · ");
      if (ids) button.append(el("span", "muted small", ids));
      button.addEventListener("click", () => pickCustomer(c.id, c.name || c.display_name));
      item.append(button);
      return item;
    });
    list.replaceChildren(...(items.length ? items : [el("li", "muted small", gettext("No customer found."))]));
  } catch (error) {
    list.replaceChildren(el("li", "form-error small", error.message));
  }
}

$("ob-change").addEventListener("click", () => {
  $("ob-chosen").hidden = true;
  $("ob-routes").hidden = $("ob-compose").hidden = $("ob-notice").hidden = true;
  $("ob-customer-pick").hidden = false;
  $("ob-search").focus();
});

async function pickCustomer(id, name) {
  ob.customer = { id, name };
  $("ob-customer-name").textContent = name || fmt(gettext("Customer #%(id)s"), { id });
  $("ob-customer-pick").hidden = true;
  $("ob-chosen").hidden = false;
  try {
    ob.options = await desk.api(`/api/customers/${id}/outbound/`);
  } catch (error) {
    return fail(error.message);
  }
  renderRoutes();
}

function renderRoutes() {
  const labels = KIND_LABELS();
  const list = $("ob-route-list");
  const rows = [];
  let preferred = null;
  for (const option of ob.options) {
    const identity = option.identity;
    const shown = identity.handle || identity.value;
    if (!option.accounts.length) {
      const row = el("div", "ob-route unreachable");
      row.append(el("span", "ob-route-id", `${labels[identity.kind] || identity.kind}: ${shown}`));
      row.append(el("span", "muted small", identity.kind === "phone"
        ? gettext("No channel sends messages to a phone number: call back (the number is a link) or schedule a call-back.")
        : gettext("None of your channel accounts can write to this.")));
      if (identity.kind === "phone") {
        const call = el("a", "btn small", gettext("Call"));
        call.href = `tel:${identity.value}`;
        row.append(call);
      }
      rows.push(row);
      continue;
    }
    for (const account of option.accounts) {
      const row = el("label", `ob-route${account.can_send ? "" : " refused"}`);
      const radio = el("input");
      radio.type = "radio";
      radio.name = "route";
      radio.value = `${identity.id}:${account.id}`;
      radio.addEventListener("change", () => chooseRoute(identity, account));
      row.append(radio);
      const text = el("span", "ob-route-text");
      text.append(el("span", "ob-route-id", `${labels[identity.kind] || identity.kind}: ${shown}`));
      text.append(el("span", "muted small", fmt(gettext("from %(account)s"), { account: account.name })));
      if (account.conversation_id) text.append(el("span", "muted small", fmt(gettext("into conversation #%(id)s"), { id: account.conversation_id })));
      if (account.notice) text.append(el("span", `ob-rule small${account.can_send ? "" : " refused"}`, account.notice));
      row.append(text);
      rows.push(row);
      if (account.can_send && !preferred && (!ob.prefer || identity.kind === ob.prefer)) preferred = radio;
    }
  }
  if (!rows.length) rows.push(el("p", "muted", gettext("This customer has no address or account to write to.")));
  list.replaceChildren(...rows);
  $("ob-routes").hidden = false;
  if (preferred) { preferred.checked = true; preferred.dispatchEvent(new Event("change")); }
}

function chooseRoute(identity, account) {
  ob.route = { identity, account };
  $("ob-error").hidden = true;
  const notice = $("ob-notice");
  notice.textContent = account.notice || "";
  notice.hidden = !account.notice;
  notice.classList.toggle("refused", !account.can_send);
  $("ob-compose").hidden = !account.can_send;
  $("ob-subject-label").hidden = account.kind !== "email";
  $("ob-text").maxLength = account.max_chars || 100000;
  $("ob-send").disabled = !account.can_send;
  if (account.can_send) $(account.kind === "email" ? "ob-subject" : "ob-text").focus();
}

$("ob-files").addEventListener("change", (event) => {
  ob.files.push(...event.target.files);
  event.target.value = "";
  $("ob-file-list").replaceChildren(...ob.files.map((file, index) => {
    const item = el("li", "", file.name);
    const remove = el("button", "btn subtle small", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", fmt(gettext("Remove %(name)s"), { name: file.name }));
    remove.addEventListener("click", () => { ob.files.splice(index, 1); item.remove(); });
    item.append(remove);
    return item;
  }));
});

function fail(message) {
  $("ob-error").textContent = message;
  $("ob-error").hidden = false;
}

$("outbound-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!ob.route) return;
  const form = new FormData();
  form.append("customer", ob.customer.id);
  form.append("identity", ob.route.identity.id);
  form.append("channel_account", ob.route.account.id);
  if (ob.route.account.kind === "email") form.append("subject", $("ob-subject").value);
  form.append("text", $("ob-text").value);
  for (const file of ob.files) form.append("files[]", file);
  $("ob-send").disabled = true;
  try {
    const conversation = await desk.api("/api/conversations/", { method: "POST", form });
    hide("outbound");
    desk.toast(gettext("Message queued: it shows Sent once the channel has it."));
    desk.queueRows([conversation.id]);
    desk.refreshNav();
    desk.openConversation(conversation.id);
  } catch (error) {
    fail(error.message);
    $("ob-send").disabled = false;
  }
});

// --- Schedule call-back -------------------------------------------------------------------------

function currentConversation() {
  const head = document.getElementById("conv-head");
  return head ? Number(head.dataset.id) : null;
}

function openCallback() {
  if (!currentConversation()) return;
  $("callback-error").hidden = true;
  $("callback-at").value = desk.localInputValue(new Date(Date.now() + 60 * 60 * 1000));
  show("callback");
}

$("callback").querySelectorAll("[data-in]").forEach((button) => button.addEventListener("click", () => {
  let at;
  if (button.dataset.in === "tomorrow") {
    const tomorrow = desk.localInputValue(new Date(Date.now() + 24 * 3600 * 1000)).slice(0, 10);
    at = desk.fromLocalInput(`${tomorrow}T09:00`);
  } else {
    at = new Date(Date.now() + Number(button.dataset.in) * 60 * 1000);
  }
  $("callback-at").value = desk.localInputValue(at);
}));

$("callback-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = currentConversation();
  const at = desk.fromLocalInput($("callback-at").value);
  try {
    await desk.api(`/api/conversations/${id}/callback/`, { method: "POST", body: { at: at.toISOString() } });
    hide("callback");
    desk.toast(fmt(gettext("Call-back scheduled: it comes back to you at %(when)s"), { when: localTime(at) }));
    desk.queueRows([id]);
    desk.refreshNav();
    desk.refreshHeader();
  } catch (error) {
    $("callback-error").textContent = error.message;
    $("callback-error").hidden = false;
  }
});

// --- Take over: who holds it, since when ----------------------------------------------------------

let takeoverAnswer = null;

setTakeoverConfirm((error) => new Promise((resolve) => {
  const extra = (error.body && error.body.extra) || {};
  if (!extra.assignee) { resolve(window.confirm(`${error.message}\n\n${gettext("Take it over anyway?")}`)); return; }
  const name = extra.assignee.name || extra.assignee.username;
  $("takeover-who").textContent = extra.since
    ? fmt(gettext("%(name)s has held it since %(when)s (%(ago)s)."), {
      name, when: localTime(new Date(extra.since)),
      ago: desk.ago(extra.since, { long: true }),
    })
    : fmt(gettext("%(name)s holds it."), { name });
  takeoverAnswer = resolve;
  show("takeover");
}));

$("takeover-yes").addEventListener("click", () => { hide("takeover"); if (takeoverAnswer) takeoverAnswer(true); takeoverAnswer = null; });
new MutationObserver(() => {
  if ($("takeover").hidden && takeoverAnswer) { takeoverAnswer(false); takeoverAnswer = null; }
}).observe($("takeover"), { attributes: true, attributeFilter: ["hidden"] });

// --- hooks ----------------------------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-outbound]");
  if (!trigger) return;
  event.preventDefault();
  if (trigger.dataset.outbound === "callback") { openCallback(); return; }
  openNew({
    customerId: trigger.dataset.customer ? Number(trigger.dataset.customer) : null,
    customerName: trigger.dataset.customerName || "",
    kind: trigger.dataset.kind || null,
  });
});

document.addEventListener("desk:follow-up", (event) => {
  const name = document.getElementById("customer-name");
  openNew({ customerId: event.detail.customerId, customerName: name ? name.textContent : "", kind: event.detail.kind });
});
