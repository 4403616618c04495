// Presence: the agent's own status (routing gives new work to agents who are online), and for
// supervisors the agents panel, kept live by "presence" events.
import { $, delegate, el, me } from "./dom.js";
import { api } from "./http.js";
import { fmt, gettext, ngettext } from "./i18n.js";
import { on, onConnect, send } from "./live.js";

// Per tab session: a reload keeps the status, a new tab starts online.
let presence = sessionStorage.getItem("centralita.presence") || "online";

// At boot: the select and the dot show the kept status (sent once the socket opens).
export function startPresence() { setPresence(presence); }

function setPresence(status) {
  presence = status;
  sessionStorage.setItem("centralita.presence", status);
  $("presence").value = status;
  $("presence-dot").className = `presence-dot ${status}`;
  send({ type: "presence", status });
}

// --- the supervisors' agents panel --------------------------------------------------------------------

const agents = new Map();

async function loadAgents() {
  const list = $("agents-list");
  if (!list) return;
  try {
    const data = await api("/api/agents/");
    agents.clear();
    (Array.isArray(data) ? data : data.results || []).forEach((a) => agents.set(a.id, a));
    renderAgents();
  } catch (error) {
    list.replaceChildren(el("li", "muted small", error.status === 404 ? gettext("Agent presence is not available.") : error.message));
  }
}

function renderAgents() {
  const list = $("agents-list");
  if (!list) return;
  const order = { online: 0, away: 1, offline: 2 };
  const sorted = [...agents.values()].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || a.name.localeCompare(b.name));
  list.replaceChildren(...sorted.map((a) => {
    const item = el("li");
    item.dataset.agent = a.id;
    const dot = el("span", `presence-dot ${a.status || "offline"}`);
    dot.title = { online: gettext("Online"), away: gettext("Away") }[a.status] || gettext("Offline");
    item.append(dot, el("span", "", a.name || a.username));
    if (a.open_assigned != null) item.append(el("span", "open-count", fmt(ngettext("%(count)s open", "%(count)s open", a.open_assigned), { count: a.open_assigned })));
    return item;
  }));
  if (!sorted.length) list.replaceChildren(el("li", "muted small", gettext("No agents.")));
}

function onPresence(event) {
  if (!event.user || !$("agents-list")) return;
  const known = agents.get(event.user.id) || { id: event.user.id, name: event.user.name, role: "agent" };
  agents.set(event.user.id, { ...known, status: event.status });
  renderAgents();
}

// --- wiring -----------------------------------------------------------------------------------------

on("presence", onPresence);
onConnect(() => {
  send({ type: "presence", status: presence });
  if (me.supervisor) loadAgents();
});
delegate("change", "#presence", (event, select) => setPresence(select.value));
