// Paste on your site next to the iframe of a Centralita form (the admin shows the snippet):
//   <iframe src="https://desk.example.com/f/contact/?embed=1" data-centralita-form ...></iframe>
//   <script src="https://desk.example.com/static/webform/embed.js" async></script>
// It resizes each such iframe to the height its form reports, accepting messages only from
// that iframe's own window and origin.
(function () {
  "use strict";
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "centralita-form-height" || typeof data.height !== "number") return;
    var frames = document.querySelectorAll("iframe[data-centralita-form]");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) continue;
      if (new URL(frame.src, window.location.href).origin !== event.origin) return;
      frame.style.height = Math.max(100, Math.min(data.height, 10000)) + "px";
    }
  });
})();
