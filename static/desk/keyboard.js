// Keyboard shortcuts (the "?" dialog lists them) and the composer's keys.
import { $ } from "./dom.js";
import { claim, patchConversation } from "./actions.js";
import { togglePicked } from "./bulk.js";
import { caretMenuKeys } from "./composer-menus.js";
import { setMode } from "./composer.js";
import { currentId, openConversation } from "./thread.js";

function moveSelection(step) {
  const rows = [...document.querySelectorAll("li.row")];
  if (!rows.length) return;
  const index = rows.findIndex((row) => Number(row.dataset.id) === currentId());
  const next = rows[Math.min(rows.length - 1, Math.max(0, index === -1 ? 0 : index + step))];
  next.scrollIntoView({ block: "nearest" });
  openConversation(next.dataset.id);
}

function focusComposer(mode) {
  if (!$("composer")) return;
  setMode(mode);
  $("composer-text").focus();
}

const shortcuts = {
  j: () => moveSelection(1),
  k: () => moveSelection(-1),
  r: () => focusComposer("reply"),
  n: () => focusComposer("note"),
  c: () => claim(),
  e: () => currentId() && patchConversation({ status: "resolved" }),
  x: () => togglePicked(currentId()),
  "/": () => { $("search").focus(); $("search").select(); },
  "?": () => { $("help").hidden = !$("help").hidden; },
};

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
  const shortcut = shortcuts[event.key];
  if (shortcut) { event.preventDefault(); shortcut(); }
}

document.addEventListener("keydown", onKey);
$("help-button").addEventListener("click", () => { $("help").hidden = false; });
$("help-close").addEventListener("click", () => { $("help").hidden = true; });
$("help").addEventListener("click", (event) => { if (event.target.id === "help") $("help").hidden = true; });
