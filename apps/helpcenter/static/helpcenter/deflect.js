// Deflection on the public web form: as the visitor types the subject, suggest help-center articles
// (debounced GET to /help/suggest/); record which article was opened and, on the thanks page,
// that the form was sent anyway. The visit id is a random UUID in sessionStorage (no cookie, nothing
// personal). Links open in a new tab so the half-written form stays.
(function () {
  "use strict";
  var box = document.getElementById("help-suggestions");
  if (!box) return;
  var KEY = "centralita-help-visit";
  function visitId() {
    var id = null;
    try { id = sessionStorage.getItem(KEY); } catch (e) { /* storage blocked: one visit per page */ }
    if (!id) {
      id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
        return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
      });
      try { sessionStorage.setItem(KEY, id); } catch (e) { /* ignore */ }
    }
    return id;
  }
  function send(payload) {
    var body = JSON.stringify(payload);
    var url = box.dataset.eventsUrl;
    if (navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: "application/json" }))) return;
    fetch(url, { method: "POST", body: body, headers: { "Content-Type": "application/json" }, keepalive: true, credentials: "omit" });
  }

  if (box.dataset.page === "thanks") {
    var shown = false;
    try { shown = sessionStorage.getItem(KEY + "-shown") === "1"; } catch (e) { /* ignore */ }
    if (shown) {
      send({ visit: visitId(), kind: "submitted" });
      try { sessionStorage.removeItem(KEY); sessionStorage.removeItem(KEY + "-shown"); } catch (e) { /* ignore */ }
    }
    return;
  }

  var form = box.parentNode.querySelector("form");
  if (!form) return;
  // The subject (its usual names), else the message itself.
  var input = form.querySelector("input[name=subject], input[name=asunto], input[name=topic], input[name=motivo]") ||
    form.querySelector("textarea");
  if (!input) return;
  var field = input.closest(".field") || input;
  field.parentNode.insertBefore(box, field.nextSibling);
  var list = document.getElementById("help-suggestions-list");
  var timer = null, last = "", controller = null;

  function render(articles) {
    list.textContent = "";
    articles.forEach(function (a) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = a.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = a.title;
      link.dataset.article = a.id;
      link.addEventListener("click", function () { send({ visit: visitId(), kind: "opened", article: a.id }); });
      var excerpt = document.createElement("span");
      excerpt.className = "excerpt";
      excerpt.textContent = a.excerpt;
      li.appendChild(link);
      li.appendChild(excerpt);
      list.appendChild(li);
    });
    box.hidden = articles.length === 0;
    if (articles.length) { try { sessionStorage.setItem(KEY + "-shown", "1"); } catch (e) { /* ignore */ } }
  }

  function lookup() {
    var q = input.value.trim().slice(0, 200);
    if (q === last) return;
    last = q;
    if (q.length < 3) { render([]); return; }
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var url = box.dataset.suggestUrl + "?" + new URLSearchParams({ q: q, lang: box.dataset.lang, visit: visitId() });
    fetch(url, { credentials: "omit", signal: controller ? controller.signal : undefined })
      .then(function (r) { return r.ok ? r.json() : { articles: [] }; })
      .then(function (data) { render(data.articles || []); })
      .catch(function () { /* aborted or offline: keep what is shown */ });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 350);
  });
  if (input.value) lookup();
})();
