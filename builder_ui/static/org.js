// The department tree: dragging a department into another list re-parents it through the same
// endpoint as the "Move under…" form, then the page reloads to show the tree as stored.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function say(text) {
    var status = document.getElementById("org-status");
    if (status) status.textContent = text;
  }

  function moved(event) {
    if (event.from === event.to) return;
    var item = event.item;
    var body = new URLSearchParams();
    body.set("parent_id", event.to.dataset.parent || "");
    fetch(item.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) say(answer.error || "");
          window.location.reload();
        });
      })
      .catch(function () {
        window.location.reload();
      });
  }

  function start() {
    if (typeof Sortable === "undefined") return;
    document.querySelectorAll("#org-departments .org-tree").forEach(function (list) {
      Sortable.create(list, {
        group: "departments",
        handle: ".org-handle",
        fallbackOnBody: true,
        swapThreshold: 0.65,
        animation: 150,
        onEnd: moved,
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
