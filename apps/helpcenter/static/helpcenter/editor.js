// The article editor (/desk/help/): a contenteditable area with a small toolbar that writes its HTML
// into the form's body textarea on submit. Without this script the textarea (HTML) is used as is.
// The browser's editing commands only: no library, nothing inline (CSP). The server sanitizes
// whatever arrives (nh3, as for inbound mail), so this is a convenience, not a safety measure.
(function () {
  "use strict";
  var textarea = document.querySelector("#article-form textarea[name=body]");
  if (!textarea) return;
  var gettext = window.gettext || function (s) { return s; };
  var editor = document.createElement("div");
  editor.className = "editor";
  var toolbar = document.createElement("div");
  toolbar.className = "editor-toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", gettext("Formatting"));
  var content = document.createElement("div");
  content.className = "editor-content";
  content.contentEditable = "true";
  content.setAttribute("role", "textbox");
  content.setAttribute("aria-multiline", "true");
  content.setAttribute("aria-label", gettext("Article body"));
  content.id = "editor-content";
  // The stored body was sanitized on save; parse it inertly (no script runs in a template element).
  var template = document.createElement("template");
  template.innerHTML = textarea.value;
  content.appendChild(template.content);

  var buttons = [
    ["b", "B", gettext("Bold"), function () { document.execCommand("bold"); }],
    ["i", "I", gettext("Italic"), function () { document.execCommand("italic"); }],
    ["h2", "H2", gettext("Section heading"), function () { document.execCommand("formatBlock", false, "h2"); }],
    ["h3", "H3", gettext("Subheading"), function () { document.execCommand("formatBlock", false, "h3"); }],
    ["p", "¶", gettext("Paragraph"), function () { document.execCommand("formatBlock", false, "p"); }],
    ["ul", "•", gettext("Bulleted list"), function () { document.execCommand("insertUnorderedList"); }],
    ["ol", "1.", gettext("Numbered list"), function () { document.execCommand("insertOrderedList"); }],
    ["quote", "“ ”", gettext("Quote"), function () { document.execCommand("formatBlock", false, "blockquote"); }],
    ["link", gettext("Link"), gettext("Link"), function () {
      var url = window.prompt(gettext("Link address (https://…)"));
      if (url && /^(https?:|mailto:|\/)/i.test(url.trim())) document.execCommand("createLink", false, url.trim());
    }],
    ["unlink", gettext("Unlink"), gettext("Remove link"), function () { document.execCommand("unlink"); }],
  ];
  buttons.forEach(function (spec) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = spec[0];
    button.dataset.command = spec[0];
    button.textContent = spec[1];
    button.title = spec[2];
    button.setAttribute("aria-label", spec[2]);
    button.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the selection
    button.addEventListener("click", function () { content.focus(); spec[3](); });
    toolbar.appendChild(button);
  });
  // Pasted text arrives as plain text: no foreign styles or scripts to clean up.
  content.addEventListener("paste", function (e) {
    if (!e.clipboardData) return;
    e.preventDefault();
    document.execCommand("insertText", false, e.clipboardData.getData("text/plain"));
  });
  editor.appendChild(toolbar);
  editor.appendChild(content);
  textarea.hidden = true;
  textarea.parentNode.insertBefore(editor, textarea);
  var label = document.querySelector("label[for=" + textarea.id + "]");
  if (label) label.addEventListener("click", function () { content.focus(); });
  textarea.form.addEventListener("submit", function () { textarea.value = content.innerHTML; });
  var remove = document.getElementById("delete-article");
  if (remove) {
    remove.addEventListener("click", function (e) {
      if (!window.confirm(gettext("Delete this article? It leaves the help center at once."))) e.preventDefault();
    });
  }
})();
