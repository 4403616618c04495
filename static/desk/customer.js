// The customer sidebar: the customer's timeline across conversations (kept live), merging
// duplicate customers, and logging a phone call.
import { $, action, debounce, delegate, el, toast, throttle } from "./dom.js";
import { api, fragment } from "./http.js";
import { fmt, gettext } from "./i18n.js";
import { on } from "./live.js";
import { tick } from "./time.js";
import { currentId, openConversation, queueMessages } from "./thread.js";

const refreshTimeline = throttle(async () => {
  const customer = $("customer");
  if (!customer) return;
  try {
    const content = await fragment(`/desk/customers/${customer.dataset.customerId}/timeline/?current=${currentId() || ""}`);
    $("timeline").replaceChildren(content);
    tick($("timeline"));
  } catch { /* merged or gone: the next open refetches */ }
}, 400);

async function mergeInto(otherId, name) {
  const customer = $("customer");
  if (!customer) return;
  const other = name || fmt(gettext("customer #%(id)s"), { id: otherId });
  if (!confirm(fmt(gettext("Merge %(other)s into %(customer)s? Their identities and conversations move here."), { other, customer: $("customer-name").textContent }))) return;
  try {
    await api(`/api/customers/${customer.dataset.customerId}/merge/`, { method: "POST", body: { other_id: Number(otherId) } });
    toast(gettext("Customers merged"));
    if (currentId()) openConversation(currentId(), { push: false });
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
  if (currentId()) body.conversation_id = currentId();
  const followUp = data.get("followup") === "1"; // then write an email follow-up (outbound.js hears it)
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

// --- wiring -----------------------------------------------------------------------------------------

// A message of this customer's, in any conversation, is a new line in the timeline.
on("message.created", (event) => {
  const customer = $("customer");
  if (customer && Number(customer.dataset.customerId) === event.message.customer_id) refreshTimeline();
});
action("merge", (button) => mergeInto(button.dataset.other, button.dataset.name));
action("dismiss-suggestion", (button) => {
  api(`/api/merge-suggestions/${button.dataset.suggestion}/dismiss/`, { method: "POST" })
    .then(() => button.closest(".suggestion").remove())
    .catch((error) => toast(error.message, { error: true }));
});
action("timeline-more", (button) => {
  fragment(`/desk/customers/${button.dataset.customer}/timeline/?before=${encodeURIComponent(button.dataset.before)}&current=${currentId() || ""}`)
    .then((content) => { const item = button.closest("li"); tick(content); item.replaceWith(content); })
    .catch((error) => toast(error.message, { error: true }));
});
delegate("input", "#merge-query", () => searchMerge());
delegate("submit", "#log-call", (event, form) => { event.preventDefault(); logCall(form); });
