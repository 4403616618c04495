// Notifications: mentions, new assigned work, SLA warnings, a channel that started failing.
// Toasts, the bell's list, and desktop alerts when the agent allowed them.
import { $, boot, el, otherwise, toast } from "./dom.js";
import { api } from "./http.js";
import { fmt, gettext } from "./i18n.js";
import { on } from "./live.js";
import { openConversation } from "./thread.js";

const notifications = new Map(); // id -> notification, unread ones

function onNotification(notification, { quiet = false } = {}) {
  if (!notification || notifications.has(notification.id)) return;
  notifications.set(notification.id, notification);
  renderNotifications();
  if (quiet) return;
  const title = notificationTitle(notification);
  const open = () => openNotification(notification);
  toast(`${title}: ${notification.text || fmt(gettext("conversation #%(id)s"), { id: notification.conversation_id })}`, { onClick: open });
  if ("Notification" in window && Notification.permission === "granted") {
    const desktop = new Notification(title, { body: notification.text || "", tag: `centralita-${notification.id}` });
    desktop.onclick = () => { window.focus(); open(); desktop.close(); };
  }
}

// A notification leads to its conversation, or (a channel that started failing) to its `link`.
function notificationTitle(n) {
  const titles = boot.notification_titles || {}; // the server's (SLA kinds among them)
  if (n.kind === "channel_failing") return titles[n.kind] || gettext("A channel started failing");
  return titles[n.kind] || (n.kind === "mention" ? gettext("You were mentioned") : gettext("New work assigned to you"));
}

function openNotification(n) {
  readNotifications([n.id]);
  if (n.link && !n.conversation_id) { window.location.assign(n.link); return; }
  openConversation(n.conversation_id);
}

function renderNotifications() {
  const items = [...notifications.values()].sort((a, b) => b.id - a.id);
  const count = $("notif-count");
  count.textContent = String(items.length);
  count.hidden = items.length === 0;
  const list = $("notif-list");
  if (!items.length) { list.replaceChildren(el("li", "muted", gettext("Nothing new."))); return; }
  list.replaceChildren(...items.map((n) => {
    const item = el("li");
    const link = el("a");
    const channel = n.link && !n.conversation_id;
    link.href = channel ? n.link : `/c/${n.conversation_id}/`;
    link.append(el("strong", "", channel ? notificationTitle(n) : (boot.notification_titles || {})[n.kind] || (n.kind === "mention" ? gettext("Mention") : gettext("Assigned"))),
      document.createTextNode(channel ? "" : ` · #${n.conversation_id}`));
    link.append(el("div", "muted small", n.text || ""));
    link.addEventListener("click", (e) => {
      e.preventDefault();
      $("notif-panel").hidden = true;
      openNotification(n);
    });
    item.append(link);
    return item;
  }));
}

function readNotifications(ids) {
  ids.forEach((id) => notifications.delete(id));
  renderNotifications();
  api("/api/notifications/read/", { method: "POST", body: { ids } }).catch(() => {});
}

// The unread ones at boot, without toasts (they are not news).
export async function loadNotifications() {
  try {
    const data = await api("/api/notifications/?unread=1");
    (Array.isArray(data) ? data : data.results || []).forEach((n) => onNotification(n, { quiet: true }));
  } catch { /* not available on this server */ }
  $("notif-enable").hidden = !("Notification" in window) || Notification.permission !== "default";
}

// --- wiring -----------------------------------------------------------------------------------------

on("notification", (event) => onNotification(event.notification));
$("notif-button").addEventListener("click", () => { $("notif-panel").hidden = !$("notif-panel").hidden; });
$("notif-enable").addEventListener("click", () => {
  Notification.requestPermission().then(() => { $("notif-enable").hidden = Notification.permission !== "default"; });
});
// A click on nothing else of the desk's closes the panel.
otherwise("click", (event) => { if (!event.target.closest(".notif")) $("notif-panel").hidden = true; });
