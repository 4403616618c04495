// Centralita desk client: native ES modules, no build step (docs/desk-frontend.md).
//
// The server renders every pane (Django templates, autoescaped); the modules swap in fresh
// fragments of those same templates when live events arrive, and send the agent's actions to
// the REST API. Each module owns its own state and wires its own DOM events:
//
//   i18n.js     gettext / ngettext / fmt over Django's JavaScriptCatalog (/jsi18n/)
//   dom.js      $, el, toast, throttle, debounce; bootstrap data (me, people, boot);
//               delegate(type, selector, fn) / otherwise(type, fn) / action(name, fn)
//   http.js     api() for JSON, fragment() for server-rendered HTML
//   time.js     relative times, SLA countdowns, the user's time zone
//   events.js   the live events table: event type -> handlers (on / dispatch)
//   live.js     the websocket, its replay after a reconnect (resync), on(), onConnect(), onStale(), send()
//   list.js     filters and the URL, the list, rows and counts kept live
//   bulk.js     ticked rows and bulk actions
//   thread.js   the open conversation: currentId(), open/close, header and messages kept live,
//               onConversationOpened() / onConversationClosed()
//   actions.js  header fields and buttons on the open conversation (patch, claim, tags...)
//   composer.js reply / note, attachments, counter, drafts, typing;  composer-menus.js @ and / menus, canned responses
//   customer.js the customer sidebar: timeline, merge, log a call
//   collision.js who else has it open;  presence.js own status and the agents panel
//   notifications.js the bell, toasts, desktop alerts;  keyboard.js shortcuts
//
// Hooking in a feature module (e.g. static/desk/outbound.js):
//
//   import { on } from "./live.js";                          // live events by type
//   import { currentId, onConversationOpened } from "./thread.js";
//   import { action, delegate } from "./dom.js";             // buttons / DOM events in the panes
//   import { api, fragment } from "./http.js";
//   import { gettext, fmt } from "./i18n.js";
//
//   on("message.created", (event) => { ... });               // every handler of a type runs
//   onConversationOpened((id) => { ... });                   // its panes are in place
//   action("send-outbound", (button, event) => { ... });     // <button data-action="send-outbound">
//
// and add ONE import line for it below ("Feature modules"). Rules: import downwards only (thread.js
// imports no feature module; a lower module that needs a higher one to act offers a hook, e.g.
// onThreadShown, onRowsChanged, onTypingChanged); register handlers at the module's top level and
// do nothing else there that uses another desk module; the boot below runs once every module has
// registered.
import { boot } from "./dom.js";
import { connect, disconnect, reconnect } from "./live.js";
import { loadList, refreshNav, syncFilterControls } from "./list.js";
import { closeConversation, currentId, openConversation, startThread } from "./thread.js";
import { tick } from "./time.js";
import { startPresence } from "./presence.js";
import { loadNotifications } from "./notifications.js";
import "./bulk.js";
import "./actions.js";
import "./composer.js";
import "./composer-menus.js";
import "./customer.js";
import "./collision.js";
import "./keyboard.js";
// Feature modules: one import line each.
import "./suggestions.js";
import "./outbound.js";

// Back / forward: the URL holds the filters and the open conversation.
window.addEventListener("popstate", () => {
  syncFilterControls();
  loadList();
  refreshNav();
  const match = location.pathname.match(/^\/c\/(\d+)\/$/);
  if (match) openConversation(match[1], { push: false });
  else closeConversation();
});
setInterval(() => tick(), 15000);

// A small handle for the browser tests and for debugging from the console.
window.Centralita = {
  get currentId() { return currentId(); },
  disconnect,
  reconnect,
};

startPresence();
startThread(boot.conversation_id);
tick();
loadNotifications();
connect();
