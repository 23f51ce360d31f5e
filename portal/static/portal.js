// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-suggest]").forEach(setupSuggest);
    document.querySelectorAll("input[data-combobox]").forEach(setupCombobox);
    document.querySelectorAll("[data-live-known]").forEach(setupKnown);
    document.querySelectorAll("form[data-slug-from]").forEach(setupSlug);
    document.querySelectorAll("form[data-drop-files]").forEach(setupDropFiles);
    document.querySelectorAll("table[data-live-queue]").forEach(setupLiveQueue);
    document.querySelectorAll("form.triage[data-matrix]").forEach(setupTriage);
  });

  // A new article's slug is proposed from its title (as the server does when it is left
  // empty) until the writer types a slug of their own.
  function setupSlug(form) {
    var title = document.getElementById(form.getAttribute("data-slug-from"));
    var slug = document.getElementById(form.getAttribute("data-slug-to"));
    if (!title || !slug) { return; }
    function make(text) {
      return text.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 120).replace(/-+$/, "");
    }
    var own = slug.value !== "" && slug.value !== make(title.value);
    slug.addEventListener("input", function () { own = slug.value !== ""; });
    title.addEventListener("input", function () { if (!own) { slug.value = make(title.value); } });
  }

  // Triage: the subcategory list holds only the chosen category's subcategories, and the
  // priority the matrix gives shows before saving (the matrix is the page's, the server
  // computes it again on save). Without this script: grouped options and the matrix table.
  function setupTriage(form) {
    var category = form.querySelector("select[name=category]");
    var sub = form.querySelector("select[name=subcategory]");
    var impact = form.querySelector("select[name=impact]");
    var urgency = form.querySelector("select[name=urgency]");
    var out = form.querySelector("output");
    var matrix = JSON.parse(form.getAttribute("data-matrix"));
    var now = out ? out.getAttribute("data-now") : "";
    var all = sub ? Array.prototype.slice.call(sub.querySelectorAll("option[data-parent]")) : [];
    function follow() {
      if (!category || !sub) { return; }
      var keep = sub.value;
      var none = sub.querySelector("option[value='']");
      sub.textContent = "";
      if (none) { sub.appendChild(none); }
      var mine = all.filter(function (o) { return o.getAttribute("data-parent") === category.value; });
      mine.forEach(function (o) { sub.appendChild(o); });
      sub.value = mine.some(function (o) { return o.value === keep; }) ? keep : "";
      sub.disabled = mine.length === 0;
    }
    function preview() {
      if (!out || !impact || !urgency) { return; }
      var p = (matrix[impact.value] || {})[urgency.value] || "";
      out.textContent = "";
      var badge = document.createElement("span");
      badge.className = "prio prio-" + p;
      badge.textContent = p;
      out.appendChild(badge);
      var note = form.querySelector(".priority-note");
      if (note) {
        note.textContent = p === now ? "from impact and urgency" : "when you save (now " + now + ")";
      }
    }
    if (category) { category.addEventListener("change", follow); follow(); }
    [impact, urgency].forEach(function (s) { if (s) { s.addEventListener("change", preview); } });
  }

  // The queue asks the server for its rows and counts every few seconds (same filters) and
  // swaps them in, keeping the boxes ticked, and shows the bulk assignment only while there
  // are rows to select; paused while the tab is hidden. Without this script, reloading the
  // page shows the same.
  function setupLiveQueue(table) {
    var url = table.getAttribute("data-live-queue");
    var every = Math.max(1, parseInt(table.getAttribute("data-every"), 10) || 30) * 1000;
    var body = table.tBodies[0];
    var count = document.getElementById("queue-count");
    // The bulk controls are in the page even when it drew no rows; shown while rows are.
    var bulk = document.getElementById("queue-bulk");
    var busy = false;
    function refresh() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var ticked = {};
          body.querySelectorAll("input[name=ids]:checked").forEach(function (box) { ticked[box.value] = true; });
          // The keyboard's place survives the swap: the same control in the same incident's row.
          var focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
          var row = focused ? focused.closest("tr[data-id]") : null;
          var again = row ? "tr[data-id='" + row.getAttribute("data-id") + "'] " + (focused.tagName === "A" ? "a" : "input") : null;
          body.innerHTML = data.rows;
          body.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = !!ticked[box.value]; });
          if (again && body.querySelector(again)) { body.querySelector(again).focus(); }
          if (bulk) { bulk.hidden = !body.querySelector("input[name=ids]"); }
          if (count && count.textContent !== data.summary) { count.textContent = data.summary; }
          document.querySelectorAll("nav[aria-label=Main] a").forEach(function (a) {
            if (/^Queue \(\d+\)$/.test(a.textContent)) { a.textContent = "Queue (" + data.open + ")"; }
          });
          table.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () { /* the next round tries again */ })
        .then(function () { busy = false; });
    }
    setInterval(refresh, every);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  }

  // Files dropped onto the reply box join the ones chosen with the file field, which is what
  // the form sends; a polite status names them. Without this script the file field does it.
  function setupDropFiles(form) {
    var input = document.getElementById(form.getAttribute("data-drop-files"));
    if (!input || typeof DataTransfer === "undefined") { return; }
    var status = document.createElement("p");
    status.className = "meta drop-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.textContent = "You can also drop files onto this box.";
    input.insertAdjacentElement("afterend", status);
    function names() {
      var list = [];
      for (var i = 0; i < input.files.length; i++) { list.push(input.files[i].name); }
      return list;
    }
    function say() {
      var list = names();
      status.textContent = list.length ?
        (list.length === 1 ? "1 file will be sent: " : list.length + " files will be sent: ") + list.join(", ") :
        "You can also drop files onto this box.";
    }
    function carries(event) {
      var types = event.dataTransfer ? event.dataTransfer.types : [];
      return Array.prototype.indexOf.call(types, "Files") >= 0;
    }
    form.addEventListener("dragover", function (event) {
      if (!carries(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("dropping");
    });
    form.addEventListener("dragleave", function (event) {
      if (!form.contains(event.relatedTarget)) { form.classList.remove("dropping"); }
    });
    form.addEventListener("drop", function (event) {
      if (!carries(event)) { return; }
      event.preventDefault();
      form.classList.remove("dropping");
      var all = new DataTransfer();
      var i;
      for (i = 0; i < input.files.length; i++) { all.items.add(input.files[i]); }
      for (i = 0; i < event.dataTransfer.files.length; i++) { all.items.add(event.dataTransfer.files[i]); }
      input.files = all.files;
      say();
    });
    input.addEventListener("change", say);
  }

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
      var query = "q=" + encodeURIComponent(text);
      if (inputs.length > 1) {  // a title and its description: matched like the server does
        query = "q=" + encodeURIComponent(inputs[0].value.trim().slice(0, 200)) +
          "&details=" + encodeURIComponent(inputs.slice(1).map(function (i) { return i.value; }).join(" ").trim().slice(0, 300));
      }
      fetch(box.getAttribute("data-live-suggest") + "?source=live&per_page=5&" + query, {
        headers: { "Accept": "application/json" }, credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data) { return; }
        list.textContent = "";
        var shown = data.results.concat(box.hasAttribute("data-with-related") ? (data.related || []) : []);
        shown.forEach(function (item) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = item.url; a.textContent = item.title; a.target = "_blank"; a.rel = "noopener";
          li.appendChild(a);
          var p = document.createElement("p");
          p.className = "meta"; p.textContent = item.summary;
          li.appendChild(p);
          list.appendChild(li);
        });
        box.hidden = shown.length === 0;
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

  // Results as you type under a search box: the WAI-ARIA 1.2 combobox pattern (a text box
  // with a popup listbox). Arrow keys move through the suggestions, Enter opens the one
  // chosen (or searches when none is), Escape closes the list, and a polite live region
  // says how many articles match. Without this script the box is a plain search form.
  function setupCombobox(input, index) {
    var form = input.form;
    if (!form) { return; }
    var listId = "combo-list-" + index;
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "combo-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching articles");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "sr";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var holder = input.parentNode;
    holder.classList.add("combo");
    holder.appendChild(list);
    holder.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = "";
    var serial = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function open() {
      if (!items.length) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function highlight(next) {
      if (!items.length) { return; }
      if (next < 0) { next = items.length - 1; }
      if (next >= items.length) { next = 0; }
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === next ? "true" : "false"); });
      active = next;
      input.setAttribute("aria-activedescendant", items[next].id);
      items[next].scrollIntoView({ block: "nearest" });
    }
    function render(data) {
      list.textContent = "";
      items = [];
      (data.results || []).forEach(function (hit, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.url = hit.url;
        var title = document.createElement("span");
        title.className = "combo-title";
        title.textContent = hit.title;
        li.appendChild(title);
        if (hit.category) {
          var meta = document.createElement("span");
          meta.className = "combo-meta";
          meta.textContent = hit.category;
          li.appendChild(meta);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { window.location.href = hit.url; });
        list.appendChild(li);
        items.push(li);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      var n = items.length;
      status.textContent = n ? n + (n === 1 ? " matching article" : " matching articles") +
        ", use the arrow keys to choose" : "No article matches yet. Press Enter to search.";
      if (n) { open(); } else { close(); }
    }
    function run() {
      var text = input.value.trim().slice(0, 200);
      if (text.length < 2) { close(); items = []; asked = ""; return; }
      if (text === asked) { open(); return; }
      asked = text;
      var mine = ++serial;
      fetch(input.getAttribute("data-combobox") + "?source=live&per_page=5&q=" + encodeURIComponent(text), {
        headers: { "Accept": "application/json" }, credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (data && mine === serial && document.activeElement === input) { render(data); }
      }).catch(function () { /* suggestions are optional */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { open(); }
        highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { open(); }
        highlight(active - 1);
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault();
          window.location.href = items[active].dataset.url;
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("focus", function () { if (items.length && input.value.trim() === asked) { open(); } });
  }


  // Similar open incidents while the title is typed: the server renders the list (with the
  // "follow it" forms), this swaps it in. Without this script they show after submitting.
  function setupKnown(box) {
    var input = document.getElementById(box.getAttribute("data-inputs") || "title");
    if (!input) { return; }
    var timer = null;
    var last = input.value.trim();
    function run() {
      var text = input.value.trim().slice(0, 200);
      if (text === last || text.length < 3) { return; }
      last = text;
      fetch(box.getAttribute("data-live-known") + "?q=" + encodeURIComponent(text), {
        headers: { "Accept": "text/html" }, credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
        if (html === null || input.value.trim().slice(0, 200) !== text) { return; }
        box.innerHTML = html;
      }).catch(function () { /* optional */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 400);
    });
  }
})();

/* After a refused submit the page comes back with the fields marked aria-invalid: put the
   cursor in the first one, so a keyboard or screen-reader user lands on what to fix. */
(function () {
  "use strict";
  var bad = document.querySelector("main [aria-invalid=\"true\"]");
  if (bad && typeof bad.focus === "function") { bad.focus(); }
})();

/* The article editor (issue 13 item 7): a toolbar for the common Markdown and a live preview
   rendered by the server (POST /articles/preview: the one Markdown + nh3 path, CSRF token
   sent), so what is shown is what readers will get. Without JavaScript the textarea and the
   Preview button still do the same. */
(function () {
  "use strict";
  var form = document.querySelector("form.editor[data-preview]");
  var body = form && form.querySelector("textarea#body");
  if (!body) { return; }
  var tools = [
    // label, before, after, applies to whole lines, key (with Ctrl/Cmd)
    ["Heading", "## ", "", true, ""],
    ["Bold", "**", "**", false, "b"],
    ["Link", "[", "](https://)", false, "k"],
    ["Code", "`", "`", false, ""],
    ["Bulleted list", "- ", "", true, ""],
    ["Numbered list", "1. ", "", true, ""]
  ];
  function apply(tool) {
    var start = body.selectionStart, end = body.selectionEnd, value = body.value;
    if (tool[3]) {
      var from = value.lastIndexOf("\n", start - 1) + 1;
      var lines = value.slice(from, end).split("\n").map(function (line, i) {
        return (tool[1] === "1. " ? (i + 1) + ". " : tool[1]) + line;
      });
      body.setRangeText(lines.join("\n"), from, end, "end");
    } else {
      var picked = value.slice(start, end);
      if (tool[0] === "Code" && picked.indexOf("\n") >= 0) {
        body.setRangeText("```\n" + picked + "\n```", start, end, "end");
      } else {
        var text = picked || tool[0].toLowerCase() + " text";
        body.setRangeText(tool[1] + text + tool[2], start, end, "end");
        body.setSelectionRange(start + tool[1].length, start + tool[1].length + text.length);
      }
    }
    body.focus();
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }
  var bar = document.createElement("div");
  bar.className = "md-toolbar";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Formatting");
  bar.setAttribute("aria-controls", "body");
  tools.forEach(function (tool) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = tool[0];
    if (tool[4]) { button.setAttribute("aria-keyshortcuts", "Control+" + tool[4].toUpperCase()); }
    button.addEventListener("click", function () { apply(tool); });
    bar.appendChild(button);
  });
  body.parentNode.insertBefore(bar, body);

  // Images: pasted, dropped or chosen; stored by the server, which answers the Markdown.
  var imagesUrl = form.getAttribute("data-images");
  var status = document.createElement("p");
  status.className = "hint md-status";
  status.setAttribute("role", "status");
  bar.parentNode.insertBefore(status, body);
  function upload(file) {
    var token = form.querySelector("input[name=csrf_token]");
    var data = new FormData();
    data.append("image", file, file.name || "pasted.png");
    data.append("csrf_token", token ? token.value : "");
    status.textContent = "Uploading " + (file.name || "the image") + "…";
    fetch(imagesUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
      .then(function (answer) {
        if (!answer[0]) { status.textContent = "Not added: " + answer[1].error; return; }
        var at = body.selectionStart;
        body.setRangeText("\n" + answer[1].markdown + "\n", at, body.selectionEnd, "end");
        status.textContent = "Image added.";
        body.dispatchEvent(new Event("input", { bubbles: true }));
      })
      .catch(function () { status.textContent = "Not added: the upload failed; try again."; });
  }
  function images(list) {
    return Array.prototype.filter.call(list || [], function (f) { return /^image\//.test(f.type); });
  }
  if (imagesUrl) {
    var picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/png,image/jpeg,image/gif,image/webp";
    picker.hidden = true;
    picker.addEventListener("change", function () { images(picker.files).forEach(upload); picker.value = ""; });
    var choose = document.createElement("button");
    choose.type = "button";
    choose.textContent = "Image";
    choose.addEventListener("click", function () { picker.click(); });
    bar.appendChild(choose);
    bar.appendChild(picker);
    body.addEventListener("paste", function (event) {
      var found = images(event.clipboardData && event.clipboardData.files);
      if (found.length) { event.preventDefault(); found.forEach(upload); }
    });
    body.addEventListener("dragover", function (event) { event.preventDefault(); });
    body.addEventListener("drop", function (event) {
      var found = images(event.dataTransfer && event.dataTransfer.files);
      if (found.length) { event.preventDefault(); found.forEach(upload); }
    });
  } else {
    status.textContent = "Save the article once to add images.";
  }

  body.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey)) { return; }
    tools.forEach(function (tool) {
      if (tool[4] && event.key.toLowerCase() === tool[4]) { event.preventDefault(); apply(tool); }
    });
  });

  var out = document.getElementById("live-preview");
  var token = form.querySelector("input[name=csrf_token]");
  if (!out || !token) { return; }
  var timer = null, shown = null;
  function render() {
    var text = body.value;
    if (text === shown) { return; }
    var data = new FormData();
    data.append("body", text);
    data.append("csrf_token", token.value);
    fetch(form.getAttribute("data-preview"), {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": token.value }
    }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      if (html === null || body.value !== text) { return; }
      shown = text;
      out.querySelector(".body").innerHTML = html;  // sanitised by the server (nh3)
      out.hidden = false;
    }).catch(function () { /* the Preview button still works */ });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(render, 300);
  });
  render();
})();
