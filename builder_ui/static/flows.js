// The flow designer: the flow document edited in place (insert, remove, branches, a step's settings),
// then posted to the server, which answers with the layout to draw, each step's card and the
// problems found on each step. Every "+" is a button; every card's title is a button that opens
// the step in the side panel.
(function () {
  "use strict";

  const { el, postJSON, fmt, debounce } = window.LoomConditions;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then((response) => response.json());
  }

  function setAt(doc, parts, value) {
    let here = doc;
    for (const part of parts.slice(0, -1)) here = here[part];
    const last = parts[parts.length - 1];
    if (value === null || value === undefined) {
      if (Array.isArray(here)) here.splice(last, 1);
      else delete here[last];
    } else {
      here[last] = value;
    }
  }

  function namesIn(chain, found) {
    for (const item of chain.items) {
      if (item.kind === "goto") continue;
      found.add(item.name);
      for (const branch of item.branches || []) namesIn(branch, found);
    }
    return found;
  }

  class FlowDesigner extends window.LoomFlowPanel {
    constructor(root) {
      super();
      const data = JSON.parse(document.getElementById("fl-data").textContent);
      this.root = root;
      this.doc = data.document;
      this.t = data.texts;
      this.cat = data.catalogue;
      this.catalogue = this.cat.fields;
      this.fields = Object.fromEntries(this.catalogue.map((f) => [f.name, f]));
      this.urls = { check: root.dataset.condition };
      this.checked = new Map();
      this.builderStates = new Map();
      this.view = null;
      this.selected = null;
      this.simulated = null;
      this.canvas = document.getElementById("fl-canvas");
      this.status = document.getElementById("fl-status");
      this.refreshSoon = debounce(() => this.refresh(), 250);
      document.getElementById("fl-save").addEventListener("click", () => this.saveDraft());
      document.getElementById("fl-publish").addEventListener("click", () => this.publish());
      document.getElementById("fl-settings-open").addEventListener("click", () => this.select({ settings: true }));
      document.getElementById("fl-sim-run").addEventListener("click", () => this.simulate());
      const q = document.getElementById("fl-sim-q");
      q.addEventListener("input", debounce(() => this.findRecords(q.value), 250));
      this.findRecords("");
      this.loadVersions();
      this.refresh();
    }

    say(text, bad) {
      this.status.textContent = text;
      this.status.className = "fl-status" + (bad ? " fl-bad-text" : "");
    }

    // -- the server's answer ---------------------------------------------------------------------

    refresh() {
      const sent = JSON.stringify(this.doc);
      this.root.dataset.state = "checking";
      return postJSON(this.root.dataset.check, { document: this.doc }).then(({ status, data }) => {
        if (JSON.stringify(this.doc) !== sent) return; // edited since: a newer answer follows
        if (status !== 200) {
          this.say(data.error || this.t.check_failed, true);
          this.root.dataset.state = "ready";
          return;
        }
        this.view = data;
        // A refusal said before the last edit no longer holds for the document as it now is.
        if (this.status.classList.contains("fl-bad-text")) this.say("");
        this.render();
        this.root.dataset.state = "ready";
      }, () => {
        this.say(this.t.check_failed, true);
        this.root.dataset.state = "ready";
      });
    }

    changed(structural) {
      this.root.dataset.state = "checking";
      this.simulated = null;
      document.getElementById("fl-sim-result").replaceChildren();
      if (structural) {
        this.builderStates.clear();
        return this.refresh();
      }
      this.refreshSoon();
      return null;
    }

    // -- drawing ---------------------------------------------------------------------------------

    render() {
      const t = this.t;
      const view = this.view;
      const focused = document.activeElement && document.activeElement.dataset.focusKey;
      this.canvas.replaceChildren();
      this.canvas.append(el("div", { class: "fl-card fl-type-start" },
        el("div", { class: "fl-card-head" }, el("span", { class: "fl-kind", text: t.start })),
        el("p", { class: "fl-summary", text: t.start_summary })));
      this.canvas.append(this.chain(view.layout.chain, "main"));
      if (view.layout.detached.length) {
        const box = el("section", { class: "fl-detached" }, el("h2", { text: t.unreached }));
        view.layout.detached.forEach((part, i) => box.append(this.chain(part, `detached-${i}`)));
        this.canvas.append(box);
      }
      const general = document.getElementById("fl-general");
      general.replaceChildren();
      general.hidden = !view.general.length;
      if (view.general.length) {
        general.append(el("strong", { text: t.problems }));
        const list = el("ul", {});
        for (const problem of view.general) list.append(el("li", {}, el("code", { text: problem.path }), " " + problem.message));
        general.append(list);
      }
      this.root.dataset.valid = view.valid ? "yes" : "no";
      if (focused) {
        const again = this.canvas.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
        if (again) again.focus();
      }
    }

    chain(chain, key) {
      const box = el("div", { class: "fl-chain" });
      if (chain.entry.links.length) box.append(this.plus(chain.entry, `${key}-entry`));
      for (const item of chain.items) {
        if (item.kind === "goto") {
          const text = fmt(item.missing ? this.t.missing : this.t.goes_to, { name: this.title(item.target) });
          box.append(el("p", { class: "fl-goto", text: "→ " + text }));
          continue;
        }
        if (item.kind === "condition" || item.kind === "parallel") box.append(this.block(item));
        else box.append(this.card(item.name));
        if (item.after && item.after.links.length) box.append(this.plus(item.after, `after-${item.name}`));
      }
      return box;
    }

    title(name) {
      const card = this.view.cards[name];
      return card ? card.title : name;
    }

    problems(name) {
      const found = this.view.problems[name] || [];
      if (!found.length) return null;
      const list = el("ul", { class: "fl-problems", role: "alert" });
      for (const message of found) list.append(el("li", { text: message }));
      return list;
    }

    card(name) {
      const t = this.t;
      const card = this.view.cards[name] || { type: "", kind_title: "", title: name, summary: "" };
      const bad = Boolean((this.view.problems[name] || []).length);
      const onPath = this.simulated && this.simulated.has(name);
      const node = el("article", {
        class: `fl-card fl-type-${card.type}` + (bad ? " fl-has-problems" : "") + (onPath ? " fl-on-path" : "")
          + (this.selected && this.selected.node === name ? " fl-selected" : ""),
        "data-node": name,
      });
      const head = el("div", { class: "fl-card-head" },
        el("span", { class: "fl-kind", text: card.kind_title }),
        el("button", {
          type: "button", class: "fl-title", text: card.title, "aria-label": fmt(t.edit, { name: card.title }),
          "data-focus-key": `card-${name}`, onclick: () => this.select({ node: name }),
        }));
      if (card.type !== "end") {
        head.append(el("button", {
          type: "button", class: "fl-remove", text: "×", title: t.remove, "aria-label": `${t.remove} · ${card.title}`,
          onclick: () => this.remove(name),
        }));
      }
      node.append(head, el("p", { class: "fl-summary", text: card.summary }));
      if (onPath) {
        const asked = this.simulated.get(name);
        if (card.type === "approval") {
          node.append(el("p", { class: "fl-asked", text: asked.length ? fmt(t.asked, { who: asked.join("、") }) : t.nobody }));
        }
      }
      const problems = this.problems(name);
      if (problems) node.append(problems);
      return node;
    }

    block(item) {
      const t = this.t;
      const name = item.name;
      const card = this.view.cards[name] || { title: name, kind_title: "", type: item.kind };
      const onPath = this.simulated && this.simulated.has(name);
      const box = el("section", {
        class: `fl-block fl-${item.kind}` + (onPath ? " fl-on-path" : ""), "data-node": name, "aria-label": card.title,
      });
      const head = el("div", { class: "fl-block-head" + ((this.view.problems[name] || []).length ? " fl-has-problems" : "") },
        card.title !== card.kind_title ? el("span", { class: "fl-kind", text: card.kind_title }) : null,
        el("button", {
          type: "button", class: "fl-title", text: card.title, "aria-label": fmt(t.edit, { name: card.title }),
          "data-focus-key": `card-${name}`, onclick: () => this.select({ node: name }),
        }),
        el("button", {
          type: "button", class: "fl-add-branch", text: "+ " + t.add_branch, "aria-label": `${t.add_branch} · ${card.title}`, "data-focus-key": `branch-${name}`,
          onclick: () => this.addBranch(item),
        }),
        el("button", {
          type: "button", class: "fl-remove", text: "×", title: t.remove, "aria-label": `${t.remove} · ${card.title}`,
          onclick: () => this.removeBlock(item),
        }));
      if (item.kind === "parallel" && card.summary) head.append(el("span", { class: "fl-summary", text: card.summary }));
      const problems = this.problems(name);
      if (problems) head.append(problems);
      const row = el("div", { class: "fl-branches" });
      const count = item.branches.length;
      item.branches.forEach((branch, position) => {
        const column = el("div", { class: "fl-branch", "data-branch": String(branch.index) });
        if (item.kind === "condition") {
          const isDefault = branch.index === "default";
          const label = isDefault ? t.default_branch : fmt(t.branch, { n: position + 1 });
          const when = isDefault ? t.default_summary : (branch.when || t.clear);
          const taken = onPath && this.simulated.get(`${name}#${branch.index}`);
          const bcard = el("article", { class: "fl-card fl-type-branch" + (taken ? " fl-on-path" : "") },
            el("div", { class: "fl-card-head" },
              el("span", { class: "fl-kind", text: isDefault ? "" : fmt(t.priority, { n: position + 1 }) }),
              el("button", {
                type: "button", class: "fl-title", text: label, "aria-label": fmt(t.edit, { name: `${card.title} · ${label}` }),
                "data-focus-key": `bcard-${name}-${branch.index}`, disabled: isDefault,
                onclick: () => this.select({ node: name, branch: branch.index }),
              })),
            el("p", { class: "fl-summary fl-when", text: when }));
          const problems = this.problems(`${name}#${branch.index}`);
          if (problems) {
            bcard.classList.add("fl-has-problems");
            bcard.append(problems);
          }
          if (!isDefault) {
            const tools = el("div", { class: "fl-branch-tools" });
            if (position > 0) tools.append(el("button", { type: "button", text: "↑", "aria-label": `${t.branch_up} · ${card.title} · ${label}`, "data-focus-key": `up-${name}-${position}`, onclick: () => this.moveBranch(name, branch.index, -1) }));
            if (position < count - 2) tools.append(el("button", { type: "button", text: "↓", "aria-label": `${t.branch_down} · ${card.title} · ${label}`, "data-focus-key": `down-${name}-${position}`, onclick: () => this.moveBranch(name, branch.index, 1) }));
            tools.append(el("button", { type: "button", text: "×", "aria-label": `${t.remove_branch} · ${card.title} · ${label}`, onclick: () => this.removeBranch(item, branch) }));
            bcard.append(tools);
          }
          column.append(bcard);
        } else {
          column.append(el("p", { class: "fl-branch-name", text: fmt(t.branch, { n: position + 1 }) }),
            el("button", { type: "button", class: "fl-remove-branch", text: "× " + t.remove_branch, "aria-label": `${t.remove_branch} ${position + 1} · ${card.title}`, onclick: () => this.removeBranch(item, branch) }));
          const problems = this.problems(`${name}#${branch.index}`);
          if (problems) column.append(problems);
        }
        column.append(this.chain(branch, `${name}-${branch.index}`));
        row.append(column);
      });
      box.append(head, row);
      return box;
    }

    plus(point, key) {
      const t = this.t;
      const wrap = el("div", { class: "fl-plus-wrap" });
      const menu = el("div", { class: "fl-menu", role: "group", "aria-label": t.add, hidden: true });
      const toggle = el("button", {
        type: "button", class: "fl-plus", text: "+", "aria-label": t.add, "aria-expanded": "false",
        "data-focus-key": `plus-${key}`, "data-point": key,
        onclick: () => {
          menu.hidden = !menu.hidden;
          toggle.setAttribute("aria-expanded", String(!menu.hidden));
          if (!menu.hidden) menu.querySelector("button").focus();
        },
      });
      for (const kind of ["approval", "cc", "condition", "parallel", "action"]) {
        menu.append(el("button", {
          type: "button", class: `fl-add-${kind}`, text: t[`add_${kind}`],
          onclick: () => this.insert(point, kind),
        }));
      }
      menu.addEventListener("keydown", (event) => {
        if (event.key === "Escape") { menu.hidden = true; toggle.focus(); }
      });
      wrap.append(toggle, menu);
      return wrap;
    }

    // -- editing the document --------------------------------------------------------------------

    freshName(base) {
      let name = base;
      for (let i = 2; name in this.doc.nodes; i += 1) name = `${base}_${i}`;
      return name;
    }

    newNode(kind, next) {
      const node = { approval: { type: "approval", approvers: [] }, cc: { type: "cc", to: [] }, action: { type: "action", actions: [] } }[kind];
      if (next) node.next = next;
      const name = this.freshName(kind === "approval" ? "approve" : kind);
      this.doc.nodes[name] = node;
      return name;
    }

    insert(point, kind) {
      const target = point.target;
      let name;
      if (kind === "condition") {
        if (!target) { this.say(this.t.condition_needs_next, true); return; }
        name = this.freshName("condition");
        this.doc.nodes[name] = { type: "condition", branches: [{ when: "", next: target }], default: target };
      } else if (kind === "parallel") {
        name = this.freshName("parallel");
        this.doc.nodes[name] = { type: "parallel", branches: [] };
        const first = this.newNode("approval", null);
        const second = this.newNode("approval", null);
        this.doc.nodes[name].branches = [first, second];
        if (target) this.doc.nodes[name].next = target;
      } else {
        name = this.newNode(kind, target);
      }
      for (const parts of point.links) setAt(this.doc, parts, name);
      this.selected = kind === "condition" ? { node: name, branch: 0 } : { node: name };
      this.changed(true).then(() => {
        this.renderPanel();
        const title = this.canvas.querySelector(`[data-focus-key="card-${CSS.escape(name)}"]`);
        if (title) title.focus();
      });
    }

    linksTo(name) {
      const found = [];
      if (this.doc.start === name) found.push(["start"]);
      for (const [source, node] of Object.entries(this.doc.nodes)) {
        if (node.next === name) found.push(["nodes", source, "next"]);
        if (node.default === name) found.push(["nodes", source, "default"]);
        (node.branches || []).forEach((branch, i) => {
          if (branch === name) found.push(["nodes", source, "branches", i]);
          else if (branch && branch.next === name) found.push(["nodes", source, "branches", i, "next"]);
        });
      }
      return found;
    }

    relink(name, to) {
      // Parallel branch entries are removed from the end so the indexes stay right.
      const links = this.linksTo(name).reverse();
      for (const parts of links) setAt(this.doc, parts, to || null);
    }

    remove(name) {
      const node = this.doc.nodes[name];
      if (!node) return;
      this.relink(name, node.next || null);
      delete this.doc.nodes[name];
      if (this.selected && this.selected.node === name) this.selected = null;
      this.renderPanel();
      this.changed(true);
    }

    findItem(chain, name) {
      for (const item of chain.items) {
        if (item.name === name && item.kind !== "goto") return item;
        for (const branch of item.branches || []) {
          const found = this.findItem(branch, name);
          if (found) return found;
        }
      }
      return null;
    }

    removeBlock(item) {
      const inside = new Set();
      for (const branch of item.branches) namesIn(branch, inside);
      const after = item.after ? item.after.target : null;
      for (const name of inside) delete this.doc.nodes[name];
      this.relink(item.name, after);
      delete this.doc.nodes[item.name];
      this.selected = null;
      this.renderPanel();
      this.changed(true);
    }

    removeBranch(item, branch) {
      const node = this.doc.nodes[item.name];
      for (const name of namesIn(branch, new Set())) delete this.doc.nodes[name];
      node.branches.splice(branch.index, 1);
      if (item.kind === "condition" && !node.branches.length) {
        // Only the default is left: the condition has nothing to choose and gives way to it.
        this.relink(item.name, node.default);
        delete this.doc.nodes[item.name];
      }
      this.selected = null;
      this.renderPanel();
      this.changed(true);
    }

    addBranch(item) {
      const node = this.doc.nodes[item.name];
      if (item.kind === "condition") {
        const target = item.after ? item.after.target : node.default;
        node.branches.push({ when: "", next: target });
        this.selected = { node: item.name, branch: node.branches.length - 1 };
      } else {
        const first = this.newNode("approval", null);
        node.branches.push(first);
        this.selected = { node: first };
      }
      this.changed(true).then(() => this.renderPanel());
    }

    moveBranch(name, index, by) {
      const branches = this.doc.nodes[name].branches;
      const other = index + by;
      [branches[index], branches[other]] = [branches[other], branches[index]];
      const position = other;
      this.changed(true).then(() => {
        // The moved branch keeps the focus: on the same arrow, or the other one once it is first or last.
        const keys = [by < 0 ? "up" : "down", by < 0 ? "down" : "up", "bcard"];
        const button = keys.map((key) => this.canvas.querySelector(`[data-focus-key="${key}-${CSS.escape(name)}-${position}"]`)).find(Boolean);
        if (button) button.focus();
      });
    }

    // -- the side panel --------------------------------------------------------------------------

    select(what) {
      this.selected = what;
      this.renderPanel();
      if (this.view) this.render();
      const panel = document.getElementById("fl-panel");
      const first = panel.querySelector("input, select, textarea, button");
      if (first) first.focus();
    }

    renderPanel() {
      const panel = document.getElementById("fl-panel");
      const title = document.getElementById("fl-panel-title");
      const body = document.getElementById("fl-panel-body");
      const t = this.t;
      body.replaceChildren();
      const what = this.selected;
      if (!what || (what.node && !this.doc.nodes[what.node])) {
        panel.hidden = true;
        return;
      }
      panel.hidden = false;
      const close = el("button", { type: "button", class: "fl-close", text: t.close, onclick: () => { this.selected = null; this.renderPanel(); this.render(); } });
      if (what.settings) {
        title.textContent = t.settings;
        this.settingsPanel(body);
      } else {
        const node = this.doc.nodes[what.node];
        title.textContent = this.view && this.view.cards[what.node] ? this.view.cards[what.node].title : what.node;
        if (what.branch !== undefined && node.type === "condition") this.branchPanel(body, what.node, node, what.branch);
        else this.nodePanel(body, what.node, node);
      }
      body.append(close);
    }

    // -- saving, publishing, simulating, versions -------------------------------------------------

    saveDraft() {
      return postJSON(this.root.dataset.draft, { document: this.doc }).then(({ status, data }) => {
        this.say(status === 200 ? data.message : (data.error || this.t.check_failed), status !== 200);
        if (status === 200) this.root.querySelector(".fl-state").textContent = this.t.saved;
      }, () => this.say(this.t.check_failed, true));
    }

    publish() {
      return postJSON(this.root.dataset.publish, { document: this.doc }).then(({ status, data }) => {
        if (status === 200) {
          this.say(data.message);
          this.root.querySelector(".fl-state").textContent = this.t.published;
          this.loadVersions();
          return;
        }
        this.say(data.error || this.t.check_failed, true);
        if (data.problems && this.view) {
          this.view.problems = data.problems;
          this.view.general = data.general || [];
          this.render();
        }
      }, () => this.say(this.t.check_failed, true));
    }

    findRecords(q) {
      const select = document.getElementById("fl-sim-record");
      getJSON(`${this.root.dataset.records}?q=${encodeURIComponent(q)}`).then((data) => {
        const chosen = select.value;
        select.replaceChildren(el("option", { value: "", text: this.t.choose }));
        for (const record of data.records || []) {
          const text = `#${record.id} ${record.title}` + (record.detail ? ` · ${record.detail}` : "");
          select.append(el("option", { value: record.id, text, selected: String(record.id) === chosen }));
        }
      }, () => this.say(this.t.check_failed, true));
    }

    simulate() {
      const t = this.t;
      const result = document.getElementById("fl-sim-result");
      const record = document.getElementById("fl-sim-record").value;
      const submitter = document.getElementById("fl-sim-submitter").value;
      result.replaceChildren(el("p", { text: t.simulating }));
      postJSON(this.root.dataset.simulate, { document: this.doc, record_id: record, submitter }).then(({ status, data }) => {
        result.replaceChildren();
        if (status !== 200) {
          result.append(el("p", { class: "fl-bad-text", role: "alert", text: data.error || t.check_failed }));
          this.simulated = null;
          this.render();
          return;
        }
        this.simulated = new Map();
        const list = el("ol", { class: "fl-sim-path" });
        data.path.forEach((step, i) => {
          this.simulated.set(step.node, step.approvers);
          const node = this.doc.nodes[step.node];
          if (node && node.type === "condition") {
            const next = data.path[i + 1] && data.path[i + 1].node;
            const index = node.branches.findIndex((branch) => branch.next === next);
            this.simulated.set(`${step.node}#${index >= 0 ? index : "default"}`, true);
          }
          const who = step.approvers.length ? " · " + fmt(t.asked, { who: step.approvers.join("、") }) : "";
          list.append(el("li", { "data-node": step.node, text: this.title(step.node) + who }));
        });
        result.append(list, el("p", { class: "fl-outcome", text: fmt(t.outcome_is, { outcome: data.outcome }) }));
        this.render();
      }, () => result.replaceChildren(el("p", { text: t.check_failed })));
    }

    loadVersions() {
      const t = this.t;
      const list = document.getElementById("fl-versions");
      getJSON(this.root.dataset.versions).then((data) => {
        list.replaceChildren();
        if (!data.versions || !data.versions.length) list.append(el("li", { text: t.versions_none }));
        const count = (data.versions || []).length;
        for (const [i, version] of (data.versions || []).entries()) {
          const line = fmt(t.version_line, { ...version, number: count - i }) + (version.current ? ` · ${t.current}` : "");
          list.append(el("li", { class: version.current ? "fl-current" : "", "data-revision": version.revision, text: line }));
        }
      }, () => list.replaceChildren(el("li", { text: t.check_failed })));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-flow-designer]");
    if (root) window.loomFlowDesigner = new FlowDesigner(root);
  });
})();
