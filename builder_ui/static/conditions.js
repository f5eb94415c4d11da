// The condition builder shared by the designers: rows of field / operator / value in AND/OR groups,
// written as an expression and read back into rows when the rows can say it exactly; the raw
// expression otherwise, checked by the engine as it is typed.
//
// A host gives the editor its words (t), the object's fields (catalogue, and fields by name), the
// check URL (urls.check), two Maps (checked: answers by text; builderStates: row states by path) and,
// if it wants to follow changes, previewSoon().
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
      if (this.d.previewSoon) this.d.previewSoon();
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

  window.LoomConditions = { ConditionEditor, parseCondition, groupsText, el, postJSON, fmt, debounce };
})();
