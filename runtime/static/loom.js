// Loom CRM pages: a little hand-written script on top of pages that work without it.
"use strict";

(function () {
  document.body.classList.replace("no-js", "js");
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (error) { data = {}; }
    return { ok: response.ok, data };
  }

  // -- navigation on phones ----------------------------------------------------------------
  function initMenu() {
    const button = document.querySelector("[data-menu]");
    const sidebar = document.getElementById("sidebar");
    if (!button || !sidebar) return;
    button.addEventListener("click", () => {
      const open = sidebar.classList.toggle("open");
      button.setAttribute("aria-expanded", String(open));
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && sidebar.classList.contains("open")) {
        sidebar.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  // -- lists ---------------------------------------------------------------------------------
  function initLists() {
    document.querySelectorAll("[data-select-all]").forEach((all) => {
      all.addEventListener("change", () => {
        all.closest("form").querySelectorAll('input[name="id"]').forEach((box) => { box.checked = all.checked; });
      });
    });
    if (window.matchMedia("(max-width: 760px)").matches) {
      document.querySelectorAll("details[data-fold-on-phone]").forEach((panel) => { panel.open = false; });
    }
    document.querySelectorAll("[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form.requestSubmit());
    });
  }

  // -- forms: visible_if / required_if / readonly_if, evaluated by the server as the user types --
  function formValues(form) {
    const values = {};
    form.querySelectorAll("[data-field]").forEach((wrapper) => {
      const name = wrapper.dataset.field;
      const input = wrapper.querySelector(`[name="${name}"]`);
      if (!input) return;
      if (input.type === "checkbox") values[name] = input.checked ? "true" : "false";
      else if (input.multiple) values[name] = Array.from(input.selectedOptions).map((o) => o.value);
      else values[name] = input.value;
    });
    return values;
  }

  function applyStates(form, fields) {
    Object.entries(fields).forEach(([name, state]) => {
      const wrapper = form.querySelector(`[data-field="${name}"]`);
      if (!wrapper) return;
      wrapper.hidden = !state.visible;
      const mark = wrapper.querySelector(".required-mark");
      if (mark) mark.hidden = !state.required;
      const input = wrapper.querySelector(`[name="${name}"]`);
      if (!input || input.type === "hidden") return;
      input.required = state.required;
      input.setAttribute("aria-required", String(state.required));
      if (input.tagName === "SELECT" || input.type === "checkbox") input.disabled = state.readonly;
      else input.readOnly = state.readonly;
    });
    form.querySelectorAll("fieldset.form-section").forEach((section) => {
      section.hidden = !Array.from(section.querySelectorAll("[data-field]")).some((wrapper) => !wrapper.hidden);
    });
  }

  function initForms() {
    document.querySelectorAll("form[data-form-state]").forEach((form) => {
      let timer = null;
      let asked = 0;
      const refresh = () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const mine = ++asked;
          const body = { values: formValues(form), record_id: form.dataset.recordId || null };
          const { ok, data } = await postJson(form.dataset.formState, body);
          if (ok && mine === asked && data.fields) applyStates(form, data.fields);
        }, 250);
      };
      form.addEventListener("input", refresh);
      form.addEventListener("change", refresh);
      const errors = form.querySelector("#form-errors");
      const firstBad = form.querySelector('[aria-invalid="true"]');
      if (firstBad) firstBad.focus();
      else if (errors) errors.focus();
    });
  }

  // -- kanban: drag a card to a column (or to the strip of columns that stays in view while dragging),
  // or pick the column in its "Move to" list; each column loads more cards on demand -----------------
  function initBoards() {
    document.querySelectorAll("[data-board]").forEach((board) => {
      const toast = document.querySelector("[data-toast]");
      const strip = document.querySelector("[data-drop-strip]");
      let dragged = null;

      const say = (message) => {
        if (!toast) return;
        toast.textContent = message;
        toast.hidden = false;
        clearTimeout(toast.timer);
        toast.timer = setTimeout(() => { toast.hidden = true; }, 6000);
      };
      const columnOf = (value) => board.querySelector(`[data-column="${CSS.escape(value)}"]`);
      const showTotals = (columns) => Object.entries(columns || {}).forEach(([value, total]) => {
        const column = columnOf(value);
        if (!column) return;
        column.querySelector("[data-count]").textContent = String(total.count);
        const sum = column.querySelector("[data-sum]");
        if (sum && total.sum !== null) sum.lastChild.textContent = total.sum;
      });

      async function move(card, column) {
        const from = card.closest("[data-column]");
        if (!column || column === from) return;
        column.querySelector("[data-drop]").prepend(card);
        card.classList.add("saving");
        const url = card.querySelector("form.move").action;
        const { ok, data } = await postJson(url, {
          field: board.dataset.field, value: column.dataset.column, version: card.dataset.version,
          query: board.dataset.query,
        });
        card.classList.remove("saving");
        if (ok && data.ok) {
          card.dataset.version = data.version;
          card.querySelector("form.move input[name=version]").value = data.version;
          card.querySelector("form.move select").value = column.dataset.column;
          showTotals(data.columns);
        } else {
          from.querySelector("[data-drop]").prepend(card);
          card.querySelector("form.move select").value = from.dataset.column;
          say(`${board.dataset.moveError}: ${(data.errors || []).join("; ")}`);
        }
      }

      function wire(card) {
        if (!card.hasAttribute("draggable")) return;
        card.addEventListener("dragstart", (event) => {
          dragged = card;
          card.classList.add("dragging");
          event.dataTransfer.effectAllowed = "move";
          event.dataTransfer.setData("text/plain", card.dataset.id);
          // Columns scrolled out of view stay reachable as drop zones along the bottom.
          if (strip && board.scrollWidth > board.clientWidth) strip.hidden = false;
        });
        card.addEventListener("dragend", () => {
          card.classList.remove("dragging");
          if (strip) strip.hidden = true;
          document.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
        });
        const select = card.querySelector("form.move select");
        select.addEventListener("change", () => move(card, columnOf(select.value)));
      }

      function dropOn(target, highlight, column) {
        target.addEventListener("dragover", (event) => {
          if (!dragged) return;
          event.preventDefault();
          highlight.classList.add("drop-target");
        });
        target.addEventListener("dragleave", (event) => {
          if (!target.contains(event.relatedTarget)) highlight.classList.remove("drop-target");
        });
        target.addEventListener("drop", (event) => {
          event.preventDefault();
          highlight.classList.remove("drop-target");
          if (dragged) move(dragged, column);
          dragged = null;
        });
      }

      board.querySelectorAll(".kanban-card").forEach(wire);
      board.querySelectorAll("[data-column]").forEach((column) => dropOn(column, column.querySelector("[data-drop]"), column));
      if (strip) strip.querySelectorAll("[data-zone]").forEach((zone) => dropOn(zone, zone, columnOf(zone.dataset.zone)));

      board.querySelectorAll("[data-more]").forEach((button) => {
        button.addEventListener("click", async (event) => {
          event.preventDefault();
          const column = button.closest("[data-column]");
          const query = new URLSearchParams(board.dataset.query);
          query.set("value", column.dataset.column);
          query.set("cursor", button.dataset.more);
          const response = await fetch(`${board.dataset.cards}?${query}`, { headers: { Accept: "application/json" } });
          const data = response.ok ? await response.json() : { html: "", cursor: null };
          const list = column.querySelector("[data-drop]");
          const holder = document.createElement("template");
          holder.innerHTML = data.html;
          Array.from(holder.content.querySelectorAll(".kanban-card")).forEach((card) => {
            if (list.querySelector(`[data-id="${card.dataset.id}"]`)) return; // moved here meanwhile
            list.append(card);
            wire(card);
          });
          if (data.cursor) button.dataset.more = data.cursor;
          else button.remove();
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    initMenu();
    initLists();
    initForms();
    initBoards();
  });
})();

// The import wizard: confirm a revert, and follow a running import until it is done.
(() => {
  "use strict";

  function initConfirms() {
    document.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  function followImport(box) {
    const state = box.querySelector("[data-import-state]");
    const bar = box.querySelector("[data-import-bar]");
    const poll = () => {
      fetch(box.dataset.importStatus, { headers: { Accept: "application/json" } })
        .then((response) => response.json())
        .then((status) => {
          Object.entries(status.counts || {}).forEach(([name, count]) => {
            const cell = box.querySelector(`[data-count="${name}"]`);
            if (cell) cell.textContent = count;
          });
          if (status.status === "done" || status.status === "failed") {
            state.textContent = status.status === "done" ? box.dataset.textDone : box.dataset.textFailed;
            bar.max = 1;
            bar.value = 1;
            if (status.error) {
              const error = box.querySelector("[data-import-error]");
              error.textContent = status.error;
              error.hidden = false;
            }
            if (status.import_id) {
              box.querySelector("[data-problems-csv]").href = box.dataset.problems.replace("/0/", `/${status.import_id}/`);
            }
            box.querySelector("[data-import-links]").hidden = false;
            return;
          }
          if (status.total) {
            // A determinate bar once the file's size is known; the estimate may fall short of the end.
            bar.max = Math.max(status.total, status.rows, 1);
            bar.value = status.rows;
            const number = (n) => (n === null || n === undefined ? "…" : Number(n).toLocaleString());
            state.textContent = box.dataset.textProgress
              .replace("{done}", number(status.rows))
              .replace("{total}", number(status.total))
              .replace("{rate}", number(status.rate));
          } else {
            state.textContent = `${box.dataset.textRunning} ${status.rows}`;
            bar.removeAttribute("value");
          }
          window.setTimeout(poll, 700);
        })
        .catch(() => window.setTimeout(poll, 2000));
    };
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    initConfirms();
    document.querySelectorAll("[data-import-status]").forEach(followImport);
  });
})();
