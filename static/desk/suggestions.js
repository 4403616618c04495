// Suggested answers (docs/suggestions.md): a panel at the top of the customer pane with the
// help-center articles and the resolved past cases that match the customer's latest message, from
// GET /api/conversations/<id>/suggestions/. "Insert link" puts the article's title and public URL
// into the composer; "Use this reply" puts a past reply there to edit. Nothing is ever sent from
// here: the agent reads, edits and sends with the composer as usual.
//
// Wiring: a feature module of main.js (docs/desk-frontend.md): it loads when thread.js opens a
// conversation and reloads on a customer's new message in the open conversation (live.js).
// Data from JSON goes into the DOM with textContent only.
import { fmt, gettext } from "./i18n.js";
import { on } from "./live.js";
import { onConversationOpened } from "./thread.js";

const PANEL_ID = "answers-panel";
const RELOAD_DELAY_MS = 600; // a burst of customer messages reloads once

let currentId = null;
let generation = 0;
let reloadTimer = null;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function panel() {
  let section = document.getElementById(PANEL_ID);
  const pane = document.getElementById("customer-pane");
  if (!pane) return null;
  if (!section || section.parentNode !== pane) {
    section = el("section", "side-section answers");
    section.id = PANEL_ID;
    section.setAttribute("aria-live", "polite");
    pane.prepend(section);
  }
  return section;
}

function heading(section, text) {
  const h = el("h3", "", text);
  section.append(h);
  return h;
}

function showStatus(text, { error = false } = {}) {
  const section = panel();
  if (!section) return;
  section.replaceChildren();
  heading(section, gettext("Suggested answers"));
  section.append(el("p", error ? "answers-status error small" : "answers-status muted small", text));
}

async function load(id) {
  currentId = Number(id);
  const mine = ++generation;
  showStatus(gettext("Looking for answers…"));
  let data;
  try {
    const response = await fetch(`/api/conversations/${currentId}/suggestions/`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    data = await response.json();
  } catch (error) {
    if (mine === generation) showStatus(fmt(gettext("Could not load suggestions: %(error)s"), { error: error.message }), { error: true });
    return;
  }
  if (mine !== generation) return; // another conversation was opened meanwhile
  render(data);
}

function render(data) {
  const section = panel();
  if (!section) return;
  section.replaceChildren();
  heading(section, gettext("Suggested answers"));
  if (!data.message_id) {
    section.append(el("p", "muted small", gettext("The customer has not written anything to answer yet.")));
    return;
  }
  if (!data.articles.length && !data.cases.length) {
    section.append(el("p", "muted small", gettext("Nothing in the help center or in resolved cases matches the customer's latest message.")));
    return;
  }
  if (data.articles.length) {
    section.append(el("h4", "answers-kind", gettext("Help-center articles")));
    const list = el("ul", "answers-list");
    data.articles.forEach((article) => list.append(articleItem(article)));
    section.append(list);
  }
  if (data.cases.length) {
    section.append(el("h4", "answers-kind", gettext("Similar resolved cases")));
    const list = el("ul", "answers-list");
    data.cases.forEach((item) => list.append(caseItem(item)));
    section.append(list);
  }
}

function articleItem(article) {
  const item = el("li", "answer answer-article");
  item.dataset.article = article.id;
  const title = el("a", "answer-title", article.title);
  if (/^https?:\/\//.test(article.url)) title.href = article.url;
  title.target = "_blank";
  title.rel = "noopener noreferrer";
  item.append(title);
  if (article.excerpt) item.append(el("p", "answer-text muted small", article.excerpt));
  const insert = el("button", "btn small", gettext("Insert link"));
  insert.type = "button";
  insert.dataset.answer = "insert-link";
  insert.title = gettext("Put the article's title and link into the reply, to edit before sending");
  insert.addEventListener("click", () => insertIntoComposer(`${article.title}: ${article.url}`));
  const actions = el("div", "answer-actions");
  actions.append(insert);
  item.append(actions);
  return item;
}

function caseItem(found) {
  const item = el("li", "answer answer-case");
  item.dataset.case = found.conversation_id;
  const head = el("div", "answer-head");
  const link = el("a", "answer-title", fmt(gettext("Case #%(id)s"), { id: found.conversation_id }));
  link.href = `/c/${found.conversation_id}/`;
  link.target = "_blank";
  link.rel = "noopener";
  head.append(link);
  if (found.customer_name) head.append(el("span", "muted small", ` · ${found.customer_name}`));
  item.append(head);
  item.append(el("blockquote", "answer-question small", found.question));
  const reply = el("p", "answer-text answer-reply small", found.reply);
  reply.title = gettext("The reply that resolved it");
  item.append(reply);
  const use = el("button", "btn small", gettext("Use this reply"));
  use.type = "button";
  use.dataset.answer = "use-reply";
  use.title = gettext("Put this reply into the composer, to adapt before sending");
  use.addEventListener("click", () => insertIntoComposer(found.reply));
  const actions = el("div", "answer-actions");
  actions.append(use);
  item.append(actions);
  return item;
}

// Into the composer at the caret (replacing a selection), as text to edit: never sent from here.
function insertIntoComposer(text) {
  const textarea = document.getElementById("composer-text");
  if (!textarea) return;
  const replyTab = document.querySelector('#composer .tab[data-mode="reply"]:not([disabled]):not(.active)');
  if (replyTab) replyTab.click(); // an answer for the customer, not an internal note
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? start;
  const before = textarea.value.slice(0, start);
  const spacer = before && !/\s$/.test(before) ? "\n" : "";
  textarea.value = before + spacer + text + textarea.value.slice(end);
  const caret = start + spacer.length + text.length;
  textarea.focus();
  textarea.setSelectionRange(caret, caret);
  textarea.dispatchEvent(new Event("input", { bubbles: true })); // composer.js: counter, draft, typing
}

onConversationOpened((id) => load(id));

on("message.created", (event) => {
  const message = event.message;
  if (!message || message.direction !== "in" || message.conversation_id !== currentId) return;
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => { if (message.conversation_id === currentId) load(currentId); }, RELOAD_DELAY_MS);
});
