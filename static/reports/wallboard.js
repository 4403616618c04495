// The wallboard: figures pushed on the desk socket (/ws/desk/, topic "wallboard"), no polling.
// The page starts from the snapshot the server rendered into #wallboard-slices; each pushed frame
// replaces one slice (a team of a scoped supervisor, or "all"); a reconnect refetches them all.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const L = JSON.parse($("wallboard-labels").textContent);
  const board = $("wallboard");
  const scoped = board.dataset.scoped === "1";
  const LOCALE = document.documentElement.lang || undefined; // the desk's language, not the browser's
  let slices = JSON.parse($("wallboard-slices").textContent);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.append(c);
    return node;
  }

  function duration(seconds) {
    if (seconds == null) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }

  function merged() {
    const out = { queues: [], agents: [], today: [], atRisk: [], generated: null };
    const seenAgents = new Set();
    for (const snap of Object.values(slices)) {
      out.queues.push(...snap.queues);
      for (const a of snap.agents) if (!seenAgents.has(a.id)) { seenAgents.add(a.id); out.agents.push(a); }
      out.today.push(...(scoped ? snap.today_by_team_channel : snap.today_by_channel));
      out.atRisk.push(...snap.at_risk);
      if (!out.generated || snap.generated_at > out.generated) out.generated = snap.generated_at;
    }
    out.queues.sort((a, b) => (a.team || "").localeCompare(b.team || "") || a.channel.localeCompare(b.channel));
    out.atRisk.sort((a, b) => a.due_at.localeCompare(b.due_at));
    out.atRisk = out.atRisk.slice(0, 20);
    return out;
  }

  function setText(id, text) { const node = $(id); if (node.textContent !== text) node.textContent = text; }

  // Waits grow between snapshots: a local clock adds the time since the snapshot (no server call).
  function age(snapshotAt) { return snapshotAt ? Math.max(0, (Date.now() - Date.parse(snapshotAt)) / 1000) : 0; }

  function render() {
    const m = merged();
    const since = age(m.generated);
    const sum = (rows, key) => rows.reduce((n, r) => n + (r[key] || 0), 0);
    const oldest = m.queues.reduce((best, r) => Math.max(best, r.oldest_wait_seconds || 0), 0) + since;
    const due = sum(m.today, "sla_due"), met = sum(m.today, "sla_met");
    setText("kpi-waiting", String(sum(m.queues, "waiting")));
    setText("kpi-oldest", m.queues.length ? duration(oldest) : "–");
    setText("kpi-due-soon", String(sum(m.queues, "due_soon")));
    setText("kpi-breached", String(sum(m.queues, "breached")));
    setText("kpi-compliance", due ? `${(100 * met / due).toFixed(1)} %` : "–");
    setText("kpi-resolved", String(sum(m.today, "resolved")));
    setText("kpi-online", `${m.agents.filter((a) => a.status === "online").length} / ${m.agents.length}`);

    const queues = $("queues").tBodies[0];
    queues.replaceChildren(...(m.queues.length ? m.queues.map((r) => el("tr", { "data-team": r.team_id ?? "", "data-channel": r.channel },
      el("td", { text: r.team || L.noTeam }), el("td", { text: r.channel_label }),
      el("td", { class: "num big", "data-field": "waiting", text: String(r.waiting) }),
      el("td", { class: "num", "data-field": "unassigned", text: String(r.unassigned) }),
      el("td", { class: "num", text: duration(r.oldest_wait_seconds == null ? null : r.oldest_wait_seconds + since) }),
      el("td", { class: "num" + (r.due_soon ? " warn" : ""), "data-field": "due_soon", text: String(r.due_soon) }),
      el("td", { class: "num" + (r.breached ? " bad" : ""), "data-field": "breached", text: String(r.breached) }),
    )) : [el("tr", {}, el("td", { colspan: "7", class: "muted", text: L.none }))]));

    const today = $("today").tBodies[0];
    if (!m.today.length) today.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "muted", text: L.noToday })));
    else today.replaceChildren(...m.today.map((r) => el("tr", { "data-channel": r.channel },
      el("td", { text: r.channel_label }), scoped ? el("td", { text: teamName(r.team_id) }) : null,
      el("td", { class: "num", text: String(r.first_responses) }),
      el("td", { class: "num", text: duration(r.frt_p50) }), el("td", { class: "num", text: duration(r.frt_p90) }),
      el("td", { class: "num", text: r.sla_compliance_pct == null ? "–" : `${r.sla_compliance_pct} %` }),
      el("td", { class: "num", text: String(r.resolved) }),
    )));

    $("agents").replaceChildren(...m.agents.map((a) => {
      const full = a.open >= a.capacity;
      return el("li", { class: `agent ${a.status}`, "data-agent": String(a.id), "data-status": a.status },
        el("span", { class: `presence-dot ${a.status}`, "aria-hidden": "true" }),
        el("span", { class: "agent-name", text: a.name }),
        el("span", { class: "agent-status", text: L[a.status] || a.status }),
        el("span", { class: "agent-load" + (full ? " bad" : ""), "data-field": "load", title: L.load, text: `${a.open} / ${a.capacity}` }));
    }));

    $("at-risk").replaceChildren(...(m.atRisk.length ? m.atRisk.map((c) => el("li", { class: `risk ${c.state}` },
      el("a", { href: c.url, text: c.title }),
      el("span", { class: "risk-meta", text: `${c.team || L.noTeam} · ${c.channel_label} · ${c.assignee || L.unassigned}` }),
      el("span", { class: `badge sla sla-${c.state}`, text: `${c.state === "breached" ? L.breached : L.dueSoon} ${new Date(c.due_at).toLocaleTimeString(LOCALE, { hour: "2-digit", minute: "2-digit" })}` }),
    )) : [el("li", { class: "muted", text: L.noRisk })]));

    if (m.generated) setText("updated", `${L.updated} ${new Date(m.generated).toLocaleTimeString(LOCALE)}`);
    board.dataset.generated = m.generated || "";
  }

  function teamName(id) {
    for (const snap of Object.values(slices)) for (const q of snap.queues) if (q.team_id === id) return q.team;
    return id == null ? L.noTeam : `#${id}`;
  }

  // --- the socket --------------------------------------------------------------------------------
  let socket = null;
  let retryDelay = 1000;
  let pingTimer = null;

  function setLive(online) {
    const live = $("live");
    live.classList.toggle("online", online);
    live.classList.toggle("offline", !online);
    live.textContent = online ? L.live : L.offlineState;
  }

  async function refetch() {
    const response = await fetch("/api/reports/wallboard/", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) { slices = (await response.json()).slices; render(); }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/desk/`);
    socket = ws;
    ws.addEventListener("open", () => {
      retryDelay = 1000;
      ws.send(JSON.stringify({ type: "subscribe", topic: "wallboard" }));
      clearInterval(pingTimer);
      pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), 25000);
    });
    ws.addEventListener("message", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (data.type === "subscribed") { setLive(true); refetch(); }
      else if (data.type === "wallboard") {
        slices[data.team_id == null ? "all" : String(data.team_id)] = data.snapshot;
        render();
      }
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      setLive(false);
      if (event.code === 4401) { location.assign(`/login/?next=${encodeURIComponent(location.pathname)}`); return; }
      const delay = retryDelay * (0.75 + Math.random() * 0.5);
      retryDelay = Math.min(retryDelay * 2, 30000);
      setTimeout(connect, delay);
    });
  }

  render();
  connect();
  setInterval(render, 5000); // the waits' local clock
})();
