// The flow designer's side panel: the editors of a step's settings (approvers from the org, mode,
// deadline, field permissions, actions) and of the flow's own settings. Each editor changes the
// flow document in place and tells the designer (changed), which asks the server to check it.
(function () {
  "use strict";

  const { ConditionEditor, el, postJSON, fmt, debounce } = window.LoomConditions;

  class FlowPanel {
    input(label, value, onchange, attrs) {
      const input = el("input", { ...(attrs || {}), oninput: (event) => onchange(event.target.value) });
      input.value = value === undefined || value === null ? "" : value;
      return el("label", { class: "fl-field" }, label + " ", input);
    }

    choice(label, options, value, onchange) {
      const select = el("select", { onchange: (event) => onchange(event.target.value) });
      for (const [key, text] of options) select.append(el("option", { value: key, text, selected: String(value) === String(key) }));
      return el("label", { class: "fl-field" }, label + " ", select);
    }

    labelInputs(box, holder) {
      const t = this.t;
      const set = (locale) => (value) => {
        holder.label = { ...(holder.label || {}) };
        if (value.trim()) holder.label[locale] = value.trim(); else delete holder.label[locale];
        if (!Object.keys(holder.label).length) delete holder.label;
        this.changed(false);
      };
      box.append(
        this.input(t.label_zh, (holder.label || {}).zh_CN, set("zh_CN"), { maxlength: 200 }),
        this.input(t.label_en, (holder.label || {}).en, set("en"), { maxlength: 200 }));
    }

    nodePanel(box, name, node) {
      const t = this.t;
      this.labelInputs(box, node);
      if (node.type === "approval") {
        box.append(this.approversEditor(t.approvers, node, "approvers"));
        box.append(this.choice(t.mode, [["any", t.mode_any], ["all", t.mode_all], ["sequential", t.mode_sequential], ["vote", t.mode_vote]],
          node.mode || "any", (value) => {
            if (value === "any") delete node.mode; else node.mode = value;
            if (value === "vote") node.share = node.share || 0.6; else delete node.share;
            this.renderPanel();
            this.changed(false);
          }));
        if (node.mode === "vote") {
          box.append(this.input(t.share, Math.round((node.share || 0) * 100), (value) => {
            const number = Number(value);
            node.share = Number.isFinite(number) ? number / 100 : value;
            this.changed(false);
          }, { type: "number", min: 1, max: 100 }));
        }
        box.append(this.deadlineEditor(node));
        box.append(this.permissionsEditor(node));
      } else if (node.type === "cc") {
        box.append(this.approversEditor(t.cc_to, node, "to"));
      } else if (node.type === "action") {
        box.append(this.actionsEditor(t.actions, node, "actions"));
      } else if (node.type === "end") {
        box.append(this.choice(t.outcome, [["approved", t.outcome_approved], ["rejected", t.outcome_rejected]], node.outcome || "approved", (value) => {
          if (value === "approved") delete node.outcome; else node.outcome = value;
          this.changed(false);
        }));
        box.append(this.actionsEditor(t.actions, node, "actions"));
      } else if (node.type === "parallel") {
        box.append(this.choice(t.join, [["all", t.join_all], ["any", t.join_any]], node.join || "all", (value) => {
          if (value === "all") delete node.join; else node.join = value;
          this.changed(false);
        }));
      } else if (node.type === "condition") {
        node.branches.forEach((branch, i) => this.branchPanel(box, name, node, i));
      }
    }

    branchPanel(box, name, node, index) {
      const branch = node.branches[index];
      if (!branch) return;
      const title = fmt(this.t.branch, { n: index + 1 });
      box.append(new ConditionEditor(this, `/nodes/${name}/branches/${index}/when`, title,
        () => branch.when, (text) => { branch.when = text || ""; this.changed(false); }).node);
    }

    previewSoon() {
      // The condition editor calls this after each change; the document is already updated.
    }

    approverRow(approver, onchange, remove) {
      const t = this.t;
      const kinds = [["user", t.kind_user], ["role", t.kind_role], ["manager_of", t.kind_manager], ["department_head", t.kind_head], ["chosen_by_submitter", t.kind_chosen], ["field", t.kind_field]];
      const kind = kinds.map(([key]) => key).find((key) => key in approver) || "manager_of";
      const row = el("div", { class: "fl-approver" });
      const kindSelect = el("select", { "aria-label": t.approvers, onchange: (event) => {
        const fresh = { user: { user: "" }, role: { role: "" }, manager_of: { manager_of: "submitter" }, department_head: { department_head: "submitter" }, chosen_by_submitter: { chosen_by_submitter: true }, field: { field: "" } }[event.target.value];
        onchange(fresh, true);
      } });
      for (const [key, text] of kinds) kindSelect.append(el("option", { value: key, text, selected: key === kind }));
      row.append(kindSelect);
      const choose = (options, value, set, label) => {
        const select = el("select", { "aria-label": label, onchange: (event) => set(event.target.value) });
        select.append(el("option", { value: "", text: t.choose }));
        for (const option of options) select.append(el("option", { value: option.value, text: option.label, selected: option.value === value }));
        return select;
      };
      if (kind === "user") row.append(choose(this.cat.users, approver.user, (v) => onchange({ user: v }), t.kind_user));
      if (kind === "role") row.append(choose(this.cat.roles, approver.role, (v) => onchange({ role: v }), t.kind_role));
      if (kind === "field") {
        const users = this.catalogue.filter((f) => f.type === "user").map((f) => ({ value: f.name, label: f.label }));
        row.append(choose(users, approver.field, (v) => onchange({ field: v }), t.kind_field));
      }
      if (kind === "department_head") {
        const options = [{ value: "submitter", label: t.own_department }, ...this.cat.departments];
        row.append(choose(options, approver.department_head, (v) => onchange({ department_head: v }), t.kind_head));
      }
      if (kind === "manager_of") {
        const levels = el("select", { "aria-label": t.levels, onchange: (event) => {
          const value = Number(event.target.value);
          onchange(value === 1 ? { manager_of: approver.manager_of } : { manager_of: approver.manager_of, levels: value });
        } });
        for (let level = 1; level <= 5; level += 1) levels.append(el("option", { value: level, text: String(level), selected: (approver.levels || 1) === level }));
        row.append(el("label", {}, t.levels + " ", levels));
      }
      if (remove) row.append(el("button", { type: "button", class: "fl-small", text: "×", "aria-label": t.remove_approver, onclick: remove }));
      return row;
    }

    approversEditor(title, node, key) {
      const t = this.t;
      const box = el("fieldset", { class: "fl-approvers" }, el("legend", { text: title }));
      const list = node[key] || (node[key] = []);
      list.forEach((approver, i) => {
        box.append(this.approverRow(approver, (value, rerender) => {
          list[i] = value;
          if (rerender || !("manager_of" in value)) this.renderPanel();
          this.changed(false);
        }, () => { list.splice(i, 1); this.renderPanel(); this.changed(false); }));
      });
      box.append(el("button", { type: "button", class: "fl-small", text: "+ " + t.add_approver, onclick: () => {
        list.push({ role: "" });
        this.renderPanel();
        this.changed(false);
        const rows = document.querySelectorAll("#fl-panel-body .fl-approvers .fl-approver");
        const last = rows[rows.length - 1];
        if (last) last.querySelector("select").focus();
      } }));
      return box;
    }

    deadlineEditor(node) {
      const t = this.t;
      const box = el("fieldset", { class: "fl-deadline" }, el("legend", { text: t.deadline }));
      const has = el("input", { type: "checkbox", checked: Boolean(node.deadline), onchange: (event) => {
        if (event.target.checked) node.deadline = { hours: 48, then: "remind" }; else delete node.deadline;
        this.renderPanel();
        this.changed(false);
      } });
      box.append(el("label", {}, has, " " + t.deadline));
      if (node.deadline) {
        const deadline = node.deadline;
        box.append(this.input(t.hours, deadline.hours, (value) => {
          const number = Number(value);
          deadline.hours = value !== "" && Number.isFinite(number) ? number : value;
          this.changed(false);
        }, { type: "number", min: 0.5, step: 0.5 }));
        box.append(this.choice(t.then, [["remind", t.then_remind], ["reassign", t.then_reassign], ["approve", t.then_approve], ["reject", t.then_reject]],
          deadline.then || "remind", (value) => {
            deadline.then = value;
            if (value === "reassign") deadline.to = deadline.to || { manager_of: "assignee" }; else delete deadline.to;
            this.renderPanel();
            this.changed(false);
          }));
        if (deadline.then === "reassign") {
          box.append(el("p", { text: t.pass_to }), this.approverRow(deadline.to, (value, rerender) => {
            deadline.to = value;
            if (rerender) this.renderPanel();
            this.changed(false);
          }, null));
        }
      }
      return box;
    }

    permissionsEditor(node) {
      const t = this.t;
      const marked = node.fields && Object.keys(node.fields).length;
      const box = el("details", { class: "fl-permissions", open: Boolean(marked) }, el("summary", { text: t.fields + (marked ? " ●" : "") }));
      const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: t.field }), el("th", { text: t.editable }), el("th", { text: t.hidden }))));
      const body = el("tbody");
      for (const field of this.catalogue) {
        const row = el("tr", {}, el("td", { text: field.label }));
        for (const kind of ["editable", "hidden"]) {
          const on = Boolean(node.fields && (node.fields[kind] || []).includes(field.name));
          row.append(el("td", {}, el("input", {
            type: "checkbox", checked: on, "aria-label": `${field.label} · ${t[kind]}`,
            onchange: (event) => {
              const fields = node.fields || {};
              const list = (fields[kind] || []).filter((name) => name !== field.name);
              if (event.target.checked) list.push(field.name);
              if (list.length) fields[kind] = list; else delete fields[kind];
              if (Object.keys(fields).length) node.fields = fields; else delete node.fields;
              this.changed(false);
            },
          })));
        }
        body.append(row);
      }
      table.append(body);
      box.append(table);
      return box;
    }

    expressionInput(label, get, set) {
      const t = this.t;
      const status = el("span", { class: "fd-check", "aria-live": "polite" });
      const run = debounce(() => {
        const text = get();
        if (!text) { status.textContent = ""; return; }
        postJSON(this.root.dataset.expression, { text }).then(({ data }) => {
          if (get() !== text) return;
          status.textContent = data.ok ? t.expression_valid : (data.problems || []).join("; ");
          status.className = data.ok ? "fd-check fd-ok" : "fd-check fd-bad";
        }, () => { status.textContent = t.check_failed; });
      }, 250);
      const input = el("input", { class: "fl-expr", oninput: (event) => { set(event.target.value); run(); } });
      input.value = get() || "";
      if (get()) run();
      return el("label", { class: "fl-field" }, label + " ", input, " ", status);
    }

    actionsEditor(title, holder, key) {
      const t = this.t;
      const box = el("fieldset", { class: "fl-actions" }, el("legend", { text: title }));
      const list = holder[key] || [];
      const store = () => {
        if (list.length) holder[key] = list; else delete holder[key];
        this.changed(false);
      };
      list.forEach((action, i) => {
        const row = el("div", { class: "fl-action" });
        const known = ["set_field", "create_record", "notify"];
        const kind = known.includes(action.type) ? action.type : "other";
        row.append(this.choice(t.action_type, [["set_field", t.act_set_field], ["create_record", t.act_create_record], ["notify", t.act_notify], ["other", t.act_other]], kind, (value) => {
          list[i] = { set_field: { type: "set_field", field: "", value: "" }, create_record: { type: "create_record", object: "task", values: { subject: "'…'" } }, notify: { type: "notify", to: "owner", title: "''" }, other: { type: "" } }[value];
          store();
          this.renderPanel();
        }));
        if (kind === "set_field") {
          row.append(this.choice(t.field, [["", t.choose], ...this.catalogue.map((f) => [f.name, f.label])], action.field || "", (value) => { action.field = value; store(); }));
          row.append(this.expressionInput(t.expression, () => action.value, (value) => { action.value = value; store(); }));
        } else if (kind === "create_record") {
          row.append(this.choice(t.object, this.cat.objects.map((o) => [o.value, o.label]), action.object || "", (value) => { action.object = value; store(); }));
          const area = el("textarea", { rows: 3, class: "fl-values", oninput: (event) => {
            const values = {};
            for (const line of event.target.value.split("\n")) {
              const at = line.indexOf(":");
              if (at > 0) values[line.slice(0, at).trim()] = line.slice(at + 1).trim();
            }
            action.values = values;
            store();
          } });
          area.value = Object.entries(action.values || {}).map(([name, value]) => `${name}: ${value}`).join("\n");
          row.append(el("label", { class: "fl-field" }, t.values + " ", area));
        } else if (kind === "notify") {
          row.append(this.expressionInput(t.notify_to, () => action.to, (value) => { action.to = value; store(); }));
          row.append(this.expressionInput(t.message, () => action.title, (value) => { action.title = value; store(); }));
        } else {
          const area = el("textarea", { rows: 3, class: "fl-json", "aria-label": t.json, oninput: (event) => {
            try { list[i] = JSON.parse(event.target.value); store(); } catch (error) { void error; }
          } });
          area.value = JSON.stringify(action);
          row.append(area);
        }
        row.append(el("button", { type: "button", class: "fl-small", text: t.remove_action, onclick: () => { list.splice(i, 1); store(); this.renderPanel(); } }));
        box.append(row);
      });
      box.append(el("button", { type: "button", class: "fl-small", text: "+ " + t.add_action_item, onclick: () => {
        list.push({ type: "set_field", field: "", value: "" });
        store();
        this.renderPanel();
      } }));
      return box;
    }

    settingsPanel(box) {
      const t = this.t;
      const doc = this.doc;
      this.labelInputs(box, doc);
      const active = el("input", { type: "checkbox", checked: doc.active !== false, onchange: (event) => {
        if (event.target.checked) delete doc.active; else doc.active = false;
        this.changed(false);
      } });
      box.append(el("label", { class: "fl-field" }, active, " " + t.active));
      box.append(new ConditionEditor(this, "/submit_when", t.submit_when, () => doc.submit_when,
        (text) => { if (text) doc.submit_when = text; else delete doc.submit_when; this.changed(false); }).node);
      const lock = doc.lock_record === false ? "none" : (doc.lock_record && typeof doc.lock_record === "object" ? "fields" : "all");
      box.append(this.choice(t.lock, [["all", t.lock_all], ["none", t.lock_none], ["fields", t.lock_fields]], lock, (value) => {
        if (value === "all") delete doc.lock_record;
        else if (value === "none") doc.lock_record = false;
        else doc.lock_record = { fields: [] };
        this.renderPanel();
        this.changed(false);
      }));
      if (lock === "fields") {
        const fields = el("fieldset", { class: "fl-lock-fields" }, el("legend", { text: t.lock_fields }));
        for (const field of this.catalogue) {
          fields.append(el("label", {}, el("input", { type: "checkbox", checked: doc.lock_record.fields.includes(field.name), onchange: (event) => {
            const list = doc.lock_record.fields.filter((name) => name !== field.name);
            if (event.target.checked) list.push(field.name);
            doc.lock_record.fields = list;
            this.changed(false);
          } }), " " + field.label));
        }
        box.append(fields);
      }
      const reject = doc.on_reject || { return_to: "submitter" };
      const holder = { actions: reject.actions };
      const proxy = new Proxy(holder, { set: (target, key, value) => {
        target[key] = value;
        doc.on_reject = { return_to: "submitter", actions: value };
        return true;
      }, deleteProperty: (target, key) => { delete target[key]; delete doc.on_reject; return true; } });
      box.append(this.actionsEditor(t.on_reject, proxy, "actions"));
      const status = doc.record_status || null;
      const statusBox = el("fieldset", { class: "fl-status-field" }, el("legend", { text: t.record_status }));
      statusBox.append(this.choice(t.status_field, [["", t.choose], ...this.catalogue.filter((f) => ["select", "text"].includes(f.type)).map((f) => [f.name, f.label])],
        status ? status.field : "", (value) => {
          if (value) doc.record_status = { ...(doc.record_status || {}), field: value }; else delete doc.record_status;
          this.renderPanel();
          this.changed(false);
        }));
      if (status) {
        for (const state of ["running", "approved", "rejected", "withdrawn"]) {
          statusBox.append(this.input(t[`state_${state}`], status[state], (value) => {
            if (value.trim()) status[state] = value.trim(); else delete status[state];
            this.changed(false);
          }, { maxlength: 100 }));
        }
      }
      box.append(statusBox);
    }
  }

  window.LoomFlowPanel = FlowPanel;
})();
