// The form designer and the list settings: drag and drop with keyboard alternatives, the condition
// builder, and a preview whose field states come from the engine (so it agrees with the real form).
(function () {
  "use strict";

  const { ConditionEditor, el, postJSON, fmt, debounce } = window.LoomConditions;

  // -- the designer ------------------------------------------------------------------------------

  class Designer {
    constructor(root) {
      const data = JSON.parse(document.getElementById("fd-data").textContent);
      this.root = root;
      this.t = data.texts;
      this.catalogue = data.fields;
      this.fields = Object.fromEntries(data.fields.map((f) => [f.name, f]));
      this.urls = { save: root.dataset.save, check: root.dataset.check, preview: root.dataset.preview };
      this.doc = data.document;
      this.doc.sections = this.doc.sections.map((section) => ({
        ...section,
        columns: section.columns || 2,
        fields: section.fields.map((entry) => (typeof entry === "string" ? { field: entry } : { ...entry })),
      }));
      this.builderStates = new Map();
      this.checked = new Map();
      this.open = new Set();
      this.samples = {};
      for (const f of this.catalogue) {
        this.samples[f.name] = f.kind === "boolean" ? false : (f.options.length ? String(f.options[0].value) : "");
      }
      this.previewSoon = debounce(() => this.refreshPreview(), 200);
      document.getElementById("fd-add-section").addEventListener("click", () => this.addSection());
      document.getElementById("fd-save").addEventListener("click", () => this.save());
      document.getElementById("fd-phone").addEventListener("change", (event) => {
        document.getElementById("fd-preview").classList.toggle("fd-phone", event.target.checked);
        root.querySelector(".fd-layout").classList.toggle("fd-phone-mode", event.target.checked);
      });
      this.render();
    }

    placed() {
      return new Set(this.doc.sections.flatMap((section) => section.fields.map((entry) => entry.field)));
    }

    label(name) {
      return (this.fields[name] || {}).label || name;
    }

    render(focus) {
      const placed = this.placed();
      const unplaced = this.root.querySelector(".fd-unplaced");
      unplaced.replaceChildren(...this.catalogue.filter((f) => !placed.has(f.name)).map((f) => this.fieldItem({ field: f.name }, -1, 0)));
      const host = document.getElementById("fd-sections");
      host.replaceChildren(...this.doc.sections.map((section, index) => this.sectionCard(section, index)));
      for (const list of this.root.querySelectorAll(".fd-fields")) {
        if (window.Sortable) {
          window.Sortable.create(list, {
            group: "fd-fields", handle: ".fd-handle", animation: 0, forceFallback: true,
            onEnd: () => this.readOrderFromPage(),
          });
        }
      }
      this.renderPreview();
      if (focus) {
        const target = this.root.querySelector(focus);
        if (target) target.focus();
      }
    }

    sectionCard(section, index) {
      const t = this.t;
      const base = `/sections/${index}`;
      const zh = el("input", { type: "text", "data-path": `${base}/label`, oninput: (event) => {
        section.label = { ...section.label, zh_CN: event.target.value };
        this.renderPreviewSoon();
      } });
      zh.value = (section.label || {}).zh_CN || "";
      const en = el("input", { type: "text", oninput: (event) => {
        section.label = { ...section.label, en: event.target.value };
        this.renderPreviewSoon();
      } });
      en.value = (section.label || {}).en || "";
      const columns = el("select", { "data-path": `${base}/columns`, onchange: (event) => {
        section.columns = Number(event.target.value);
        this.render();
      } });
      for (const n of [1, 2, 3]) columns.append(el("option", { value: n, text: String(n), selected: section.columns === n }));
      const name = (section.label || {}).zh_CN || `${t.section} ${index + 1}`;
      const head = el("div", { class: "fd-section-head" },
        el("label", {}, t.title_zh, zh), el("label", {}, t.title_en, en), el("label", {}, t.columns, columns),
        el("span", { class: "fd-section-buttons" },
          el("button", { type: "button", class: "fd-small", "data-action": "section-up", "aria-label": `${t.section_up}: ${name}`, text: "↑",
            disabled: index === 0, onclick: () => this.moveSection(index, -1) }),
          el("button", { type: "button", class: "fd-small", "data-action": "section-down", "aria-label": `${t.section_down}: ${name}`, text: "↓",
            disabled: index === this.doc.sections.length - 1, onclick: () => this.moveSection(index, 1) }),
          el("button", { type: "button", class: "fd-small", text: t.remove_section, onclick: () => this.removeSection(index) })));
      const key = `section:${index}`;
      const conds = el("details", { class: "fd-section-conds", open: this.open.has(key), ontoggle: (event) => {
        if (event.target.open) this.open.add(key); else this.open.delete(key);
      } }, el("summary", { text: t.conditions + (section.visible_if ? " ●" : "") }));
      conds.append(new ConditionEditor(this, `${base}/visible_if`, t.visible_if,
        () => section.visible_if, (text) => { if (text) section.visible_if = text; else delete section.visible_if; }).node);
      const list = el("ul", { class: `fd-fields fd-cols-${section.columns}`, "data-section": index, "data-path": `${base}/fields`, "aria-label": name, "data-empty": t.empty_section });
      section.fields.forEach((entry, j) => list.append(this.fieldItem(entry, index, j)));
      return el("section", { class: "card fd-section", "data-index": index, "data-path": base }, head, conds, list);
    }

    fieldItem(entry, sectionIndex, position) {
      const t = this.t;
      const name = this.label(entry.field);
      const path = sectionIndex >= 0 ? `/sections/${sectionIndex}/fields/${position}` : null;
      const moveTo = el("select", { class: "fd-move-to", "aria-label": fmt(t.move_to, { name }), onchange: (event) => {
        this.moveTo(entry.field, Number(event.target.value));
      } });
      moveTo.append(el("option", { value: -1, text: t.not_on_form, selected: sectionIndex === -1 }));
      this.doc.sections.forEach((section, i) => {
        moveTo.append(el("option", { value: i, text: (section.label || {}).zh_CN || `${t.section} ${i + 1}`, selected: i === sectionIndex }));
      });
      const item = el("li", { class: "fd-field", "data-field": entry.field, "data-path": path },
        el("span", { class: "fd-handle", title: name, "aria-hidden": "true", text: "⋮⋮" }),
        el("span", { class: "fd-field-name" }, name, " ", el("code", { text: entry.field })),
        el("span", { class: "fd-field-buttons" },
          sectionIndex >= 0 ? el("button", { type: "button", class: "fd-small", "data-action": "up", "aria-label": fmt(t.move_up, { name }), text: "↑", onclick: () => this.step(entry.field, -1) }) : null,
          sectionIndex >= 0 ? el("button", { type: "button", class: "fd-small", "data-action": "down", "aria-label": fmt(t.move_down, { name }), text: "↓", onclick: () => this.step(entry.field, 1) }) : null,
          moveTo));
      if (sectionIndex >= 0) {
        const key = `field:${entry.field}`;
        const marked = ["visible_if", "required_if", "readonly_if"].some((k) => entry[k]);
        const details = el("details", { class: "fd-field-conds", open: this.open.has(key), ontoggle: (event) => {
          if (event.target.open) this.open.add(key); else this.open.delete(key);
        } }, el("summary", { text: t.conditions + (marked ? " ●" : "") }));
        for (const cond of ["visible_if", "required_if", "readonly_if"]) {
          details.append(new ConditionEditor(this, `${path}/${cond}`, t[cond], () => entry[cond],
            (text) => { if (text) entry[cond] = text; else delete entry[cond]; }).node);
        }
        item.append(details);
      }
      return item;
    }

    locate(name) {
      for (const [i, section] of this.doc.sections.entries()) {
        const j = section.fields.findIndex((entry) => entry.field === name);
        if (j >= 0) return [i, j];
      }
      return [-1, -1];
    }

    take(name) {
      const [i, j] = this.locate(name);
      return i >= 0 ? this.doc.sections[i].fields.splice(j, 1)[0] : { field: name };
    }

    step(name, delta) {
      const [i, j] = this.locate(name);
      const fields = this.doc.sections[i].fields;
      const target = j + delta;
      if (target >= 0 && target < fields.length) {
        fields.splice(target, 0, fields.splice(j, 1)[0]);
      } else if (delta < 0 && i > 0) {
        this.doc.sections[i - 1].fields.push(fields.splice(j, 1)[0]);
      } else if (delta > 0 && i < this.doc.sections.length - 1) {
        this.doc.sections[i + 1].fields.unshift(fields.splice(j, 1)[0]);
      }
      this.keepStates();
      this.render(`.fd-field[data-field="${name}"] [data-action="${delta < 0 ? "up" : "down"}"]`);
      this.announce(name);
    }

    moveTo(name, sectionIndex) {
      const entry = this.take(name);
      if (sectionIndex >= 0) this.doc.sections[sectionIndex].fields.push(entry);
      this.keepStates();
      this.render(`.fd-field[data-field="${name}"] .fd-move-to`);
      this.announce(name);
    }

    announce(name) {
      const [i, j] = this.locate(name);
      const where = i >= 0 ? `${(this.doc.sections[i].label || {}).zh_CN || this.t.section + " " + (i + 1)} · ${j + 1}` : this.t.not_on_form;
      document.getElementById("fd-status").textContent = `${this.label(name)}: ${where}`;
    }

    // Builder states are kept by JSON path, and paths change as fields move: start those afresh.
    keepStates() {
      this.builderStates.clear();
    }

    readOrderFromPage() {
      const entries = {};
      for (const section of this.doc.sections) for (const entry of section.fields) entries[entry.field] = entry;
      for (const list of this.root.querySelectorAll(".fd-fields")) {
        const index = Number(list.dataset.section);
        if (index < 0) continue;
        this.doc.sections[index].fields = [...list.querySelectorAll(":scope > .fd-field")].map(
          (item) => entries[item.dataset.field] || { field: item.dataset.field });
      }
      this.keepStates();
      this.render();
    }

    addSection() {
      this.doc.sections.push({ label: { zh_CN: this.t.new_section, en: "" }, columns: 2, fields: [] });
      this.render(`.fd-section[data-index="${this.doc.sections.length - 1}"] input`);
    }

    removeSection(index) {
      this.doc.sections.splice(index, 1);
      this.keepStates();
      this.render("#fd-add-section");
    }

    moveSection(index, delta) {
      const sections = this.doc.sections;
      sections.splice(index + delta, 0, sections.splice(index, 1)[0]);
      this.keepStates();
      this.render(`.fd-section[data-index="${index + delta}"] [data-action="section-${delta < 0 ? "up" : "down"}"]`);
    }

    documentToSave() {
      const doc = { ...this.doc };
      doc.sections = this.doc.sections.map((section) => {
        // A title left empty in one language is left out, as a package file would leave it out.
        const label = Object.fromEntries(Object.entries(section.label || {}).filter(([, text]) => text && text.trim()));
        const out = { label, columns: section.columns };
        if (section.visible_if) out.visible_if = section.visible_if;
        out.fields = section.fields.map((entry) => {
          const conds = ["visible_if", "required_if", "readonly_if"].filter((k) => entry[k]);
          if (!conds.length) return entry.field;
          return { field: entry.field, ...Object.fromEntries(conds.map((k) => [k, entry[k]])) };
        });
        return out;
      });
      return doc;
    }

    clearErrors() {
      for (const node of this.root.querySelectorAll(".fd-error")) node.remove();
      const box = document.getElementById("fd-errors");
      box.hidden = true;
      box.replaceChildren();
    }

    showErrors(fields) {
      const box = document.getElementById("fd-errors");
      const list = el("ul");
      for (const [path, messages] of Object.entries(fields || {})) {
        let target = null;
        for (let probe = path; probe && !target; probe = probe.slice(0, probe.lastIndexOf("/"))) {
          target = this.root.querySelector(`[data-path="${CSS.escape(probe)}"]`);
        }
        const note = el("p", { class: "fd-error", role: "alert", "data-error-path": path, text: `${path}: ${messages.join("; ")}` });
        if (target) target.append(note);
        list.append(el("li", { text: `${path}: ${messages.join("; ")}` }));
      }
      box.replaceChildren(el("p", { text: this.t.not_saved }), list);
      box.hidden = false;
    }

    save() {
      this.clearErrors();
      const status = document.getElementById("fd-status");
      postJSON(this.urls.save, { document: this.documentToSave() }).then(({ status: code, data }) => {
        if (code === 200) {
          status.textContent = data.message || this.t.saved;
        } else {
          status.textContent = this.t.not_saved;
          this.showErrors(data.fields || { "/": [data.error || this.t.not_saved] });
        }
      }, () => { status.textContent = this.t.failed; });
    }

    // -- preview ---------------------------------------------------------------------------------

    renderPreviewSoon() {
      clearTimeout(this.previewTimer);
      this.previewTimer = setTimeout(() => this.renderPreview(), 150);
    }

    renderPreview() {
      const host = document.getElementById("fd-preview");
      host.replaceChildren(...this.doc.sections.map((section, index) => {
        const grid = el("div", { class: `fd-grid fd-cols-${section.columns}` });
        for (const entry of section.fields) grid.append(this.previewField(entry.field));
        return el("fieldset", { class: "fd-pv-section", "data-index": index },
          el("legend", { text: (section.label || {}).zh_CN || (section.label || {}).en || "" }), grid);
      }));
      this.refreshPreview();
    }

    previewField(name) {
      const f = this.fields[name] || { name, label: name, type: "text", kind: "text", options: [] };
      const id = `pv-${name}`;
      const set = (value) => { this.samples[name] = value; this.previewSoon(); };
      let control;
      if (["formula", "rollup", "autonumber"].includes(f.type)) {
        control = el("p", { class: "fd-pv-computed", id, text: this.t.computed });
      } else if (f.kind === "boolean") {
        control = el("input", { type: "checkbox", id, checked: !!this.samples[name], onchange: (event) => set(event.target.checked) });
      } else if (f.options.length && f.type !== "multi_select") {
        control = el("select", { id, onchange: (event) => set(event.target.value) });
        control.append(el("option", { value: "", text: this.t.choose }));
        for (const o of f.options) control.append(el("option", { value: o.value, text: o.label, selected: String(o.value) === this.samples[name] }));
      } else {
        control = el("input", { type: f.type === "date" ? "date" : "text", id, oninput: (event) => set(event.target.value) });
        control.value = this.samples[name] || "";
      }
      return el("div", { class: "fd-pv-field", "data-field": name },
        el("label", { for: id }, f.label, el("span", { class: "fd-required", "aria-hidden": "true", hidden: true, text: " *" })),
        control);
    }

    refreshPreview() {
      const values = {};
      for (const [name, value] of Object.entries(this.samples)) {
        const f = this.fields[name];
        if (!f || ["formula", "rollup", "autonumber"].includes(f.type)) continue;
        values[name] = f.kind === "boolean" ? (value ? "true" : "") : value;
      }
      const asked = JSON.stringify(values) + JSON.stringify(this.documentToSave());
      this.asked = asked;
      postJSON(this.urls.preview, { document: this.documentToSave(), values }).then(({ status, data }) => {
        // A draft that does not read yet (a condition half typed) keeps the last answer.
        if (this.asked !== asked || status !== 200 || data.problems) return;
        const host = document.getElementById("fd-preview");
        (data.sections || []).forEach((shown, index) => {
          const node = host.querySelector(`.fd-pv-section[data-index="${index}"]`);
          if (node) node.hidden = !shown;
        });
        for (const [name, state] of Object.entries(data.fields || {})) {
          const node = host.querySelector(`.fd-pv-field[data-field="${CSS.escape(name)}"]`);
          if (!node) continue;
          node.hidden = !state.visible;
          node.querySelector(".fd-required").hidden = !state.required;
          node.classList.toggle("fd-readonly", state.readonly);
          const control = node.querySelector("input, select");
          if (control) control.disabled = state.readonly;
        }
        host.dataset.state = "ready";
      });
    }
  }

  // -- list settings: column order with drag and drop, and buttons for the keyboard ---------------

  function listSettings(list) {
    if (window.Sortable) window.Sortable.create(list, { handle: ".fd-handle", animation: 0, forceFallback: true });
    list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-move]");
      if (!button) return;
      const item = button.closest("li");
      if (button.dataset.move === "up" && item.previousElementSibling) item.previousElementSibling.before(item);
      if (button.dataset.move === "down" && item.nextElementSibling) item.nextElementSibling.after(item);
      button.focus();
    });
  }

  function start() {
    const root = document.querySelector("[data-form-designer]");
    if (root) window.loomFormDesigner = new Designer(root);
    const columns = document.querySelector("[data-sortable-columns]");
    if (columns) listSettings(columns);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
