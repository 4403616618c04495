// The agent's actions on the open conversation: the header's fields (status, snooze, assignee,
// team, priority, tags) and buttons (claim, resolve, reopen, spam), and per-message buttons
// (retry a failed send, hide a Facebook comment). Changes go to the REST API; the row, the counts
// and the header are refetched (other desks hear it as live events).
import { action, delegate, me, toast } from "./dom.js";
import { api } from "./http.js";
import { gettext } from "./i18n.js";
import { fromLocalInput, localInputValue, snoozeDefault } from "./time.js";
import { queueRows, refreshNav } from "./list.js";
import { currentId, queueMessages, refreshHeader } from "./thread.js";

export async function patchConversation(changes, id = currentId()) {
  if (!id) return;
  try {
    await api(`/api/conversations/${id}/`, { method: "PATCH", body: changes });
    queueRows([id]);
    refreshNav();
    if (id === currentId()) refreshHeader();
  } catch (error) {
    toast(error.message, { error: true });
    if (id === currentId()) refreshHeader();
  }
}

// Asked before taking over someone else's conversation: (409 error) -> Promise<boolean>. A plain
// confirm() until a feature module (outbound.js: who holds it, since when) sets its own dialog.
let confirmTakeover = async (error) => confirm(`${error.message}\n\n${gettext("Take it over anyway?")}`);
export function setTakeoverConfirm(fn) { confirmTakeover = fn; }

export async function claim() {
  const id = currentId();
  if (!id) return;
  try {
    await api(`/api/conversations/${id}/claim/`, { method: "POST" });
  } catch (error) {
    if (error.status === 409) {
      if (!(await confirmTakeover(error))) return;
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

// A message button: disabled while its request runs, enabled again if it fails.
function messageAction(button, url, done) {
  button.disabled = true;
  api(url, { method: "POST" })
    .then(() => { queueMessages([button.dataset.message]); if (done) done(); })
    .catch((error) => { button.disabled = false; toast(error.message, { error: true }); });
}

// --- wiring -----------------------------------------------------------------------------------------

action("claim", () => claim());
action("resolve", () => patchConversation({ status: "resolved" }));
action("reopen", () => patchConversation({ status: "open" }));
action("spam", () => {
  if (confirm(gettext("Mark this conversation as spam / abusive? It leaves every queue."))) patchConversation({ status: "spam" });
});
action("untag", (button) => patchConversation({ tags: currentTags().filter((t) => t !== button.dataset.tag) }));
action("retry", (button) => messageAction(button, `/api/messages/${button.dataset.message}/retry/`));
action("hide-comment", (button) => messageAction(button, `/api/messages/${button.dataset.message}/hide/`,
  () => toast(gettext("Comment hidden on Facebook"))));
delegate("change", "[data-field]", (event, control) => { onFieldChange(control); });
// Enter in the header's tag input adds the tag (captured: before anything else sees the key).
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.key !== "Enter" || !target.classList.contains("tag-input")) return;
  event.preventDefault();
  const tag = target.value.trim().toLowerCase();
  if (tag) patchConversation({ tags: [...new Set([...currentTags(), tag])] });
  target.value = "";
}, true);
