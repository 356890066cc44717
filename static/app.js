// Every signed-in page: country codes get their names, filter choices apply as soon as they change (the Apply button stays
// for a browser without script), and keyboard shortcuts, listed on the "?" dialog. A shortcut
// never fires while typing in a field or with Ctrl, Alt or Cmd held: browser keys stay the
// browser's.
(function () {
  "use strict";

  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("change", function (e) {
      if (e.target.tagName === "SELECT") { form.requestSubmit ? form.requestSubmit() : form.submit(); }
    });
  });

  // Country codes (the audience tables) named in the reader's language, where the browser can.
  if (window.Intl && Intl.DisplayNames) {
    var regions = new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "region" });
    document.querySelectorAll("[data-country]").forEach(function (el) {
      try {
        var name = regions.of(el.getAttribute("data-country"));
        if (name && name !== el.textContent) { el.textContent = name; el.title = el.getAttribute("data-country"); }
      } catch (err) { /* not a code the browser knows: the code stays */ }
    });
  }

  var dialog = document.getElementById("shortcuts");
  var hint = document.querySelector("[data-shortcuts-hint]");
  if (!dialog) { return; }
  if (hint) { hint.hidden = false; }

  var pages = { d: "/", a: "/accounts", p: "/posts", l: "/planner", i: "/inbox", h: "/hashtags", b: "/best-time", s: "/sync" };
  var pendingG = false;

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) { window.location.href = link.href; }
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    if (dialog.open && e.key !== "?") { return; }
    var key = e.key;
    if (pendingG) {
      pendingG = false;
      if (pages[key]) { e.preventDefault(); window.location.href = pages[key]; }
      return;
    }
    if (key === "?") {
      e.preventDefault();
      if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
    } else if (key === "g") {
      pendingG = true;
      setTimeout(function () { pendingG = false; }, 1500);
    } else if (key === "[") {
      follow("nav.period a[rel=prev]");
    } else if (key === "]") {
      follow("nav.period a[rel=next]");
    } else if (/^[1-9]$/.test(key)) {
      follow("nav.period a[data-preset='" + key + "']");
    } else if (key === "/") {
      var search = document.querySelector("input[type=search]");
      if (search) { e.preventDefault(); search.focus(); }
    }
  });
})();
