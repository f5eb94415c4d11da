// The rule builder: a rule's basics, trigger, condition (the shared condition builder) and actions,
// whose inputs are generated from each action's JSON schema. Every change is checked by the engine
// and its problems are shown next to the control at their JSON path; "try" runs the rule as it is
// on the page against one record, rolled back.
(function () {
  "use strict";

  const { ConditionEditor, el, postJSON, fmt, debounce } = window.LoomConditions;

  // Settings naming a field of the object the action works on, and those naming other things.
  const FIELD_PARAMS = new Set(["field", "lookup", "via", "flag", "entered_at"]);
  const RECORD_TRIGGERS = new Set(["on_create", "on_update", "on_save", "on_delete"]);
  const FLOW_TRIGGERS = new Set(["on_submit", "on_approved", "on_rejected"]);
  const DATE_TYPES = new Set(["date", "datetime"]);

  function pointer(...parts) {
    return parts.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
  }

  class RuleBuilder {
    constructor(root) {
      const data = JSON.parse(document.getElementById("rb-data").textContent);
      this.root = root;
      this.data = data;
      this.t = data.texts;
      this.doc = data.document;
      if (!this.doc.trigger || typeof this.doc.trigger !== "object") this.doc.trigger = { type: "on_create" };
      if (!Array.isArray(this.doc.actions)) this.doc.actions = [];
      // A draft is kept as it was typed, valid or not: what is not an action becomes an empty one.
      const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
      this.doc.actions = this.doc.actions.map((a) => (isObject(a) ? a : { type: "" }));
      if (!isObject(this.doc.label)) delete this.doc.label;
      this.saved = data.saved;
      this.actionTypes = Object.fromEntries(data.actions.map((a) => [a.type, a]));
      this.checked = new Map();
      this.builderStates = new Map();
      this.pairs = new Map();
      this.problems = {};
      this.checkSoon = debounce(() => this.check(), 350);
      this.previewSoon = () => this.checkSoon();
      this.useObject();
      this.editor = document.getElementById("rb-editor");
      this.status = document.getElementById("rb-status");
      this.errors = document.getElementById("rb-errors");
      document.getElementById("rb-save").addEventListener("click", () => this.save(false));
      document.getElementById("rb-draft").addEventListener("click", () => this.save(true));
      document.getElementById("rb-try").addEventListener("click", () => this.tryIt());
      const search = document.getElementById("rb-record-q");
      const find = debounce(() => this.findRecords(search.value), 250);
      search.addEventListener("input", find);
      this.render();
      this.findRecords("");
      this.check();
    }

    useObject() {
      const name = this.doc.object;
      this.catalogue = this.data.fields[name] || [];
      this.fields = Object.fromEntries(this.catalogue.map((f) => [f.name, f]));
      this.urls = { check: this.data.urls.condition.replace("OBJECT", encodeURIComponent(name || "-")) };
    }

    changed(rerender) {
      if (rerender) this.render();
      this.checkSoon();
    }

    // -- the page ------------------------------------------------------------------------------

    render() {
      const t = this.t;
      this.editor.replaceChildren(
        this.card("rb-basics", t.basics, this.renderBasics()),
        this.card("rb-trigger", t.trigger, this.renderTrigger()),
        this.card("rb-condition", t.condition, this.renderCondition()),
        this.card("rb-actions", t.actions_title, this.renderActions()),
      );
      this.showProblems();
    }

    card(id, title, ...content) {
      return el("section", { class: "card rb-card", "aria-labelledby": id + "-title", id },
        el("h2", { id: id + "-title", text: title }), ...content);
    }

    control(path, label, input, help) {
      const id = "rb" + path.replace(/[^a-zA-Z0-9]/g, "-");
      input.id = input.id || id;
      return el("div", { class: "rb-control", "data-path": path },
        el("label", { for: input.id, text: label }), input,
        help ? el("p", { class: "help", text: help }) : null,
        el("p", { class: "rb-problem", role: "alert" }));
    }

    renderBasics() {
      const t = this.t;
      const doc = this.doc;
      const locale = this.data.locale;
      const label = el("input", { type: "text", maxlength: 200, oninput: (e) => {
        doc.label = { ...(doc.label || {}), [locale]: e.target.value };
        this.changed();
      } });
      label.value = (doc.label && doc.label[locale]) || "";
      const object = el("select", { onchange: (e) => {
        doc.object = e.target.value;
        this.builderStates.clear();
        this.useObject();
        this.changed(true);
        this.findRecords("");
      } });
      for (const o of this.data.objects) {
        object.append(el("option", { value: o.name, text: o.label, selected: o.name === doc.object }));
      }
      const active = el("input", { type: "checkbox", checked: doc.active !== false, onchange: (e) => {
        doc.active = e.target.checked;
        this.changed();
      } });
      const order = el("input", { type: "number", step: 1, value: doc.order ?? 100, oninput: (e) => {
        const value = e.target.value.trim();
        doc.order = /^-?\d+$/.test(value) ? Number(value) : value;
        this.changed();
      } });
      const box = el("div", { class: "rb-grid" },
        this.control("/label", t.label, label),
        this.control("/object", t.object, object),
        this.control("/order", t.order, order, t.order_help));
      const activeBox = el("div", { class: "rb-control", "data-path": "/active" },
        el("label", {}, active, " " + t.active), el("p", { class: "rb-problem", role: "alert" }));
      box.append(activeBox);
      return box;
    }

    // -- the trigger -----------------------------------------------------------------------------

    renderTrigger() {
      const t = this.t;
      const trigger = this.doc.trigger;
      const type = el("select", { onchange: (e) => {
        this.doc.trigger = this.freshTrigger(e.target.value);
        this.changed(true);
      } });
      for (const option of this.data.triggers) {
        type.append(el("option", { value: option.type, text: option.label, selected: option.type === trigger.type }));
      }
      const box = el("div", {}, this.control("/trigger/type", t.trigger_type, type));
      if (RECORD_TRIGGERS.has(trigger.type)) box.append(...this.recordTrigger(trigger));
      else if (trigger.type === "schedule") box.append(this.scheduleTrigger(trigger));
      else if (trigger.type === "date_offset") box.append(...this.dateTrigger(trigger));
      else if (FLOW_TRIGGERS.has(trigger.type)) box.append(el("p", { class: "help", text: t.flow_help }));
      else if (trigger.type === "inbound") {
        box.append(el("p", { class: "help", text: fmt(t.inbound_help, { name: this.data.name }) }));
      }
      document.getElementById("rb-payload-box").hidden = trigger.type !== "inbound";
      return box;
    }

    freshTrigger(type) {
      if (type === "schedule") return { type, cron: "0 9 * * *" };
      if (type === "date_offset") {
        const date = this.catalogue.find((f) => DATE_TYPES.has(f.type));
        return { type, field: date ? date.name : "", days: -7, at: "09:00" };
      }
      return { type };
    }

    recordTrigger(trigger) {
      const t = this.t;
      const found = [];
      const phase = el("select", { onchange: (e) => {
        if (e.target.value === "after_save") delete trigger.phase;
        else trigger.phase = e.target.value;
        this.changed();
      } });
      const phases = trigger.type === "on_delete" ? ["after_save"] : ["after_save", "before_save"];
      for (const p of phases) {
        phase.append(el("option", { value: p, text: t[p], selected: (trigger.phase || "after_save") === p }));
      }
      found.push(this.control("/trigger/phase", t.phase, phase));
      if (trigger.type === "on_update" || trigger.type === "on_save") {
        found.push(this.fieldChecks("/trigger/fields", t.changed_fields, trigger, "fields", this.catalogue));
      }
      return found;
    }

    fieldChecks(path, title, holder, key, catalogue) {
      const chosen = new Set(holder[key] || []);
      const list = el("fieldset", { class: "rb-checks" }, el("legend", { text: title }));
      for (const f of catalogue) {
        list.append(el("label", {}, el("input", { type: "checkbox", value: f.name, checked: chosen.has(f.name),
          onchange: (e) => {
            if (e.target.checked) chosen.add(f.name);
            else chosen.delete(f.name);
            const names = catalogue.map((c) => c.name).filter((n) => chosen.has(n));
            if (names.length) holder[key] = names;
            else delete holder[key];
            this.changed();
          } }), " " + f.label));
      }
      return el("div", { class: "rb-control", "data-path": path }, list, el("p", { class: "rb-problem", role: "alert" }));
    }

    scheduleTrigger(trigger) {
      const t = this.t;
      const words = el("p", { class: "rb-cron-words", "aria-live": "polite", id: "rb-cron-words" });
      const say = debounce((cron) => {
        postJSON(this.data.urls.cron, { cron }).then(({ data }) => {
          if (trigger.cron !== cron) return;
          words.textContent = data.words ? data.words : fmt(t.cron_raw, { cron });
        }, () => { words.textContent = t.failed; });
      }, 150);
      const cron = el("input", { type: "text", class: "rb-mono", "aria-describedby": "rb-cron-words", oninput: (e) => {
        trigger.cron = e.target.value.trim();
        say(trigger.cron);
        this.changed();
      } });
      cron.value = trigger.cron || "";
      say(trigger.cron || "");
      const box = this.control("/trigger/cron", t.cron, cron);
      box.insertBefore(words, box.querySelector(".rb-problem"));
      return box;
    }

    dateTrigger(trigger) {
      const t = this.t;
      const field = el("select", { onchange: (e) => { trigger.field = e.target.value; this.changed(); } });
      field.append(el("option", { value: "", text: t.choose }));
      for (const f of this.catalogue.filter((c) => DATE_TYPES.has(c.type))) {
        field.append(el("option", { value: f.name, text: f.label, selected: f.name === trigger.field }));
      }
      const days = Number.isInteger(trigger.days) ? trigger.days : 0;
      const count = el("input", { type: "number", min: 0, step: 1, value: Math.abs(days) });
      const side = el("select", { "aria-label": t.before + " / " + t.after });
      side.append(el("option", { value: "-1", text: t.before, selected: days < 0 }),
        el("option", { value: "1", text: t.after, selected: days >= 0 }));
      const update = () => {
        const n = count.value.trim();
        trigger.days = /^\d+$/.test(n) ? Number(n) * Number(side.value) : n;
        this.changed();
      };
      count.addEventListener("input", update);
      side.addEventListener("change", update);
      const at = el("input", { type: "time", value: trigger.at || "09:00", oninput: (e) => {
        trigger.at = e.target.value;
        this.changed();
      } });
      const daysBox = this.control("/trigger/days", t.days, count);
      daysBox.insertBefore(side, daysBox.querySelector(".rb-problem"));
      return [this.control("/trigger/field", t.date_field, field), daysBox, this.control("/trigger/at", t.at, at)];
    }

    // -- the condition ---------------------------------------------------------------------------

    renderCondition() {
      const t = this.t;
      const doc = this.doc;
      const editor = new ConditionEditor(this, "/condition", t.condition_when, () => doc.condition || "", (text) => {
        if (text) doc.condition = text;
        else delete doc.condition;
        this.checkSoon();
      });
      const condition = el("div", { class: "rb-control", "data-path": "/condition" }, editor.node,
        el("p", { class: "rb-problem", role: "alert" }));
      const fire = el("fieldset", { class: "rb-fire" }, el("legend", { text: t.fire }));
      for (const [value, label] of [["every_time", t.every_time], ["once_per_episode", t.once_per_episode]]) {
        fire.append(el("label", {}, el("input", { type: "radio", name: "rb-fire", value,
          checked: (doc.fire || "every_time") === value,
          onchange: () => {
            if (value === "every_time") delete doc.fire;
            else doc.fire = value;
            this.changed();
          } }), " " + label));
      }
      return el("div", {}, condition,
        el("div", { class: "rb-control", "data-path": "/fire" }, fire, el("p", { class: "rb-problem", role: "alert" })));
    }

    // -- the actions -----------------------------------------------------------------------------

    renderActions() {
      const t = this.t;
      const actions = this.doc.actions;
      const list = el("ol", { class: "rb-action-list" });
      actions.forEach((action, index) => list.append(this.renderAction(action, index)));
      const chooser = el("select", { id: "rb-new-action", "aria-label": t.action_type });
      for (const a of this.data.actions) chooser.append(el("option", { value: a.type, text: a.label }));
      const add = el("button", { type: "button", text: t.add_action, onclick: () => {
        actions.push(this.freshAction(chooser.value));
        this.changed(true);
        const last = this.editor.querySelector(".rb-action:last-child select");
        if (last) last.focus();
      } });
      return el("div", { class: "rb-control", "data-path": "/actions" }, list,
        el("p", { class: "rb-problem", role: "alert" }),
        el("p", { class: "rb-add" }, el("label", { for: "rb-new-action", text: t.action_type }), " ", chooser, " ", add));
    }

    freshAction(type) {
      const action = { type };
      const schema = (this.actionTypes[type] || {}).schema || {};
      for (const key of schema.required || []) {
        const param = (schema.properties || {})[key] || {};
        if (param.enum) action[key] = param.enum[0];
      }
      return action;
    }

    renderAction(action, index) {
      const t = this.t;
      const actions = this.doc.actions;
      const path = pointer("actions", index);
      const known = this.actionTypes[action.type];
      const type = el("select", { onchange: (e) => {
        actions[index] = this.freshAction(e.target.value);
        this.pairs.clear();
        this.changed(true);
        const again = this.editor.querySelectorAll(".rb-action")[index];
        if (again) again.querySelector("select").focus();
      } });
      for (const a of this.data.actions) {
        type.append(el("option", { value: a.type, text: a.label, selected: a.type === action.type }));
      }
      if (!known) type.append(el("option", { value: action.type, text: action.type, selected: true }));
      const title = fmt(t.action_n, { n: index + 1 });
      const move = (to) => {
        actions.splice(to, 0, actions.splice(index, 1)[0]);
        this.pairs.clear();
        this.changed(true);
        const moved = this.editor.querySelectorAll(".rb-action")[to];
        if (moved) moved.querySelector("select").focus();
      };
      const buttons = el("span", { class: "rb-action-buttons" },
        el("button", { type: "button", class: "fd-small", text: "↑", disabled: index === 0,
          "aria-label": `${title}: ${t.move_up}`, onclick: () => move(index - 1) }),
        el("button", { type: "button", class: "fd-small", text: "↓", disabled: index === actions.length - 1,
          "aria-label": `${title}: ${t.move_down}`, onclick: () => move(index + 1) }),
        el("button", { type: "button", class: "fd-small", text: t.remove, "aria-label": `${title}: ${t.remove}`,
          onclick: () => {
            actions.splice(index, 1);
            this.pairs.clear();
            this.changed(true);
            document.getElementById("rb-new-action").focus();
          } }));
      const head = el("div", { class: "rb-action-head", "data-path": path + "/type" },
        el("label", { for: "rb-action-" + index, text: title }), type, buttons,
        el("p", { class: "rb-problem", role: "alert" }));
      type.id = "rb-action-" + index;
      const body = el("div", { class: "rb-params" });
      const schema = known ? known.schema : { type: "object" };
      this.renderObject(body, action, schema, path, { action: known, root: action }, new Set(["type"]));
      return el("li", { class: "rb-action", "data-path": path }, head, body, el("p", { class: "rb-problem", role: "alert" }));
    }

    // Inputs for an object's properties, generated from its JSON schema.
    renderObject(box, holder, schema, path, context, skip) {
      const props = schema.properties || {};
      const required = new Set(schema.required || []);
      for (const key of schema["x-order"] || Object.keys(props)) {
        const param = props[key];
        if (skip && skip.has(key)) continue;
        box.append(this.renderParam(holder, key, param, required.has(key), pointer(...this.parts(path), key), context));
      }
      // Settings the schema does not list (a plugin's, or a typo) stay editable as text.
      for (const key of Object.keys(holder)) {
        if ((skip && skip.has(key)) || key in props) continue;
        box.append(this.renderParam(holder, key, {}, false, pointer(...this.parts(path), key), context));
      }
    }

    parts(path) {
      return path.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    }

    paramLabel(key, required) {
      return (this.data.params[key] || key) + (required ? " *" : "");
    }

    renderParam(holder, key, schema, required, path, context) {
      const t = this.t;
      const label = this.paramLabel(key, required);
      const set = (value) => {
        if (value === "" || value === undefined || value === null) delete holder[key];
        else holder[key] = value;
        this.changed();
      };
      const expression = context.action && context.action.expressions.includes(key) && holder === context.root;
      if (schema.enum) {
        const select = el("select", { onchange: (e) => set(e.target.value) });
        if (!required) select.append(el("option", { value: "", text: t.none }));
        for (const value of schema.enum) {
          select.append(el("option", { value, text: this.data.params[value] || String(value), selected: holder[key] === value }));
        }
        return this.control(path, label, select);
      }
      const kind = Array.isArray(schema.type) ? schema.type[0] : schema.type;
      if (kind === "object" && schema.properties) {
        const inner = holder[key] && typeof holder[key] === "object" ? holder[key] : {};
        const box = el("fieldset", { class: "rb-nested", "data-path": path }, el("legend", { text: label }));
        const proxy = new Proxy(inner, {
          set: (target, name, value) => { target[name] = value; holder[key] = target; return true; },
          deleteProperty: (target, name) => {
            delete target[name];
            if (Object.keys(target).length) holder[key] = target;
            else delete holder[key];
            return true;
          },
        });
        this.renderObject(box, proxy, schema, path, { ...context, nested: inner });
        box.append(el("p", { class: "rb-problem", role: "alert" }));
        return box;
      }
      if (kind === "object" || (schema.additionalProperties && typeof schema.additionalProperties === "object")) {
        return this.renderPairs(holder, key, label, path, expression, context);
      }
      if (kind === "array") {
        if (key === "fields") {
          return this.fieldChecks(path, label, holder, key, this.catalogue);
        }
        const input = el("input", { type: "text", oninput: (e) => {
          const items = e.target.value.split(/[,，]/).map((s) => s.trim()).filter(Boolean);
          set(items.length ? items : "");
        } });
        input.value = (holder[key] || []).join(", ");
        return this.control(path, label, input, t.comma_list);
      }
      if (kind === "boolean") {
        const box = el("input", { type: "checkbox", checked: holder[key] === true, onchange: (e) => set(e.target.checked) });
        return this.control(path, label, box);
      }
      if (kind === "integer" || kind === "number") {
        const input = el("input", { type: "number", value: holder[key] ?? "", oninput: (e) => {
          const v = e.target.value.trim();
          set(v === "" ? "" : Number(v));
        } });
        return this.control(path, label, input);
      }
      const choices = this.choicesFor(key, holder, context);
      if (choices) {
        const select = el("select", { onchange: (e) => set(e.target.value) });
        select.append(el("option", { value: "", text: t.choose }));
        let found = false;
        for (const c of choices) {
          found = found || c.value === holder[key];
          select.append(el("option", { value: c.value, text: c.label, selected: c.value === holder[key] }));
        }
        if (holder[key] && !found) select.append(el("option", { value: holder[key], text: holder[key], selected: true }));
        return this.control(path, label, select);
      }
      const input = el(expression ? "textarea" : "input", {
        class: expression ? "rb-mono rb-expr" : null, rows: expression ? 1 : null, type: expression ? null : "text",
        oninput: (e) => set(e.target.value),
      });
      input.value = typeof holder[key] === "string" ? holder[key] : (holder[key] === undefined ? "" : JSON.stringify(holder[key]));
      return this.control(path, label, input, expression ? t.expression_help : null);
    }

    // The fields, objects, flows or roles a setting names, as choices; null for free text.
    choicesFor(key, holder, context) {
      if (key === "object") return this.data.objects.map((o) => ({ value: o.name, label: o.label }));
      if (key === "flow") return this.data.flows;
      if (key === "role") return this.data.roles;
      if (FIELD_PARAMS.has(key)) {
        const object = key === "via" ? holder.object : this.doc.object;
        return (this.data.fields[object] || []).map((f) => ({ value: f.name, label: `${f.label} (${f.name})` }));
      }
      return null;
    }

    // The object whose fields a mapping's keys name: the created record's, the related records', the rule's.
    targetFields(holder, context) {
      const root = context.root || {};
      let object = this.doc.object;
      if (root.type === "create_record" && root.object) object = root.object;
      else if (root.type === "update_related") {
        if (root.related && root.related.object) object = root.related.object;
        else if (root.lookup && this.fields[root.lookup]) {
          const target = (this.data.lookups || {})[`${this.doc.object}.${root.lookup}`];
          if (target) object = target;
        }
      }
      return this.data.fields[object] || [];
    }

    renderPairs(holder, key, label, path, expression, context) {
      const t = this.t;
      const state = this.pairs.get(path) || Object.entries(holder[key] || {}).map(([k, v]) => ({
        key: k, value: typeof v === "string" ? v : JSON.stringify(v),
      }));
      this.pairs.set(path, state);
      const write = () => {
        const found = {};
        for (const pair of state) if (pair.key) found[pair.key] = pair.value;
        if (Object.keys(found).length) holder[key] = found;
        else delete holder[key];
        this.changed();
      };
      // Every record has an owner besides its own fields: a created task is given one.
      const fieldKeys = key === "values"
        ? [...this.targetFields(holder, context), { name: "owner", label: this.t.owner }]
        : null;
      const keyName = (name) => {
        const found = fieldKeys && fieldKeys.find((f) => f.name === name);
        return found ? found.label : name || t.value;
      };
      const box = el("fieldset", { class: "rb-pairs", "data-path": path }, el("legend", { text: label }));
      state.forEach((pair, index) => {
        const row = el("div", { class: "rb-pair", "data-path": pointer(...this.parts(path), pair.key || "-") });
        let keyInput;
        if (fieldKeys) {
          keyInput = el("select", { "aria-label": `${label}: ${t.key}`, onchange: (e) => {
            pair.key = e.target.value;
            row.dataset.path = pointer(...this.parts(path), pair.key || "-");
            valueInput.setAttribute("aria-label", `${label}: ${keyName(pair.key)}`);
            write();
          } });
          keyInput.append(el("option", { value: "", text: t.choose }));
          let found = false;
          for (const f of fieldKeys) {
            found = found || f.name === pair.key;
            keyInput.append(el("option", { value: f.name, text: f.label, selected: f.name === pair.key }));
          }
          if (pair.key && !found) keyInput.append(el("option", { value: pair.key, text: pair.key, selected: true }));
        } else {
          keyInput = el("input", { type: "text", "aria-label": `${label}: ${t.key}`, oninput: (e) => {
            pair.key = e.target.value.trim();
            row.dataset.path = pointer(...this.parts(path), pair.key || "-");
            valueInput.setAttribute("aria-label", `${label}: ${keyName(pair.key)}`);
            write();
          } });
          keyInput.value = pair.key;
        }
        const valueInput = el(expression ? "textarea" : "input", {
          class: expression ? "rb-mono rb-expr" : null, rows: expression ? 1 : null, type: expression ? null : "text",
          "aria-label": `${label}: ${keyName(pair.key)}`,
          oninput: (e) => { pair.value = e.target.value; write(); },
        });
        valueInput.value = pair.value;
        const remove = el("button", { type: "button", class: "fd-small", text: "×",
          "aria-label": `${t.remove} ${pair.key || ""}`.trim(),
          onclick: () => {
            state.splice(index, 1);
            write();
            this.render();
            const add = this.editor.querySelector(`[data-path="${path}"] > button`);
            if (add) add.focus();
          } });
        row.append(keyInput, valueInput, remove, el("p", { class: "rb-problem", role: "alert" }));
        box.append(row);
      });
      box.append(el("button", { type: "button", class: "fd-small", text: t.add_value, onclick: () => {
        state.push({ key: "", value: "" });
        this.render();
        const rows = this.editor.querySelectorAll(`[data-path="${path}"] .rb-pair`);
        if (rows.length) rows[rows.length - 1].querySelector("select, input").focus();
      } }), el("p", { class: "rb-problem", role: "alert" }));
      if (expression) box.append(el("p", { class: "help", text: t.expression_help }));
      return box;
    }

    // -- checking, saving ------------------------------------------------------------------------

    check() {
      const sent = JSON.stringify(this.doc);
      postJSON(this.data.urls.check, { document: this.doc }).then(({ status, data }) => {
        if (JSON.stringify(this.doc) !== sent) return; // edited since: a newer check follows
        this.problems = status === 200 ? data.fields || {} : {};
        this.showProblems();
      }, () => { this.status.textContent = this.t.failed; });
    }

    showProblems(fields) {
      if (fields) this.problems = fields;
      for (const node of this.editor.querySelectorAll(".rb-problem")) node.textContent = "";
      for (const node of this.editor.querySelectorAll(".rb-has-problem")) node.classList.remove("rb-has-problem");
      const places = [...this.editor.querySelectorAll("[data-path]")];
      const general = [];
      for (const [path, messages] of Object.entries(this.problems)) {
        let best = null;
        for (const place of places) {
          const at = place.dataset.path;
          if ((path === at || path.startsWith(at + "/")) && (!best || at.length > best.dataset.path.length)) best = place;
        }
        const target = best && best.querySelector(":scope > .rb-problem");
        if (target) {
          target.textContent = [target.textContent, ...messages].filter(Boolean).join("; ");
          best.classList.add("rb-has-problem");
        } else {
          general.push(...messages.map((m) => (path === "/" ? m : `${path}: ${m}`)));
        }
      }
      this.errors.hidden = !general.length;
      this.errors.replaceChildren(...general.map((m) => el("p", { text: m })));
    }

    save(draft) {
      const t = this.t;
      this.status.textContent = t.checking;
      postJSON(draft ? this.data.urls.draft : this.data.urls.save, { document: this.doc }).then(({ status, data }) => {
        if (status === 200) {
          this.status.textContent = data.message;
          this.showProblems(draft ? this.problems : {});
          const state = document.getElementById("rb-state");
          if (!draft) {
            document.getElementById("rb-links").hidden = false;
            this.saved = true;
            state.textContent = "";
          } else {
            state.textContent = t.draft_state;
          }
          return;
        }
        this.status.textContent = data.error || (draft ? t.failed : t.not_saved);
        this.showProblems(data.fields || {});
      }, () => { this.status.textContent = t.failed; });
    }

    // -- trying it on a record -------------------------------------------------------------------

    findRecords(q) {
      const list = document.getElementById("rb-record-list");
      const object = this.doc.object;
      const url = `${this.data.urls.records}?object=${encodeURIComponent(object || "")}&q=${encodeURIComponent(q)}`;
      fetch(url, { credentials: "same-origin" }).then((response) => (response.ok ? response.json() : { records: [] }))
        .then((data) => {
          if (this.doc.object !== object) return;
          list.replaceChildren();
          for (const r of data.records) {
            list.append(el("option", { value: r.id, text: `#${r.id} ${r.title}${r.detail ? " · " + r.detail : ""}` }));
          }
          if (!data.records.length) list.append(el("option", { value: "", text: this.t.no_records }));
        }, () => {});
    }

    tryIt() {
      const t = this.t;
      const out = document.getElementById("rb-trial");
      const recordId = document.getElementById("rb-record-list").value;
      if (!recordId && this.doc.trigger.type !== "inbound") {
        out.replaceChildren(el("p", { class: "rb-error", text: t.try_needs_record }));
        return;
      }
      out.replaceChildren(el("p", { text: t.checking }));
      let payload = {};
      if (this.doc.trigger.type === "inbound") {
        try {
          payload = JSON.parse(document.getElementById("rb-payload").value || "{}");
        } catch (error) {
          out.replaceChildren(el("p", { class: "rb-error", text: t.payload_bad }));
          return;
        }
      }
      postJSON(this.data.urls.try, { document: this.doc, record_id: recordId ? Number(recordId) : null, payload })
        .then(({ status, data }) => {
          if (status !== 200) {
            if (data.fields) this.showProblems(data.fields);
            out.replaceChildren(el("p", { class: "rb-error", text: data.error || t.failed }));
            return;
          }
          out.replaceChildren(...this.trialView(data));
        }, () => out.replaceChildren(el("p", { class: "rb-error", text: t.failed })));
    }

    shown(value) {
      const t = this.t;
      if (value === true) return t.true;
      if (value === false) return t.false;
      if (value === null || value === undefined || value === "") return t.empty;
      return typeof value === "string" ? value : JSON.stringify(value);
    }

    trialView(data) {
      const t = this.t;
      const verdict = data.error ? t.would_fail : data.would_fire ? t.would_fire : t.would_not_fire;
      const nodes = [el("p", { class: "rb-verdict " + (data.would_fire ? "rb-true" : "rb-false"), id: "rb-verdict", text: verdict })];
      if (data.condition) {
        nodes.push(el("p", {}, t.condition_value + ": ", el("code", { text: data.condition }), " → ",
          el("strong", { class: "rb-condition-value", text: this.shown(data.condition_value) })));
      }
      const inputs = Object.entries(data.inputs || {});
      if (inputs.length) {
        const list = el("dl", { class: "rb-inputs" });
        for (const [name, input] of inputs) {
          list.append(el("dt", { text: input.label === name ? name : `${input.label} (${name})` }),
            el("dd", { text: "shown" in input ? input.shown : this.shown(input.value) }));
        }
        nodes.push(el("h3", { text: t.inputs }), list);
      }
      if (data.error) nodes.push(el("p", { class: "rb-error", text: data.error }));
      const effects = el("ul", { class: "rb-effects" });
      for (const [name, pair] of Object.entries(data.record_changes || {})) {
        effects.append(el("li", { text: `${name}: ${this.shown(pair[0])} → ${this.shown(pair[1])}` }));
      }
      for (const effect of data.effects || []) effects.append(this.effectView(effect));
      if (data.would_fire) {
        nodes.push(el("h3", { text: t.effects }));
        nodes.push(effects.children.length ? effects : el("p", { text: t.no_effects }));
      }
      nodes.push(el("p", { class: "help", text: t.nothing_written }));
      if (this.saved && data.record_id) {
        const url = `${this.data.urls.explain}?record=${encodeURIComponent(data.record_id)}`;
        nodes.push(el("p", {}, el("a", { href: url, text: fmt(t.explain_record, { id: data.record_id }) })));
      }
      return nodes;
    }

    effectView(effect) {
      const t = this.t;
      if (effect.kind === "create" || effect.kind === "update") {
        const title = effect.kind === "create"
          ? fmt(t.would_create, { object: effect.object })
          : fmt(t.would_update, { object: effect.object, id: effect.id });
        const values = el("dl", {});
        for (const [name, value] of Object.entries(effect.values)) {
          values.append(el("dt", { text: name }), el("dd", { text: this.shown(value) }));
        }
        return el("li", { class: "rb-effect-" + effect.kind }, el("strong", { text: title }), values);
      }
      if (effect.kind === "notify") {
        return el("li", { class: "rb-effect-notify" }, el("strong", { text: fmt(t.would_notify, { user: effect.user }) }),
          el("div", { text: effect.title }), effect.body ? el("div", { class: "help", text: effect.body }) : null);
      }
      if (effect.kind === "approval") {
        return el("li", { class: "rb-effect-approval", text: fmt(t.would_ask, { user: effect.user, node: effect.node }) });
      }
      if (effect.kind === "message") {
        return el("li", {}, el("strong", { text: fmt(t.would_send, { channel: effect.channel }) }),
          el("pre", { text: JSON.stringify(effect.message, null, 1) }));
      }
      const status = { fired: t.fired, skipped: t.skipped, failed: t.failed_run, stopped: t.stopped }[effect.status];
      return el("li", { text: fmt(t.would_trigger, { rule: effect.rule }) + " · " + (status || effect.status) });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-rule-builder]");
    if (root) new RuleBuilder(root);
  });
})();
