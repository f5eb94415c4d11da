// Lookup pickers: a combobox that searches the server as you type and keeps the chosen record's id
// in a hidden input of the field's name, so the form posts what it posted without script.
"use strict";

(() => {
  let counter = 0;

  function initPicker(box) {
    const typed = box.querySelector("input");
    if (!typed || typed.readOnly) return;
    const n = ++counter;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = typed.name;
    hidden.value = typed.value;
    typed.removeAttribute("name");
    typed.value = box.dataset.title || "";
    typed.removeAttribute("inputmode");
    box.prepend(hidden);
    const help = box.querySelector("[data-picker-help]");
    if (help) help.textContent = help.dataset.textSearch;

    const list = document.createElement("ul");
    list.id = `picker-list-${n}`;
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.append(list);
    const status = document.createElement("p");
    status.className = "sr-only";
    status.setAttribute("aria-live", "polite");
    box.append(status);
    typed.setAttribute("role", "combobox");
    typed.setAttribute("aria-autocomplete", "list");
    typed.setAttribute("aria-expanded", "false");
    typed.setAttribute("aria-controls", list.id);

    let chosenTitle = typed.value;
    let results = [];
    let active = -1;
    let page = 0;
    let asked = 0;
    let timer = null;

    const options = () => Array.from(list.querySelectorAll("[role=option]"));
    const close = () => {
      list.hidden = true;
      typed.setAttribute("aria-expanded", "false");
      typed.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const highlight = (index) => {
      const all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      typed.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    };
    const choose = (item) => {
      hidden.value = item ? String(item.id) : "";
      chosenTitle = item ? item.title : "";
      typed.value = chosenTitle;
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    };

    function parents() {
      // The form's other lookups, so records linked to them come first.
      const query = new URLSearchParams();
      box.closest("form").querySelectorAll(".picker input[type=hidden]").forEach((other) => {
        if (other !== hidden && other.value) query.set(`parent.${other.name}`, other.value);
      });
      return query;
    }

    function render(more) {
      list.replaceChildren();
      let lastRelated = null;
      results.forEach((item, i) => {
        if (item.related && lastRelated === null) {
          const heading = document.createElement("li");
          heading.setAttribute("role", "presentation");
          heading.className = "picker-group";
          heading.textContent = box.dataset.textRelated;
          list.append(heading);
        }
        lastRelated = item.related;
        const option = document.createElement("li");
        option.id = `picker-${n}-${i}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        if (i > 0 && results[i - 1].related && !item.related) option.classList.add("after-group");
        const title = document.createElement("span");
        title.className = "picker-title";
        title.textContent = item.title;
        option.append(title);
        if (item.detail) {
          const detail = document.createElement("span");
          detail.className = "picker-detail";
          detail.textContent = item.detail;
          option.append(detail);
        }
        option.addEventListener("mousedown", (event) => { event.preventDefault(); choose(item); });
        list.append(option);
      });
      if (more) {
        const option = document.createElement("li");
        option.id = `picker-${n}-more`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "picker-more";
        option.dataset.more = "1";
        option.textContent = box.dataset.textMore;
        option.addEventListener("mousedown", (event) => { event.preventDefault(); search(page + 1); });
        list.append(option);
      }
      if (!results.length) {
        const empty = document.createElement("li");
        empty.setAttribute("role", "presentation");
        empty.className = "picker-empty";
        empty.textContent = box.dataset.textEmpty;
        list.append(empty);
      }
      status.textContent = results.length ? `${results.length}` : box.dataset.textEmpty;
      list.hidden = false;
      typed.setAttribute("aria-expanded", "true");
    }

    async function search(wanted) {
      const mine = ++asked;
      const query = parents();
      query.set("q", typed.value === chosenTitle && wanted === 0 ? "" : typed.value);
      query.set("page", String(wanted));
      let data = null;
      try {
        const response = await fetch(`${box.dataset.picker}?${query}`, {
          headers: { Accept: "application/json" }, credentials: "same-origin",
        });
        if (response.ok) data = await response.json();
      } catch (error) { data = null; }
      if (mine !== asked || !data) return;
      const keep = wanted > 0 ? active : -1;
      results = wanted > 0 ? results.concat(data.results) : data.results;
      page = wanted;
      render(data.more);
      if (keep >= 0) highlight(keep);
    }

    typed.addEventListener("input", () => {
      if (!typed.value) { hidden.value = ""; chosenTitle = ""; hidden.dispatchEvent(new Event("change", { bubbles: true })); }
      clearTimeout(timer);
      timer = setTimeout(() => search(0), 150);
    });
    typed.addEventListener("click", () => { if (list.hidden) search(0); });
    typed.addEventListener("keydown", (event) => {
      const open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) search(0); else highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (open) highlight(active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        const option = options()[active];
        if (option.dataset.more) search(page + 1);
        else choose(results[active]);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        typed.value = chosenTitle;
        close();
      }
    });
    typed.addEventListener("blur", () => {
      // What was typed but not chosen is not a record: show the chosen one again.
      if (typed.value !== chosenTitle) typed.value = chosenTitle;
      close();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-picker]").forEach(initPicker);
  });
})();
