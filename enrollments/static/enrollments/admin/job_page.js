/*
 * A background job's page (enrollments/admin/jobs.py, operationrun/job.html): while the job
 * moves (an element with data-refresh-every="SECONDS"), reads the page again every SECONDS and
 * replaces each of its parts marked data-live-part (by id) that changed, so progress moves
 * without reloading by hand. Only those parts move: whatever else the page shows stays as it
 * was loaded, so every part that changes with the job is one (its state, counts and actions,
 * the skipped rows, and the facts, which gain Started and Finished). It stops once the page
 * read has no data-refresh-every (the job finished, failed or was cancelled). A control that
 * had the focus keeps it when its part is replaced (by id, else name). Without JavaScript a
 * <noscript> refresh reloads the page.
 */
(function () {
  "use strict";

  function seconds(root) {
    var marker = root.querySelector("[data-refresh-every]");
    return marker ? Number(marker.getAttribute("data-refresh-every")) || 2 : 0;
  }

  function focusKey(element) {
    if (!element || element === document.body) { return null; }
    if (element.id) { return "#" + element.id; }
    if (element.className && typeof element.className === "string") {
      return "." + element.className.trim().split(/\s+/).join(".");
    }
    return null;
  }

  function replaceParts(fresh) {
    var key = focusKey(document.activeElement);
    document.querySelectorAll("[data-live-part]").forEach(function (part) {
      var next = fresh.getElementById(part.id);
      if (!next || next.outerHTML === part.outerHTML) { return; }
      var hadFocus = part.contains(document.activeElement);
      var copy = document.importNode(next, true);
      part.replaceWith(copy);
      if (hadFocus && key) {
        var again = copy.querySelector(key);
        if (again) { again.focus(); }
      }
    });
  }

  function schedule(delay) {
    if (delay > 0) { window.setTimeout(refresh, delay * 1000); }
  }

  function refresh() {
    fetch(window.location.href, {credentials: "same-origin", headers: {Accept: "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        replaceParts(fresh);
        schedule(seconds(document));
      })
      .catch(function () { schedule(seconds(document) * 2); });
  }

  function start() { schedule(seconds(document)); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
