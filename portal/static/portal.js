// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-suggest]").forEach(setupSuggest);
  });

  // Shows matching articles beside a form while the user types (debounced).
  function setupSuggest(box) {
    var inputs = (box.getAttribute("data-inputs") || "").split(",").map(function (id) {
      return document.getElementById(id.trim());
    }).filter(Boolean);
    var list = box.querySelector("ul");
    // Suggestions seen while typing make the server's "before you send it" step redundant.
    var seen = document.getElementById(box.getAttribute("data-seen") || "");
    var timer = null;
    var last = "";
    function run() {
      var text = inputs.map(function (i) { return i.value; }).join(" ").trim().slice(0, 300);
      if (text === last || text.length < 3) { return; }
      last = text;
      fetch(box.getAttribute("data-live-suggest") + "?source=live&per_page=5&q=" + encodeURIComponent(text), {
        headers: { "Accept": "application/json" }, credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data) { return; }
        list.textContent = "";
        data.results.forEach(function (item) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = item.url; a.textContent = item.title; a.target = "_blank"; a.rel = "noopener";
          li.appendChild(a);
          var p = document.createElement("p");
          p.className = "meta"; p.textContent = item.summary;
          li.appendChild(p);
          list.appendChild(li);
        });
        box.hidden = data.results.length === 0;
        if (seen && !box.hidden && seen.value === "") { seen.value = "live"; }
      }).catch(function () { /* suggestions are optional */ });
    }
    inputs.forEach(function (input) {
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(run, 300);
      });
    });
  }
})();
