// The composer's menus: at the caret, "@" in a note lists colleagues to mention and "/" at the
// start of a line lists canned responses by shortcut; the canned-responses picker searches them
// all. The server fills a canned response's variables ({{customer.name}}, {{agent.name}}...).
import { $, debounce, delegate, el, me, otherwise, people, toast } from "./dom.js";
import { api } from "./http.js";
import { gettext } from "./i18n.js";
import { composerMode, onComposerInput, updateCounter } from "./composer.js";
import { currentId } from "./thread.js";

const caretMenu = { items: [], active: 0, start: -1 };

export function updateCaretMenu() {
  const textarea = $("composer-text");
  const before = textarea.value.slice(0, textarea.selectionStart);
  const mention = composerMode() === "note" && before.match(/(^|\s)@([\w.+-]*)$/);
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

// Arrow keys, Enter/Tab and Escape while the caret menu is open; true when the key was the menu's.
export function caretMenuKeys(event) {
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

// --- the canned-responses picker ---------------------------------------------------------------------

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
    method: "POST", body: { conversation_id: currentId() },
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

// --- wiring -----------------------------------------------------------------------------------------

delegate("input", "#canned-search", () => searchCannedSoon());
document.addEventListener("focusin", (event) => {
  if (event.target.id === "canned-search") searchCanned();
});
// A click on nothing else of the desk's closes the picker.
otherwise("click", (event) => {
  const menu = $("canned-menu");
  if (menu && !event.target.closest("#canned-menu") && event.target.id !== "canned-open") menu.hidden = true;
});
// Its own listener (not a delegate rule): the toggle runs whatever else the click does.
document.addEventListener("click", (event) => {
  if (event.target.closest("#canned-open")) {
    const menu = $("canned-menu");
    menu.hidden = !menu.hidden;
    if (!menu.hidden) { $("canned-search").value = ""; $("canned-search").focus(); }
  }
});

onComposerInput(updateCaretMenu);
