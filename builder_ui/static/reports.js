// The report builder: the object's fields in a palette, dragged (or added with their buttons) into
// Rows, Columns and Measures; a filter with the shared condition builder; parameters, sort, top N,
// chart, folder and sharing. Every change posts the document for a preview; saving posts it to be
// applied. Problems come back by JSON path and are shown at the control they belong to.
(function () {
  "use strict";

  // The delete buttons of the list ask first.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  const root = document.querySelector("[data-report-builder]");
  if (!root) return;
  const { ConditionEditor, el, postJSON, fmt, debounce } = window.LoomConditions;

  function groupJSON(group) {
    return group.bucket ? { field: group.field, bucket: group.bucket } : group.field;
  }

  function groupOf(json) {
    return typeof json === "string" ? { field: json, bucket: null } : { field: json.field, bucket: json.bucket || null };
  }

  function measureColumn(m) {
    if (m.name) return m.name;
    return m.field ? `${m.function}_${m.field}` : m.function;
  }

  class ReportBuilder {
    constructor() {
      const data = JSON.parse(document.getElementById("rp-data").textContent);
      this.data = data;
      this.t = data.texts;
      this.doc = data.document;
      this.original = data.original;
      this.checked = new Map();
      this.builderStates = new Map();
      const groups = (this.doc.group_by || []).map(groupOf);
      // Two groups: the second is the column dimension (the engine's cross table).
      this.rows = groups.length === 2 ? [groups[0]] : groups;
      this.cols = groups.length === 2 ? [groups[1]] : [];
      this.editor = document.getElementById("rp-editor");
      this.status = document.getElementById("rp-status");
      this.errors = document.getElementById("rp-errors");
      this.previewBox = document.getElementById("rp-preview");
      this.previewSoon = debounce(() => this.preview(), 350);
      document.getElementById("rp-save").addEventListener("click", () => this.save());
      this.problems = {};
      this.render();
      this.preview();
    }

    get fields() {
      const found = {};
      for (const f of this.catalogue) found[f.name] = f;
      return found;
    }

    get catalogue() {
      return this.data.fields[this.doc.object] || [];
    }

    get urls() {
      return { check: this.data.urls.condition.replace("OBJECT", encodeURIComponent(this.doc.object || "")) };
    }

    label(name) {
      const f = this.fields[name];
      return f ? f.label : name;
    }

    changed() {
      const groups = [...this.rows, ...this.cols].map(groupJSON);
      if (groups.length) this.doc.group_by = groups;
      else delete this.doc.group_by;
      const columns = this.columns();
      if (this.doc.sort) {
        this.doc.sort = this.doc.sort.filter((key) => columns.includes(key.replace(/^-/, "")));
        if (!this.doc.sort.length) delete this.doc.sort;
      }
      this.previewSoon();
    }

    columns() {
      return [...this.rows, ...this.cols].map((g) => g.field).concat((this.doc.measures || []).map(measureColumn));
    }

    // -- rendering --------------------------------------------------------------------------------

    render() {
      this.editor.replaceChildren(
        this.renderBasics(), this.renderZones(), this.renderFilter(), this.renderParameters(),
        this.renderDisplay(), this.renderSharing(),
      );
      this.setupDrag();
      this.showProblems();
    }

    control(path, ...children) {
      return el("div", { class: "rp-control", "data-path": path }, ...children,
        el("p", { class: "rp-problem", role: "alert" }));
    }

    text(path, label, value, onInput, attrs) {
      const id = "rp" + path.replace(/\W/g, "-");
      const input = el("input", Object.assign({ type: "text", id, oninput: (e) => onInput(e.target.value) }, attrs || {}));
      input.value = value || "";
      return this.control(path, el("label", { for: id, text: label }), input);
    }

    localText(key) {
      const value = this.doc[key];
      if (!value) return "";
      if (typeof value === "string") return value;
      return value[this.data.locale] || Object.values(value)[0] || "";
    }

    setLocalText(key, text) {
      text = text.trim();
      if (!text) {
        delete this.doc[key];
      } else if (key === "folder") {
        this.doc.folder = text; // one text for every language, as a folder is usually named
      } else {
        const label = typeof this.doc[key] === "object" && this.doc[key] ? this.doc[key] : {};
        label[this.data.locale] = text;
        this.doc[key] = label;
      }
      this.previewSoon();
    }

    renderBasics() {
      const t = this.t;
      const box = el("section", { class: "card rp-card" }, el("h2", { text: t.basics }));
      const grid = el("div", { class: "rp-grid" });
      grid.append(this.text("/name", t.name, this.doc.name, (v) => { this.doc.name = v.trim(); },
        { readonly: Boolean(this.original), "aria-describedby": "rp-name-help", class: "rp-mono" }));
      grid.lastChild.insertBefore(el("small", { id: "rp-name-help", class: "help", text: t.name_help }),
        grid.lastChild.querySelector(".rp-problem"));
      grid.append(this.text("/label", t.label, this.localText("label"), (v) => this.setLocalText("label", v)));
      const objectSelect = el("select", { id: "rp-object", onchange: (e) => {
        this.doc.object = e.target.value;
        this.rows = [];
        this.cols = [];
        this.doc.measures = [{ function: "count" }];
        delete this.doc.filter;
        delete this.doc.sort;
        this.doc.parameters = (this.doc.parameters || []).filter((p) => p.field === "owner" || p.field === "created_at");
        if (!this.doc.parameters.length) delete this.doc.parameters;
        this.builderStates.clear();
        this.changed();
        this.render();
      } });
      for (const o of this.data.objects) {
        objectSelect.append(el("option", { value: o.name, text: o.label, selected: o.name === this.doc.object }));
      }
      grid.append(this.control("/object", el("label", { for: "rp-object", text: t.object }), objectSelect));
      grid.append(this.text("/folder", t.folder, this.localText("folder"), (v) => this.setLocalText("folder", v),
        { placeholder: t.folder_help }));
      grid.append(this.text("/description", t.description, this.localText("description"),
        (v) => this.setLocalText("description", v)));
      box.append(grid);
      return box;
    }

    renderZones() {
      const t = this.t;
      const palette = el("ul", { id: "rp-palette", class: "rp-palette", "aria-label": t.fields });
      palette.append(el("li", { class: "rp-field rp-count", "data-field": "", "data-count": "1" },
        el("span", { class: "rp-field-name", text: t.record_count }),
        el("button", { type: "button", class: "fd-small", "aria-label": fmt(t.to_measures, { field: t.record_count }),
          text: "Σ", onclick: () => this.addMeasure(null) })));
      for (const f of this.catalogue) {
        const buttons = el("span", { class: "rp-field-buttons" });
        if (f.group) {
          buttons.append(
            el("button", { type: "button", class: "fd-small", text: "↓", "aria-label": fmt(t.to_rows, { field: f.label }),
              onclick: () => this.addGroup("rows", f.name) }),
            el("button", { type: "button", class: "fd-small", text: "→", "aria-label": fmt(t.to_columns, { field: f.label }),
              onclick: () => this.addGroup("cols", f.name) }));
        }
        if (f.functions.length) {
          buttons.append(el("button", { type: "button", class: "fd-small", text: "Σ",
            "aria-label": fmt(t.to_measures, { field: f.label }), onclick: () => this.addMeasure(f.name) }));
        }
        palette.append(el("li", { class: "rp-field" + (f.system ? " rp-system" : ""), "data-field": f.name },
          el("span", { class: "rp-field-name", text: f.label }), buttons));
      }
      const zone = (key, title, help, items, path) => {
        const list = el("ul", { class: "rp-zone", id: "rp-" + key, "data-zone": key, "aria-label": title,
          "data-empty": t.drop_here });
        items.forEach((item, i) => list.append(this.renderItem(key, item, i)));
        return el("div", { class: "rp-control rp-zone-box", "data-path": path },
          el("h3", { text: title }), el("p", { class: "help", text: help }), list,
          el("p", { class: "rp-problem", role: "alert" }));
      };
      const zones = el("div", { class: "rp-zones" },
        zone("rows", t.rows, t.rows_help, this.rows, "/group_by"),
        zone("cols", t.columns, t.columns_help, this.cols, "/group_by/" + this.rows.length),
        zone("measures", t.measures, t.measures_help, this.doc.measures || [], "/measures"));
      return el("section", { class: "card rp-card rp-build" },
        el("div", { class: "rp-palette-box" }, el("h2", { text: t.fields }), el("p", { class: "help", text: t.fields_help }), palette),
        zones);
    }

    renderItem(key, item, index) {
      const t = this.t;
      if (key === "measures") {
        const f = item.field ? this.fields[item.field] : null;
        const name = item.field ? this.label(item.field) : t.record_count;
        const li = el("li", { class: "rp-item", "data-path": `/measures/${index}` });
        li.append(el("span", { class: "rp-item-name", text: name }));
        if (item.field && !item.expression && f) {
          const select = el("select", { "aria-label": fmt(t.function, { field: name }), onchange: (e) => {
            item.function = e.target.value;
            this.changed();
            this.render();
          } });
          for (const fn of f.functions) {
            select.append(el("option", { value: fn, text: this.data.functions[fn], selected: fn === item.function }));
          }
          li.append(select);
        } else if (item.function !== "count") {
          li.append(el("span", { class: "rp-fn", text: this.data.functions[item.function] || item.function }));
        }
        li.append(this.upButton(name, this.doc.measures, index), this.removeButton(name, () => {
          this.doc.measures.splice(index, 1);
        }), el("p", { class: "rp-problem", role: "alert" }));
        return li;
      }
      const list = key === "rows" ? this.rows : this.cols;
      const offset = key === "rows" ? 0 : this.rows.length;
      const f = this.fields[item.field];
      const name = this.label(item.field);
      const li = el("li", { class: "rp-item", "data-path": `/group_by/${offset + index}` },
        el("span", { class: "rp-item-name", text: name }));
      if (f && f.date) {
        const select = el("select", { "aria-label": fmt(t.bucket, { field: name }), onchange: (e) => {
          item.bucket = e.target.value || null;
          this.changed();
        } });
        select.append(el("option", { value: "", text: t.no_bucket, selected: !item.bucket }));
        for (const b of this.data.buckets) {
          select.append(el("option", { value: b.value, text: b.label, selected: b.value === item.bucket }));
        }
        li.append(select);
      }
      li.append(this.upButton(name, list, index), this.removeButton(name, () => list.splice(index, 1)),
        el("p", { class: "rp-problem", role: "alert" }));
      return li;
    }

    // Without a mouse: move an item before the one above it (outermost group, first measure).
    // The first item has none: an empty text, since append() would write a null out as "null".
    upButton(name, list, index) {
      if (index === 0) return "";
      return el("button", { type: "button", class: "fd-small", text: "↑", "aria-label": fmt(this.t.move_up, { field: name }),
        onclick: () => {
          const [item] = list.splice(index, 1);
          list.splice(index - 1, 0, item);
          this.changed();
          this.render();
        } });
    }

    removeButton(name, remove) {
      return el("button", { type: "button", class: "fd-small", text: "×", "aria-label": fmt(this.t.remove, { field: name }),
        onclick: () => { remove(); this.changed(); this.render(); } });
    }

    addGroup(zone, field, at) {
      const f = this.fields[field];
      if (!f || !f.group) return;
      const group = { field, bucket: f.date ? "month" : null };
      if (zone === "cols") {
        this.cols = [group]; // one column dimension
      } else {
        const list = this.rows;
        list.splice(at === undefined ? list.length : at, 0, group);
      }
      this.changed();
      this.render();
    }

    addMeasure(field, at) {
      const measures = this.doc.measures || (this.doc.measures = []);
      let measure = { function: "count" };
      if (field) {
        const f = this.fields[field];
        if (!f || !f.functions.length) return;
        const fn = f.functions.includes("sum") ? "sum" : f.functions[0];
        measure = { function: fn, field };
      }
      measures.splice(at === undefined ? measures.length : at, 0, measure);
      this.changed();
      this.render();
    }

    setupDrag() {
      if (!window.Sortable) return;
      window.Sortable.create(document.getElementById("rp-palette"), {
        group: { name: "rp-fields", pull: "clone", put: false }, sort: false, forceFallback: true,
      });
      for (const zone of this.editor.querySelectorAll(".rp-zone")) {
        const key = zone.dataset.zone;
        window.Sortable.create(zone, {
          group: { name: "rp-fields", pull: false, put: true }, animation: 0, forceFallback: true,
          onAdd: (event) => {
            const field = event.item.dataset.field;
            const count = event.item.dataset.count;
            event.item.remove();
            if (key === "measures") this.addMeasure(count ? null : field, event.newIndex);
            else this.addGroup(key, field, event.newIndex);
          },
          onEnd: (event) => {
            if (event.from !== zone || event.to !== zone || event.oldIndex === event.newIndex) return;
            const list = key === "measures" ? this.doc.measures : key === "rows" ? this.rows : this.cols;
            const [item] = list.splice(event.oldIndex, 1);
            list.splice(event.newIndex, 0, item);
            this.changed();
            this.render();
          },
        });
      }
    }

    renderFilter() {
      const t = this.t;
      const editor = new ConditionEditor(this, "/filter", t.filter_when, () => this.doc.filter || "", (text) => {
        if (text) this.doc.filter = text;
        else delete this.doc.filter;
      });
      return el("section", { class: "card rp-card" }, el("h2", { text: t.filter }),
        this.control("/filter", editor.node));
    }

    parameter(kind) {
      return (this.doc.parameters || []).find((p) => p.kind === kind);
    }

    setParameter(kind, value) {
      const list = (this.doc.parameters || []).filter((p) => p.kind !== kind);
      if (value) list.push(value);
      const order = { period: 0, user: 1, department: 2 };
      list.sort((a, b) => order[a.kind] - order[b.kind]);
      if (list.length) this.doc.parameters = list;
      else delete this.doc.parameters;
      this.previewSoon();
    }

    renderParameters() {
      const t = this.t;
      const box = el("section", { class: "card rp-card" }, el("h2", { text: t.parameters }),
        el("p", { class: "help", text: t.parameters_help }));
      const index = (kind) => (this.doc.parameters || []).findIndex((p) => p.kind === kind);
      const dates = this.catalogue.filter((f) => f.date);
      const period = this.parameter("period");
      const periodOn = el("input", { type: "checkbox", id: "rp-period-on", checked: Boolean(period), disabled: !dates.length,
        onchange: (e) => {
          this.setParameter("period", e.target.checked
            ? { name: "period", kind: "period", field: (dates.find((f) => f.name === "created_at") || dates[0]).name, default: "this_year", label: { [this.data.locale]: t.period_param } }
            : null);
          this.render();
        } });
      box.append(el("label", {}, periodOn, " " + t.period_param));
      if (period) {
        const at = "/parameters/" + index("period");
        const fieldSelect = el("select", { id: "rp-period-field", onchange: (e) => { period.field = e.target.value; this.previewSoon(); } });
        for (const f of dates) fieldSelect.append(el("option", { value: f.name, text: f.label, selected: f.name === period.field }));
        const defaultSelect = el("select", { id: "rp-period-default", onchange: (e) => {
          if (e.target.value) period.default = e.target.value;
          else delete period.default;
          this.previewSoon();
        } });
        defaultSelect.append(el("option", { value: "", text: t.all_time, selected: !period.default }));
        for (const p of this.data.periods) defaultSelect.append(el("option", { value: p.value, text: p.label, selected: p.value === period.default }));
        box.append(el("div", { class: "rp-grid" },
          this.control(at + "/field", el("label", { for: "rp-period-field", text: t.period_field }), fieldSelect),
          this.control(at + "/default", el("label", { for: "rp-period-default", text: t.period_default }), defaultSelect)));
      }
      const hasOwner = this.catalogue.some((f) => f.name === "owner");
      const owner = this.parameter("user");
      box.append(el("label", {}, el("input", { type: "checkbox", id: "rp-owner-on", checked: Boolean(owner), disabled: !hasOwner,
        onchange: (e) => {
          this.setParameter("user", e.target.checked ? { name: "owner", kind: "user", field: "owner", label: { [this.data.locale]: t.owner } } : null);
          this.render();
        } }), " " + t.owner_param));
      if (owner) {
        const select = el("select", { id: "rp-owner-default", onchange: (e) => {
          if (e.target.value) owner.default = e.target.value;
          else delete owner.default;
          this.previewSoon();
        } });
        for (const [value, text] of [["", t.anyone], ["me", t.me], ["my_team", t.my_team]]) {
          select.append(el("option", { value, text, selected: (owner.default || "") === value }));
        }
        box.append(this.control("/parameters/" + index("user") + "/default",
          el("label", { for: "rp-owner-default", text: t.owner_default }), select));
      }
      const department = this.parameter("department");
      box.append(el("label", {}, el("input", { type: "checkbox", id: "rp-dept-on", checked: Boolean(department), disabled: !hasOwner,
        onchange: (e) => {
          this.setParameter("department", e.target.checked ? { name: "department", kind: "department", field: "owner", label: { [this.data.locale]: t.department_param } } : null);
          this.render();
        } }), " " + t.department_param));
      box.append(this.control("/parameters"));
      return box;
    }

    renderDisplay() {
      const t = this.t;
      const box = el("section", { class: "card rp-card" }, el("h2", { text: t.display }));
      const grid = el("div", { class: "rp-grid" });
      const current = (this.doc.sort || [])[0] || "";
      const sortSelect = el("select", { id: "rp-sort", onchange: (e) => {
        const key = e.target.value;
        if (key) this.doc.sort = [(dirSelect.value === "desc" ? "-" : "") + key];
        else delete this.doc.sort;
        this.previewSoon();
      } });
      sortSelect.append(el("option", { value: "", text: t.sort_natural }));
      const names = {};
      for (const g of [...this.rows, ...this.cols]) names[g.field] = this.label(g.field);
      for (const m of this.doc.measures || []) {
        names[measureColumn(m)] = m.field
          ? fmt(t.column_field, { function: this.data.functions[m.function] || m.function, field: this.label(m.field) })
          : (this.data.functions[m.function] || m.function);
      }
      for (const [value, text] of Object.entries(names)) {
        sortSelect.append(el("option", { value, text, selected: current.replace(/^-/, "") === value }));
      }
      const dirSelect = el("select", { id: "rp-sort-dir", "aria-label": t.sort, onchange: () => sortSelect.onchange({ target: sortSelect }) });
      dirSelect.append(el("option", { value: "desc", text: t.descending, selected: current.startsWith("-") || !current }),
        el("option", { value: "asc", text: t.ascending, selected: Boolean(current) && !current.startsWith("-") }));
      sortSelect.onchange = (e) => {
        const key = e.target.value;
        if (key) this.doc.sort = [(dirSelect.value === "desc" ? "-" : "") + key];
        else delete this.doc.sort;
        this.previewSoon();
      };
      grid.append(this.control("/sort", el("label", { for: "rp-sort", text: t.sort }), el("div", { class: "rp-inline" }, sortSelect, dirSelect)));
      const limit = el("input", { type: "number", id: "rp-limit", min: 1, max: 1000, placeholder: t.limit_help, oninput: (e) => {
        const n = parseInt(e.target.value, 10);
        if (Number.isFinite(n)) this.doc.limit = n;
        else delete this.doc.limit;
        this.previewSoon();
      } });
      limit.value = this.doc.limit || "";
      grid.append(this.control("/limit", el("label", { for: "rp-limit", text: t.limit }), limit));
      const chart = el("select", { id: "rp-chart", onchange: (e) => { this.doc.chart = e.target.value; this.previewSoon(); } });
      for (const c of this.data.charts) chart.append(el("option", { value: c.value, text: c.label, selected: c.value === this.doc.chart }));
      grid.append(this.control("/chart", el("label", { for: "rp-chart", text: t.chart }), chart));
      box.append(grid);
      return box;
    }

    renderSharing() {
      const t = this.t;
      const box = el("section", { class: "card rp-card" }, el("h2", { text: t.sharing }));
      if (!this.data.admin) {
        box.append(el("p", { text: t.private_you }));
        return box;
      }
      const sharing = this.doc.sharing || { with: "everyone" };
      const set = (value) => {
        if (value.with === "everyone") delete this.doc.sharing;
        else this.doc.sharing = value;
        this.previewSoon();
      };
      const radios = el("fieldset", { class: "rp-radios" }, el("legend", { class: "sr-only", text: t.sharing }));
      for (const [value, text] of [["everyone", t.share_everyone], ["roles", t.share_roles], ["private", t.share_private]]) {
        radios.append(el("label", {}, el("input", { type: "radio", name: "rp-sharing", value, checked: sharing.with === value,
          onchange: () => {
            if (value === "everyone") set({ with: "everyone" });
            else if (value === "roles") set({ with: "roles", roles: sharing.roles && sharing.roles.length ? sharing.roles : [] });
            else set({ with: "private", owner: sharing.owner || this.data.username });
            this.render();
          } }), " " + text));
      }
      box.append(this.control("/sharing", radios));
      if (sharing.with === "roles") {
        const chosen = new Set(sharing.roles || []);
        const list = el("fieldset", { class: "rp-checks" }, el("legend", { text: t.share_roles }));
        for (const r of this.data.roles) {
          list.append(el("label", {}, el("input", { type: "checkbox", value: r.value, checked: chosen.has(r.value), onchange: (e) => {
            if (e.target.checked) chosen.add(r.value);
            else chosen.delete(r.value);
            sharing.roles = this.data.roles.map((x) => x.value).filter((v) => chosen.has(v));
            set(sharing);
          } }), " " + r.label));
        }
        box.append(this.control("/sharing/roles", list));
      } else if (sharing.with === "private") {
        box.append(this.text("/sharing/owner", t.owner, sharing.owner, (v) => { sharing.owner = v.trim(); set(sharing); }));
      }
      return box;
    }

    // -- problems, preview and saving -------------------------------------------------------------

    showProblems() {
      for (const node of this.editor.querySelectorAll(".rp-problem")) node.textContent = "";
      for (const node of this.editor.querySelectorAll(".rp-has-problem")) node.classList.remove("rp-has-problem");
      const general = [];
      for (const [path, messages] of Object.entries(this.problems)) {
        let target = null;
        for (let at = path; at && !target; at = at.includes("/") ? at.slice(0, at.lastIndexOf("/")) : "") {
          target = this.editor.querySelector(`[data-path="${CSS.escape(at)}"]`);
        }
        const slot = target && target.querySelector(":scope > .rp-problem");
        if (slot) {
          slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + messages.join("; ");
          target.classList.add("rp-has-problem");
        } else {
          general.push(...messages);
        }
      }
      this.errors.hidden = !general.length;
      this.errors.replaceChildren(...general.map((m) => el("p", { text: m })));
    }

    body() {
      return { document: this.doc, original: this.original };
    }

    preview() {
      const box = this.previewBox;
      box.dataset.state = "running";
      const sent = JSON.stringify(this.doc);
      postJSON(this.data.urls.preview, this.body()).then(({ data }) => {
        if (JSON.stringify(this.doc) !== sent) return; // changed since: a newer preview follows
        this.problems = data.fields || {};
        this.showProblems();
        if (data.html) {
          box.innerHTML = data.html;
          box.querySelectorAll(".report-chart[data-chart]").forEach((node) => window.LoomCharts && window.LoomCharts.draw(node));
          box.dataset.state = "ready";
        } else {
          box.replaceChildren(el("p", { class: "muted", text: this.t.no_preview }));
          box.dataset.state = "problems";
        }
      }, () => {
        box.replaceChildren(el("p", { class: "rp-problem", text: this.t.failed }));
        box.dataset.state = "failed";
      });
    }

    save() {
      this.status.textContent = "";
      postJSON(this.data.urls.save, this.body()).then(({ status, data }) => {
        if (status === 200 && data.saved) {
          this.problems = {};
          this.showProblems();
          this.status.textContent = data.message;
          if (!this.original) {
            this.original = data.name;
            window.history.replaceState(null, "", data.editor);
            const name = this.editor.querySelector('[data-path="/name"] input');
            if (name) name.readOnly = true;
          }
          const open = document.getElementById("rp-open");
          open.href = data.page;
          open.hidden = false;
          return;
        }
        this.problems = data.fields || {};
        this.status.textContent = data.error || this.t.not_saved;
        this.showProblems();
      }, () => { this.status.textContent = this.t.failed; });
    }
  }

  document.addEventListener("DOMContentLoaded", () => new ReportBuilder());
})();
