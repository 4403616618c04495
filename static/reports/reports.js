// The reports page: draws each table's chart with Chart.js (static/vendor/chartjs, no CDN) from
// the data the server put in #report-data, and loads the topics once their task has run.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($("report-data").textContent);
  const L = JSON.parse($("report-labels").textContent);
  const PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#4b5563"];
  const charts = {};

  function draw(slug, config) {
    const canvas = document.querySelector(`canvas[data-chart="${slug}"]`);
    if (!canvas || !window.Chart) return;
    if (charts[slug]) charts[slug].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom" } } }, config.options || {});
    charts[slug] = new window.Chart(canvas, config);
    canvas.dataset.drawn = "1";
  }

  const axis = (title, extra) => Object.assign({ title: { display: true, text: title }, beginAtZero: true }, extra || {});
  const minutes = (s) => (s == null ? null : Math.round(s / 6) / 10);

  function volume() {
    const rows = data.volume.rows;
    const days = data.days; // every day of the period, quiet ones too
    const channels = [...new Set(rows.map((r) => r.channel_label))].sort();
    const value = (day, ch) => { const r = rows.find((x) => x.day === day && x.channel_label === ch); return r ? r.messages : 0; };
    draw("volume", { type: "bar", data: { labels: days, datasets: channels.map((ch, i) => ({
      label: ch, data: days.map((d) => value(d, ch)), backgroundColor: PALETTE[i % PALETTE.length] })) },
      options: { scales: { x: Object.assign(axis(L.day), { stacked: true }), y: Object.assign(axis(L.messages), { stacked: true }) } } });
  }

  function times(slug) {
    const rows = data[slug].rows;
    draw(slug, { type: "bar", data: { labels: rows.map((r) => r.label), datasets: [
      { label: `${L.median} (${L.minutes})`, data: rows.map((r) => minutes(r.median_seconds)), backgroundColor: PALETTE[0] },
      { label: `${L.p90} (${L.minutes})`, data: rows.map((r) => minutes(r.p90_seconds)), backgroundColor: PALETTE[2] },
      { label: `${L.median_work} (${L.minutes})`, data: rows.map((r) => minutes(r.median_work_seconds)), backgroundColor: PALETTE[4] },
    ] }, options: { scales: { y: axis(L.minutes) } } });
  }

  function slaTrend() {
    const rows = data["sla-trend"].rows;
    draw("sla-trend", { type: "line", data: { labels: rows.map((r) => r.period), datasets: [
      { label: L.compliance, data: rows.map((r) => r.compliance_pct), borderColor: PALETTE[1], backgroundColor: PALETTE[1], tension: 0.2 },
    ] }, options: { scales: { y: axis(L.compliance, { max: 100 }), x: axis(L.day) } } });
  }

  function slaPolicy() {
    const rows = data["sla-by-policy"].rows;
    draw("sla-by-policy", { type: "bar", data: { labels: rows.map((r) => `${r.policy} (${r.target_minutes} min)`), datasets: [
      { label: L.compliance, data: rows.map((r) => r.compliance_pct), backgroundColor: PALETTE[1] },
    ] }, options: { scales: { y: axis(L.compliance, { max: 100 }) } } });
  }

  function agents() {
    const rows = data.agents.rows.slice(0, 25);
    draw("agents", { type: "bar", data: { labels: rows.map((r) => r.agent), datasets: [
      { label: L.replies, data: rows.map((r) => r.replies), backgroundColor: PALETTE[0] },
      { label: L.handled, data: rows.map((r) => r.handled), backgroundColor: PALETTE[4] },
      { label: L.resolved, data: rows.map((r) => r.resolved), backgroundColor: PALETTE[1] },
    ] }, options: { indexAxis: "y", scales: { x: axis(L.conversations) } } });
  }

  function backlog() {
    const rows = data.backlog.rows;
    draw("backlog", { type: "line", data: { labels: rows.map((r) => r.day), datasets: [
      { label: L.opened, data: rows.map((r) => r.opened), borderColor: PALETTE[2], backgroundColor: PALETTE[2] },
      { label: L.resolved, data: rows.map((r) => r.resolved), borderColor: PALETTE[1], backgroundColor: PALETTE[1] },
    ] }, options: { scales: { y: axis(L.conversations), x: axis(L.day) } } });
  }

  function topics() {
    const block = $("topics-data");
    if (!block) return;
    const rows = JSON.parse(block.textContent);
    draw("topics", { type: "bar", data: { labels: rows.map((t) => `${t.topic}. ${t.label}`), datasets: [
      { label: L.messages, data: rows.map((t) => t.messages), backgroundColor: PALETTE[3] },
    ] }, options: { indexAxis: "y", scales: { x: axis(L.messages) } } });
  }

  // The topics come from a Celery task: ask a bounded number of times, further apart each time.
  async function waitForTopics() {
    const section = $("report-topics");
    const body = $("topics-body");
    if (!section || !body || body.dataset.status === "ready") return;
    for (const delay of [1000, 2000, 4000, 8000, 16000, 30000]) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      const api = await fetch(section.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (api.status !== 200) continue;
      const fragment = await fetch(section.dataset.fragment, { credentials: "same-origin" });
      if (!fragment.ok) return;
      const holder = document.createElement("div");
      holder.innerHTML = await fragment.text(); // our own server-rendered, autoescaped template
      $("topics-body").replaceWith(holder.firstElementChild);
      topics();
      return;
    }
  }

  volume();
  for (const slug of ["first-response-by-channel", "first-response-by-team", "next-response-by-channel",
    "next-response-by-team", "resolution-by-channel", "resolution-by-team"]) times(slug);
  slaTrend();
  slaPolicy();
  agents();
  backlog();
  topics();
  waitForTopics();
})();
