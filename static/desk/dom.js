// Small DOM helpers shared by every desk module, the page's bootstrap data, and the delegated
// DOM events table (one document listener per event type; modules register their rules).

export const $ = (id) => document.getElementById(id);
const json = (id) => JSON.parse($(id).textContent);
// Rendered by templates/desk/desk.html with json_script (never HTML).
export const me = json("desk-user");
export const people = json("desk-people");
export const boot = json("desk-boot");

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function toast(text, { error = false, onClick = null } = {}) {
  const node = el("div", `toast${error ? " error" : ""}`, text);
  node.addEventListener("click", () => { node.remove(); if (onClick) onClick(); });
  $("toasts").append(node);
  setTimeout(() => node.remove(), error ? 8000 : 5000);
}

// At most one call per `ms`, with the latest arguments: a busy desk's stream of events must
// not starve the refresh (a debounce would wait for a quiet moment that never comes).
export function throttle(fn, ms) {
  let timer = null;
  let latest = [];
  return (...args) => {
    latest = args;
    if (!timer) timer = setTimeout(() => { timer = null; fn(...latest); }, ms);
  };
}

// The callbacks registered with a module's hook (onThreadShown, onRowsChanged...), each called with
// args: one callback's bug must not stop the others, nor break the desk.
export function runHooks(hooks, ...args) {
  hooks.forEach((fn) => {
    try { fn(...args); } catch (error) { console.error(error); }
  });
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// --- delegated DOM events ---------------------------------------------------------------------
// delegate("click", ".row-link", handler): for a click inside a .row-link, handler(event, node)
// runs with the matched node. Rules are tried in registration order and the first that matches
// wins, unless its handler returns false ("not mine after all": the next rule is tried). When no
// rule takes the event, the type's `otherwise` handlers run (e.g. close a popover on a click
// elsewhere). Panes are swapped in and out, so listening on document is what keeps working.
const rules = new Map(); // event type -> [{selector, handler}]
const fallbacks = new Map(); // event type -> [handler]

function listen(type) {
  if (rules.has(type)) return;
  rules.set(type, []);
  fallbacks.set(type, []);
  document.addEventListener(type, (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    for (const { selector, handler } of rules.get(type)) {
      const node = target.closest(selector);
      if (node && handler(event, node) !== false) return;
    }
    fallbacks.get(type).forEach((handler) => handler(event));
  });
}

export function delegate(type, selector, handler) {
  listen(type);
  rules.get(type).push({ selector, handler });
}

export function otherwise(type, handler) {
  listen(type);
  fallbacks.get(type).push(handler);
}

// Buttons with data-action="name" (server-rendered in the panes): action("claim", (button, event) => ...).
const actions = new Map();
delegate("click", "[data-action]", (event, button) => {
  const handler = actions.get(button.dataset.action);
  if (handler) handler(button, event);
});

export function action(name, handler) {
  actions.set(name, handler);
}
