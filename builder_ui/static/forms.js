// The form designer and the list settings: drag and drop with keyboard alternatives, the condition
// builder, and a preview whose field states come from the engine (so it agrees with the real form).
(function () {
  "use strict";

  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).then((response) => response.json().then((data) => ({ status: response.status, data })));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, (_, key) => values[key]);
  }

  function debounce(fn, wait) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), wait);
    };
  }

  // -- the condition builder ---------------------------------------------------------------------

  const OPERATORS = [
    ["eq", "=="], ["ne", "!="], ["gt", ">"], ["ge", ">="], ["lt", "<"], ["le", "<="],
    ["empty", "is None"], ["filled", "is not None"],
  ];
  const NUMBER_KINDS = new Set(["number", "integer", "decimal", "currency", "percent"]);

  function literal(field, value) {
    if (field && field.kind === "boolean") return value === "true" ? "True" : "False";
    if (field && NUMBER_KINDS.has(field.kind) && /^-?\d+(\.\d+)?$/.test(String(value).trim())) {
      return String(value).trim();
    }
    return "'" + String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
  }

  function rowText(row, fields) {
    if (!row.field) return "";
    const op = OPERATORS.find(([key]) => key === row.op) || OPERATORS[0];
    if (row.op === "empty" || row.op === "filled") return `${row.field} ${op[1]}`;
    return `${row.field} ${op[1]} ${literal(fields[row.field], row.value)}`;
  }

  function groupsText(state, fields) {
    const groups = state.groups
      .map((group) => {
        const parts = group.rows.map((row) => rowText(row, fields)).filter(Boolean);
        return { parts, join: group.join };
      })
      .filter((group) => group.parts.length);
    if (!groups.length) return "";
    if (groups.length === 1) return groups[0].parts.join(` ${groups[0].join} `);
    return groups
      .map((group) => (group.parts.length > 1 ? `(${group.parts.join(` ${group.join} `)})` : group.parts[0]))
      .join(` ${state.join} `);
  }

  // Reading a condition back into rows: the shapes groupsText writes, and nothing else.
  function tokens(text) {
    const found = [];
    const pattern = /\s*(?:(\(|\))|(==|!=|>=|<=|>|<)|('(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*))/y;
    let at = 0;
    text = text.trim();
    while (at < text.length) {
      pattern.lastIndex = at;
      const match = pattern.exec(text);
      if (!match) return null;
      at = pattern.lastIndex;
      if (match[1]) found.push({ kind: "paren", text: match[1] });
      else if (match[2]) found.push({ kind: "op", text: match[2] });
      else if (match[3]) found.push({ kind: "string", text: match[3], value: match[3].slice(1, -1).replace(/\\(.)/g, "$1") });
      else if (match[4]) found.push({ kind: "number", text: match[4], value: match[4] });
      else found.push({ kind: "word", text: match[5] });
    }
    return found;
  }

  function parseCondition(text, fields) {
    const list = tokens(text || "");
    if (!list || !list.length) return null;
    let at = 0;
    const peek = () => list[at] || {};
    const word = (w) => peek().kind === "word" && peek().text === w;

    function row() {
      const name = peek();
      if (name.kind !== "word" || !fields[name.text]) return null;
      at += 1;
      if (word("is")) {
        at += 1;
        const negated = word("not");
        if (negated) at += 1;
        if (!word("None")) return null;
        at += 1;
        return { field: name.text, op: negated ? "filled" : "empty", value: "" };
      }
      const op = OPERATORS.find(([, sign]) => peek().kind === "op" && sign === peek().text);
      if (!op) return null;
      at += 1;
      const value = peek();
      at += 1;
      if (value.kind === "string" || value.kind === "number") return { field: name.text, op: op[0], value: value.value };
      if (value.kind === "word" && (value.text === "True" || value.text === "False")) {
        return { field: name.text, op: op[0], value: value.text === "True" ? "true" : "false" };
      }
      return null;
    }

    // Items (a row, or rows in brackets) joined at the top by one word.
    function bracketed() {
      const rows = [row()];
      let join = null;
      while (rows[rows.length - 1] && (word("and") || word("or"))) {
        if (join && join !== peek().text) return null; // and/or mixed: precedence, not rows
        join = peek().text;
        at += 1;
        rows.push(row());
      }
      if (rows.some((r) => !r) || peek().text !== ")") return null;
      at += 1;
      return { join: join || "and", rows, bracketed: true };
    }

    const items = [];
    let top = null;
    while (at < list.length) {
      if (items.length) {
        const between = peek().text;
        if ((between !== "and" && between !== "or") || (top && top !== between)) return null;
        top = between;
        at += 1;
      }
      let item;
      if (peek().text === "(") {
        at += 1;
        item = bracketed();
      } else {
        const single = row();
        item = single && { join: "and", rows: [single] };
      }
      if (!item) return null;
      items.push(item);
    }
    const groups = items.some((item) => item.bracketed)
      ? items.map(({ join, rows }) => ({ join, rows }))
      : [{ join: top || "and", rows: items.flatMap((item) => item.rows) }];
    const state = { mode: "builder", join: top || "or", groups };
    // Only what the rows write back token for token: anything else stays raw.
    const again = tokens(groupsText(state, fields)) || [];
    const same = again.length === list.length && again.every((tok, i) => tok.text === list[i].text);
    return same && valuesOffered(state, fields) ? state : null;
  }

  function valuesOffered(state, fields) {
    return state.groups.every((group) => group.rows.every((row) => {
      const field = fields[row.field];
      if (row.op === "empty" || row.op === "filled") return true;
      if (field.kind === "boolean") return row.value === "true" || row.value === "false";
      if (field.options.length) return field.options.some((o) => String(o.value) === row.value);
      return true;
    }));
  }

  // One condition (a section's or a field's visible_if, required_if or readonly_if), edited with
  // rows of field / operator / value in AND/OR groups, or as the raw expression.
  class ConditionEditor {
    constructor(designer, path, title, get, set) {
      this.d = designer;
      this.path = path;
      this.title = title;
      this.get = get;
      this.set = set;
      const text = get() || "";
      const saved = designer.builderStates.get(path);
      this.state = saved || (text && parseCondition(text, designer.fields)) || {
        mode: text ? "raw" : "builder",
        join: "or",
        groups: [{ join: "and", rows: [{ field: "", op: "eq", value: "" }] }],
      };
      designer.builderStates.set(path, this.state);
      this.node = el("div", { class: "fd-cond", "data-path": path });
      this.check = debounce(() => this.runCheck(), 250);
      this.render();
    }

    changed(text) {
      this.set(text || null);
      this.output.textContent = text || this.d.t.clear;
      this.d.previewSoon();
      if (text) {
        this.status.textContent = this.d.t.checking;
        this.status.className = "fd-check";
        this.check();
      } else {
        this.status.textContent = "";
      }
    }

    runCheck() {
      const text = this.get();
      if (!text) return;
      // Re-rendering the designer rebuilds every editor: ask the engine about each text once.
      const cache = this.d.checked;
      if (!cache.has(text)) cache.set(text, postJSON(this.d.urls.check, { text }).then(({ data }) => data));
      cache.get(text).then((data) => {
        if (this.get() !== text) return; // typed on since
        this.status.textContent = data.ok ? this.d.t.valid : (data.problems || []).join("; ");
        this.status.className = data.ok ? "fd-check fd-ok" : "fd-check fd-bad";
      }, () => {
        cache.delete(text);
        this.status.textContent = this.d.t.failed;
      });
    }

    render() {
      const t = this.d.t;
      const id = "c" + Math.random().toString(36).slice(2, 9);
      this.node.replaceChildren();
      const modes = el("div", { class: "fd-modes", role: "radiogroup", "aria-label": this.title });
      for (const mode of ["builder", "raw"]) {
        modes.append(el("label", {},
          el("input", {
            type: "radio", name: id + "-mode", value: mode, checked: this.state.mode === mode,
            onchange: () => { this.state.mode = mode; this.render(); },
          }), " " + t[mode]));
      }
      this.node.append(el("div", { class: "fd-cond-head" }, el("strong", { text: this.title }), modes));
      this.output = el("code", { class: "fd-cond-text", text: this.get() || t.clear });
      this.status = el("span", { class: "fd-check", "aria-live": "polite" });
      if (this.state.mode === "raw") {
        const area = el("textarea", {
          class: "fd-raw", rows: 2, "aria-label": `${this.title}: ${t.raw}`,
          oninput: (event) => this.changed(event.target.value.trim()),
        });
        area.value = this.get() || "";
        this.node.append(area);
      } else {
        this.node.append(this.renderGroups());
      }
      this.node.append(el("p", { class: "fd-cond-out" }, this.output, " ", this.status));
      if (this.get()) this.check();
    }

    renderGroups() {
      const t = this.d.t;
      const box = el("div", { class: "fd-groups" });
      if (this.state.groups.length > 1) {
        box.append(el("label", {}, t.groups_joined + " ", this.joinSelect(this.state, "join")));
      }
      this.state.groups.forEach((group, gi) => {
        const rows = el("div", { class: "fd-group", role: "group", "aria-label": `${t.section} ${gi + 1}` });
        rows.append(el("label", {}, this.joinSelect(group, "join", true)));
        group.rows.forEach((row, ri) => rows.append(this.renderRow(group, row, ri)));
        rows.append(
          el("button", { type: "button", class: "fd-small", text: t.add_row, onclick: () => {
            group.rows.push({ field: "", op: "eq", value: "" });
            this.render();
          } }),
          el("button", { type: "button", class: "fd-small", text: t.remove_group, onclick: () => {
            this.state.groups.splice(gi, 1);
            if (!this.state.groups.length) this.state.groups.push({ join: "and", rows: [] });
            this.render();
            this.changed(groupsText(this.state, this.d.fields));
          } }),
        );
        box.append(rows);
      });
      box.append(el("button", { type: "button", class: "fd-small", text: t.add_group, onclick: () => {
        this.state.groups.push({ join: "and", rows: [{ field: "", op: "eq", value: "" }] });
        this.render();
      } }));
      return box;
    }

    joinSelect(holder, key, group) {
      const t = this.d.t;
      const select = el("select", {
        "aria-label": group ? t.all_of + " / " + t.any_of : t.groups_joined,
        onchange: (event) => { holder[key] = event.target.value; this.changed(groupsText(this.state, this.d.fields)); },
      });
      select.append(
        el("option", { value: "and", text: group ? t.all_of : t.and, selected: holder[key] === "and" }),
        el("option", { value: "or", text: group ? t.any_of : t.or, selected: holder[key] === "or" }),
      );
      return select;
    }

    renderRow(group, row, index) {
      const t = this.d.t;
      const update = () => this.changed(groupsText(this.state, this.d.fields));
      const fieldSelect = el("select", { class: "fd-row-field", "aria-label": t.field, onchange: (event) => {
        row.field = event.target.value;
        row.value = "";
        this.render();
        update();
      } });
      fieldSelect.append(el("option", { value: "", text: t.choose }));
      for (const f of this.d.catalogue) {
        fieldSelect.append(el("option", { value: f.name, text: f.label, selected: f.name === row.field }));
      }
      const opSelect = el("select", { class: "fd-row-op", "aria-label": t.operator, onchange: (event) => {
        row.op = event.target.value;
        this.render();
        update();
      } });
      for (const [key] of OPERATORS) {
        opSelect.append(el("option", { value: key, text: t["op_" + key], selected: key === row.op }));
      }
      const field = this.d.fields[row.field];
      let value = null;
      if (row.op !== "empty" && row.op !== "filled") {
        if (field && (field.options.length || field.kind === "boolean")) {
          const choices = field.kind === "boolean"
            ? [{ value: "true", label: t.yes }, { value: "false", label: t.no }]
            : field.options;
          if (!row.value && choices.length) row.value = String(choices[0].value);
          value = el("select", { class: "fd-row-value", "aria-label": t.value, onchange: (event) => {
            row.value = event.target.value;
            update();
          } });
          for (const choice of choices) {
            value.append(el("option", { value: choice.value, text: choice.label, selected: String(choice.value) === row.value }));
          }
        } else {
          value = el("input", { type: "text", class: "fd-row-value", "aria-label": t.value, oninput: (event) => {
            row.value = event.target.value;
            update();
          } });
          value.value = row.value;
        }
      }
      const remove = el("button", { type: "button", class: "fd-small", "aria-label": t.remove_row, text: "×", onclick: () => {
        group.rows.splice(index, 1);
        this.render();
        update();
      } });
      return el("div", { class: "fd-row" }, fieldSelect, opSelect, value, remove);
    }
  }

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
