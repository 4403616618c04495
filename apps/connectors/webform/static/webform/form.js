// The public form page. After a failed submit, take the reader (and the focus) to the list of
// problems. Inside an embed (an iframe on another site), tell the host page how tall the form
// is, so the iframe fits without a scrollbar (embed.js on the host page listens): only a height is sent.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ type: "centralita-form-height", height: height }, "*");
    }
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  report();
})();
