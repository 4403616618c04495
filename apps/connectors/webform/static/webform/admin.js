// The web form's admin page: a click in the embed snippet selects all of it, ready to copy.
// (A script file rather than an onclick attribute: the desk's Content-Security-Policy runs no inline code.)
(function () {
  "use strict";
  var snippet = document.getElementById("webform-embed-snippet");
  if (snippet) snippet.addEventListener("click", function () { snippet.select(); });
})();
