// List and menu settings: every ordered list (columns, card fields, related lists and their columns)
// reorders by drag and drop, and by its move up / move down buttons for the keyboard.
(function () {
  "use strict";

  function sortable(list) {
    const handle = list.dataset.handle || ".fd-handle";
    if (window.Sortable) {
      window.Sortable.create(list, { handle: handle, animation: 0, forceFallback: true });
    }
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      const item = button.closest("li");
      if (item.parentElement !== list) return; // a nested list moves its own items
      if (button.dataset.move === "up" && item.previousElementSibling) item.previousElementSibling.before(item);
      if (button.dataset.move === "down" && item.nextElementSibling) item.nextElementSibling.after(item);
      button.focus();
    });
  }

  function limited(list) {
    // At most data-limit boxes ticked: the others are disabled until one is unticked.
    const limit = Number(list.dataset.limit);
    const boxes = () => Array.from(list.querySelectorAll(":scope > li input[type=checkbox]"));
    const update = () => {
      const full = boxes().filter((box) => box.checked).length >= limit;
      boxes().forEach((box) => { box.disabled = full && !box.checked; });
    };
    list.addEventListener("change", update);
    update();
  }

  function related(box) {
    // The related lists' choices only count when the admin chooses them.
    const fieldset = box.closest("fieldset");
    const update = () => fieldset.classList.toggle("ls-default", !box.checked);
    box.addEventListener("change", update);
    update();
  }

  function start() {
    document.querySelectorAll("[data-sortable]").forEach(sortable);
    document.querySelectorAll("[data-limit]").forEach(limited);
    document.querySelectorAll("[data-related-custom]").forEach(related);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
