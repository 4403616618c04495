// Strings: Django's JavaScriptCatalog (/jsi18n/, a classic script the page loads before main.js)
// defines the globals gettext, ngettext and interpolate in the request's language
// (docs/languages.md). Modules call them through these exports; `make messages` extracts the
// gettext("...") / ngettext("...") calls wherever they are.
if (typeof window.gettext !== "function") { // the catalog did not load: the English source text still works
  window.gettext = (text) => text;
  window.ngettext = (singular, plural, count) => (count === 1 ? singular : plural);
  window.interpolate = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
}

// Looked up on each call (not copied at import), so the catalog is always the page's own.
export const gettext = (text) => window.gettext(text);
export const ngettext = (singular, plural, count) => window.ngettext(singular, plural, count);
export const fmt = (text, values) => window.interpolate(text, values, true);
