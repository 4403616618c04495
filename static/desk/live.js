// The live connection: one websocket to /ws/desk/ and the replay that makes sure nothing is missed.
//
// Never missing a message: the page is rendered with the newest event id it is fresh to; on
// every (re)connect the socket replays what came after from GET /api/events/?after= and, when
// that window no longer reaches back (complete=false), the onStale hooks refetch the list and
// the open pane. Events go to the handlers registered with on(type, handler) (events.js).
import { dispatch } from "./events.js";
import { api } from "./http.js";
import { $, boot } from "./dom.js";
import { gettext } from "./i18n.js";

export { on } from "./events.js";

let lastEventId = boot.last_event_id || 0;
const seenEvents = new Set();
const connectHooks = [];
const staleHooks = [];

// fn() runs on every (re)connect once the socket is open: say who we are and what we look at.
export function onConnect(fn) { connectHooks.push(fn); }
// fn() runs when events may have been missed for good: refetch what the page shows.
export function onStale(fn) { staleHooks.push(fn); }

function handleEvent(event) {
  if (event.id != null) {
    if (seenEvents.has(event.id)) return;
    seenEvents.add(event.id);
    if (seenEvents.size > 5000) seenEvents.delete(seenEvents.values().next().value);
    lastEventId = Math.max(lastEventId, event.id);
  }
  dispatch(event);
}

async function resync(after) {
  let complete = false;
  try {
    // A small overlap: ids from two publishers can commit out of order; seen ids are skipped.
    const data = await api(`/api/events/?after=${Math.max(0, after - 20)}`);
    complete = Boolean(data.complete);
    (data.events || []).forEach(handleEvent);
    if (data.last_id) lastEventId = Math.max(lastEventId, data.last_id);
  } catch {
    complete = false; // no event log on this server: refetch what the page shows
  }
  if (!complete) staleHooks.forEach((fn) => fn());
}

let socket = null;
let retryDelay = 1000;
let held = false; // a deliberate disconnect (Centralita.disconnect): no reconnect until resumed
let pingTimer = null;

export function connect() {
  if (held) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/desk/`);
  socket = ws;
  ws.addEventListener("open", () => {
    retryDelay = 1000;
    setLive(true);
    resync(lastEventId);
    connectHooks.forEach((fn) => fn());
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: "ping" }), 25000);
  });
  ws.addEventListener("message", (message) => {
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    // A frame is one event, or an array of the events published together (one frame per bundle).
    for (const event of Array.isArray(data) ? data : [data]) {
      if (event && event.type && event.type !== "hello" && event.type !== "pong") handleEvent(event);
    }
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    clearInterval(pingTimer);
    setLive(false);
    if (event.code === 4401) {
      location.assign(`/login/?next=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
    const delay = retryDelay * (0.75 + Math.random() * 0.5);
    retryDelay = Math.min(retryDelay * 2, 30000);
    setTimeout(connect, delay);
  });
}

// For the browser tests and debugging (window.Centralita): drop the socket and stay offline, then resume.
export function disconnect() { held = true; if (socket) socket.close(); }
export function reconnect() { held = false; retryDelay = 1000; connect(); }

// Messages to the server (presence, watch, ping); dropped while offline: onConnect hooks resend state.
export function send(data) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(data));
}

function setLive(online) {
  const live = $("live");
  live.classList.toggle("online", online);
  live.classList.toggle("offline", !online);
  live.textContent = online ? gettext("live") : gettext("reconnecting…");
}
