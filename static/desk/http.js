// Talking to the server: JSON to and from the REST API, and HTML fragments of our own
// server-rendered templates (autoescaped by Django). Nothing from JSON is ever put in the DOM
// as HTML: data goes in with textContent; HTML only comes from fragment().

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.detail)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(url, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: form || (body === undefined ? undefined : JSON.stringify(body)),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A server-rendered fragment as a DocumentFragment; a lost session goes to the login page.
export async function fragment(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (response.redirected && new URL(response.url).pathname === "/login/") location.assign(response.url);
  if (!response.ok) throw new ApiError(response.status, null);
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  return template.content;
}
