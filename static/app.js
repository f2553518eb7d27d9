/* Tenantry — progressive enhancements. CSP-safe: no eval, no inline handlers, no inline styles.
   Loaded with `defer` after htmx; everything here also degrades to plain HTML without JS. */
(function () {
  "use strict";

  var COPIED_MS = 2000;
  var SUCCESS_FLASH_MS = 6000;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  // (a) htmx requests carry the CSRF token as a header (Flask-WTF reads X-CSRFToken).
  document.addEventListener("htmx:configRequest", function (evt) {
    var token = csrfToken();
    if (token) evt.detail.headers["X-CSRFToken"] = token;
    // A filter form's empty fields only add noise to the address htmx pushes
    // (?q=budi&status=&method=…): drop the names whose every value is empty. The server reads a
    // missing parameter as an empty one, so the shorter URL renders the same page.
    var data = evt.detail.formData;
    if (evt.detail.verb === "get" && data && data.keys) {
      var empty = [];
      Array.from(data.keys()).forEach(function (key) {
        if (empty.indexOf(key) < 0 && data.getAll(key).every(function (v) { return v === ""; })) empty.push(key);
      });
      empty.forEach(function (key) { data.delete(key); });
    }
  });

  // (b) [data-copy="element-id"] copies that element's text and says "Copied".
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyFrom(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = (source.value !== undefined ? source.value : source.textContent).trim();
    var copying = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); })
      : fallbackCopy(text);
    var original = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", original);
    copying.then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Press Ctrl+C";
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }).then(function () {
      window.setTimeout(function () { button.textContent = original; }, COPIED_MS);
    });
  }

  // (c) flashes: the close control is a checkbox label (works without JS via CSS);
  //     with JS we remove the element and auto-hide success messages.
  function removeFlash(flash) {
    if (!flash || !flash.parentNode) return;
    flash.classList.add("is-leaving");
    var stack = flash.parentNode;
    stack.removeChild(flash);
    if (stack.classList.contains("flashes") && !stack.querySelector(".flash")) stack.parentNode.removeChild(stack);
  }

  // querySelectorAll that also considers root itself (htmx:load hands us the swapped element).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function armFlashes(root) {
    within(root, ".flash-success:not([data-armed])").forEach(function (flash) {
      flash.setAttribute("data-armed", "");
      var timer = window.setTimeout(function () { removeFlash(flash); }, SUCCESS_FLASH_MS);
      // Keep it while the pointer or focus is on it, so it can be read.
      flash.addEventListener("mouseenter", function () { window.clearTimeout(timer); });
      flash.addEventListener("focusin", function () { window.clearTimeout(timer); });
    });
  }

  function showFlash(category, message, title) {
    var stack = document.querySelector(".flashes");
    if (!stack) {
      stack = document.createElement("div");
      stack.className = "flashes";
      (document.getElementById("main") || document.body).appendChild(stack);
    }
    var flash = document.createElement("div");
    flash.className = "flash flash-" + category;
    flash.setAttribute("role", category === "error" ? "alert" : "status");
    var text = document.createElement("p");
    text.className = "flash-msg";
    if (title) {
      var strong = document.createElement("strong");
      strong.className = "flash-title";
      strong.textContent = title;
      text.appendChild(strong);
    }
    text.appendChild(document.createTextNode(message));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    flash.appendChild(text);
    flash.appendChild(close);
    stack.appendChild(flash);
    armFlashes(stack);
  }

  // htmx error responses (4xx/5xx, not swapped by our responseHandling config) become an error
  // toast; the server's errors/_error.html fragment supplies the words.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var title = null;
    var message = "Something went wrong (" + xhr.status + "). Please try again.";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var heading = doc.querySelector(".error-box-title, .error-page h1");
      var body = doc.querySelector(".error-box-message, .error-message");
      if (heading && body) {
        title = heading.textContent.trim();
        message = body.textContent.trim();
      }
    } catch (e) { /* keep the generic message */ }
    showFlash("error", message, title);
  });
  // (e) Loading: while a request a person started is in flight, <html> carries .htmx-busy (the
  //     stylesheet shows a bar under the top bar, only if it lasts) and the region being replaced
  //     says aria-busy. Background polls (hx-trigger="every …") do not count: nobody is waiting.
  var inFlight = 0;
  function isPoll(elt) {
    return /(^|,)\s*every\s/.test((elt && elt.getAttribute && elt.getAttribute("hx-trigger")) || "");
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (isPoll(evt.detail.elt)) return;
    inFlight += 1;
    document.documentElement.classList.add("htmx-busy");
    var target = evt.detail.target;
    if (target && target.setAttribute) target.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (isPoll(evt.detail.elt)) return;
    inFlight = Math.max(0, inFlight - 1);
    if (!inFlight) document.documentElement.classList.remove("htmx-busy");
    var target = evt.detail.target;
    if (target && target.removeAttribute) target.removeAttribute("aria-busy");
  });

  document.addEventListener("htmx:sendError", function () {
    showFlash("error", "Could not reach the server. Check your connection and try again.");
  });

  document.addEventListener("click", function (evt) {
    var copyButton = evt.target.closest("[data-copy]");
    if (copyButton) { evt.preventDefault(); copyFrom(copyButton); return; }
    var close = evt.target.closest(".flash-close");
    if (close) { evt.preventDefault(); removeFlash(close.closest(".flash")); }
  });

  // (d) [data-confirm] on a form (or its submit button) asks before a plain, non-htmx submit.
  //     Capture phase, so a refusal stops the event before any other submit handler runs.
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    var submitter = evt.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      evt.preventDefault();
      evt.stopPropagation();
    }
  }, true);

  function enhance(root) {
    armFlashes(root);
    // Copy buttons are useless without JS, so they ship `hidden` and are revealed here.
    within(root, "[data-copy][hidden]").forEach(function (button) {
      button.removeAttribute("hidden");
    });
  }

  enhance(document);
  document.addEventListener("htmx:load", function (evt) { enhance(evt.target); });
})();
