// Bulk actions on the conversations ticked in the list: assign, move to a team, set the
// priority, resolve, mark as spam.
import { $, delegate, me, toast } from "./dom.js";
import { api } from "./http.js";
import { fmt, gettext, ngettext } from "./i18n.js";
import { onRowsChanged, queueRows, refreshNav } from "./list.js";
import { currentId, refreshHeader } from "./thread.js";

function pickedIds() {
  return [...document.querySelectorAll(".pick-box:checked")].map((box) => Number(box.value));
}

export function updateBulkBar() {
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
    if (ids.includes(currentId())) refreshHeader();
  } catch (error) {
    toast(fmt(gettext("Bulk change failed: %(error)s"), { error: error.message }), { error: true });
  }
  updateBulkBar();
}

// The keyboard's "x": tick or untick the open conversation's row.
export function togglePicked(id) {
  const box = document.querySelector(`li.row[data-id="${id}"] .pick-box`);
  if (box) { box.checked = !box.checked; updateBulkBar(); }
}

// --- wiring -----------------------------------------------------------------------------------------

delegate("click", "[data-bulk]", (event, button) => {
  const changes = { claim: { assignee: me.id }, resolve: { status: "resolved" }, spam: { status: "spam" } }[button.dataset.bulk];
  if (button.dataset.bulk !== "spam" || confirm(gettext("Mark the selected conversations as spam?"))) bulk(changes);
});
delegate("change", ".pick-box", () => updateBulkBar());
onRowsChanged(updateBulkBar);
delegate("change", "#pick-all", (event, all) => {
  document.querySelectorAll(".pick-box").forEach((box) => { box.checked = all.checked; });
  updateBulkBar();
});
// The bar's selects act at once, then go back to their prompt.
const selects = {
  "#bulk-assign": (value) => ({ assignee: value === "none" ? null : Number(value) }),
  "#bulk-team": (value) => ({ team: Number(value) }),
  "#bulk-priority": (value) => ({ priority: Number(value) }),
};
Object.entries(selects).forEach(([selector, changes]) => {
  delegate("change", selector, (event, select) => {
    if (!select.value) return false;
    bulk(changes(select.value));
    select.value = "";
  });
});
