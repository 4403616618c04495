// Times: relative times and waiting clocks tick without a reload; absolute times and the snooze
// field use the user's language and time zone, from <html lang data-time-zone> (the profile,
// else the desk's), not the browser's.
import { fmt, gettext } from "./i18n.js";

const LANG = document.documentElement.lang || undefined;
const TIME_ZONE = document.documentElement.dataset.timeZone || undefined;

function dateFormat(options) {
  try {
    return new Intl.DateTimeFormat(LANG, { ...options, timeZone: TIME_ZONE });
  } catch { // a zone this browser does not know: its own
    return new Intl.DateTimeFormat(LANG, options);
  }
}

const LOCAL_TIME = dateFormat({ day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const DATE_FORMAT = dateFormat({ day: "numeric", month: "short", year: "numeric" });
const INPUT_PARTS = dateFormat({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

export function ago(iso, { long = false } = {}) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return long ? gettext("under a minute") : gettext("now");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return fmt(gettext("%(minutes)sm"), { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return fmt(gettext("%(hours)sh %(minutes)sm"), { hours, minutes: String(minutes % 60).padStart(2, "0") });
  const days = Math.floor(hours / 24);
  return days < 30 ? fmt(gettext("%(days)sd %(hours)sh"), { days, hours: hours % 24 }) : DATE_FORMAT.format(new Date(iso));
}

// Refresh every clock under `root` (a freshly swapped-in fragment, or the whole page every 15 s).
export function tick(root = document) {
  root.querySelectorAll("time.ago[datetime]").forEach((node) => { node.textContent = ago(node.getAttribute("datetime")); });
  // Absolute times in the agent's own time zone (the server renders its own).
  root.querySelectorAll("time.msg-time[datetime]").forEach((node) => {
    node.textContent = LOCAL_TIME.format(new Date(node.getAttribute("datetime")));
  });
  root.querySelectorAll('input[data-field="snoozed_until"][data-iso]').forEach((input) => {
    if (input.dataset.iso && document.activeElement !== input) input.value = localInputValue(new Date(input.dataset.iso));
  });
  root.querySelectorAll(".waiting[data-since]").forEach((node) => {
    const text = node.querySelector(".wait-text");
    if (text) text.textContent = ago(node.dataset.since, { long: true });
  });
  root.querySelectorAll(".badge.sla[data-remaining]").forEach(slaCountdown);
}

// SLA badges count down in WORKING time: the server says how many working seconds were left at
// as_of and whether the calendar was open then (ticking) until when; past `until` the count
// stands still until the row is fetched again (a live event, or the next render). The state
// itself (due soon, breached) comes from the server's sweep, pushed live.
function slaCountdown(node) {
  const left = node.querySelector(".sla-left");
  if (!left) return;
  let seconds = Number(node.dataset.remaining);
  if (node.dataset.ticking === "1") {
    const from = new Date(node.dataset.asOf).getTime();
    const to = node.dataset.until ? Math.min(Date.now(), new Date(node.dataset.until).getTime()) : Date.now();
    seconds -= Math.max(0, (to - from) / 1000);
  }
  const abs = Math.abs(seconds);
  const minutes = Math.floor(abs / 60);
  const text = minutes < 60 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
  left.textContent = (seconds < 0 ? node.dataset.over : node.dataset.left).replace("%s", text);
}

// The snooze field shows and takes wall-clock time in the user's zone (not the browser's).
export function snoozeDefault() {
  const tomorrow = localInputValue(new Date(Date.now() + 24 * 3600 * 1000)).slice(0, 10);
  return fromLocalInput(`${tomorrow}T09:00`);
}

export function localInputValue(date) {
  const parts = Object.fromEntries(INPUT_PARTS.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// "YYYY-MM-DDTHH:MM" in the user's zone -> a Date: take it as UTC, then correct by the zone's offset then.
export function fromLocalInput(value) {
  const wanted = Date.parse(`${value}:00Z`);
  let guess = wanted;
  for (let i = 0; i < 2; i += 1) guess = wanted - (Date.parse(`${localInputValue(new Date(guess))}:00Z`) - guess);
  return new Date(guess);
}
