/*
 * The staff pages' small JS module (loaded on every admin page by admin/base_site.html).
 * Each behaviour is opt-in through a data attribute, so new pages reuse it by markup alone:
 *
 *   data-focus-on-load            The first such element takes the focus when the page loads
 *                                 (the error summary, or the preview's heading), so keyboard
 *                                 and screen-reader users land on the result of their step.
 *   data-shown-when="RADIO-ID"    Shown only while that radio is checked (the Extend page's
 *                                 "days" and "new end" fields). Choosing a radio (click, Space,
 *                                 arrows) shows its fields; focusing or typing never changes the
 *                                 choice. Without JS every field is shown.
 *   data-browser-zone-for="ID"    On a staff member's first visit (no zone chosen yet), the
 *                                 time-zone <select id=ID> proposes the browser's zone.
 *   data-select-on-focus          The field's text is selected when it takes the focus (the new
 *                                 API key, to copy). The pages run no inline script or event
 *                                 handler attribute: the Content-Security-Policy forbids them.
 *
 * And one workaround for the stock admin: its autocomplete widgets (select2) render a combobox
 * whose accessible name is the selected value, so an empty one has none. Once they are drawn,
 * each gets its field's label as its name.
 */
(function () {
  "use strict";

  function focusOnLoad() {
    var target = document.querySelector("[data-focus-on-load]");
    if (!target) { return; }
    if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
    if (target.scrollIntoView) { target.scrollIntoView({block: "start"}); }
  }

  function syncPanels() {
    document.querySelectorAll("[data-shown-when]").forEach(function (panel) {
      var radio = document.getElementById(panel.getAttribute("data-shown-when"));
      panel.hidden = Boolean(radio) && !radio.checked;
    });
  }

  function watchPanels() {
    if (!document.querySelector("[data-shown-when]")) { return; }
    syncPanels();
    document.addEventListener("change", function (event) {
      if (event.target && event.target.type === "radio") { syncPanels(); }
    });
  }

  function proposeBrowserZone() {
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) { return; }
    document.querySelectorAll("[data-browser-zone-for]").forEach(function (marker) {
      var select = document.getElementById(marker.getAttribute("data-browser-zone-for"));
      if (!select) { return; }
      var options = Array.prototype.slice.call(select.options);
      var match = options.find(function (o) { return o.value === zone; }) ||
        // The picker lists canonical IANA names; a browser may report an older alias of the
        // same zone (Chromium: Asia/Calcutta for Asia/Kolkata), so compare as the browser names them.
        options.find(function (o) { return o.value && resolvedZone(o.value) === zone; });
      if (match) { select.value = match.value; }
    });
  }

  function resolvedZone(name) {
    try {
      return Intl.DateTimeFormat(undefined, { timeZone: name }).resolvedOptions().timeZone;
    } catch (error) {
      return null;
    }
  }

  function nameAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      var container = select.nextElementSibling;
      if (!label || !container) { return; }
      var name = label.textContent.replace(/:\s*$/, "").trim();
      container.querySelectorAll('[role="combobox"], [role="textbox"]').forEach(function (el) {
        el.setAttribute("aria-label", name);
      });
    });
  }

  function selectOnFocus() {
    document.addEventListener("focusin", function (event) {
      var target = event.target;
      if (target && target.hasAttribute && target.hasAttribute("data-select-on-focus")) {
        target.select();
      }
    });
  }

  function start() {
    selectOnFocus();
    proposeBrowserZone();
    watchPanels();
    focusOnLoad();
  }

  // select2 draws its widgets on jQuery's ready, after this deferred script runs: name them as
  // soon as they appear (and again on load, in case they were drawn before the observer).
  if (document.querySelector("select.admin-autocomplete") && window.MutationObserver) {
    new MutationObserver(nameAutocompletes).observe(document.documentElement, {childList: true, subtree: true});
  }
  window.addEventListener("load", nameAutocompletes);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
