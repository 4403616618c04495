// Collision: who else has the open conversation in front of them (viewing, typing, idle), and
// telling them about us. The server relays "watch" messages as "collision" events.
import { $, el, me } from "./dom.js";
import { fmt, gettext } from "./i18n.js";
import { on, onConnect, send } from "./live.js";
import { isTyping, onTypingChanged } from "./composer.js";
import { currentId, onConversationLeaving, onHeaderRefreshed, onThreadShown } from "./thread.js";

const watchers = new Map(); // user id -> {name, state} for the open conversation

export function watch(watchState, id = currentId()) {
  if (id) send({ type: "watch", conversation_id: id, state: watchState });
}

export function clearWatchers() { watchers.clear(); }

function onCollision(event) {
  if (!event.user || event.user.id === me.id || event.conversation_id !== currentId()) return;
  const isNew = !watchers.has(event.user.id);
  if (event.state === "left") watchers.delete(event.user.id);
  else watchers.set(event.user.id, { name: event.user.name || event.user.username, state: event.state });
  // Tell a newcomer we are here too (once per newcomer, so two desks do not echo forever).
  if (isNew && event.state !== "left") watch(isTyping() ? "typing" : "viewing");
  renderCollision();
}

export function renderCollision() {
  const bar = $("collision");
  if (!bar) return;
  const parts = [...watchers.values()].map((w) => {
    const doing = { typing: gettext("%(name)s is typing…"), idle: gettext("%(name)s has it open (idle)") }[w.state] || gettext("%(name)s is viewing");
    return el("span", w.state === "typing" ? "typing" : "", fmt(doing, { name: w.name }));
  });
  bar.replaceChildren();
  parts.forEach((part, i) => { if (i) bar.append(document.createTextNode(" · ")); bar.append(part); });
  bar.hidden = parts.length === 0;
}

on("collision", onCollision);
onTypingChanged((typing) => watch(typing ? "typing" : "viewing"));
onConversationLeaving((previous, next) => { if (previous && previous !== next) watch("left", previous); });
onThreadShown((id, { opened }) => {
  if (opened) clearWatchers();
  renderCollision();
  if (opened) watch("viewing");
});
onHeaderRefreshed(() => renderCollision());
onConnect(() => { if (currentId()) watch(isTyping() ? "typing" : "viewing"); });
// Others see "idle" while this tab is in the background, and "left" when it goes away.
document.addEventListener("visibilitychange", () => watch(document.hidden ? "idle" : isTyping() ? "typing" : "viewing"));
window.addEventListener("beforeunload", () => watch("left"));
