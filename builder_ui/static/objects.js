/* The object designer: edits the draft object document in the page, then posts it for a plan. */
(function () {
  "use strict";
  var form = document.getElementById("designer");
  if (!form) return;
  var textarea = document.getElementById("od-document");
  var list = document.getElementById("od-field-list");
  var props = document.getElementById("od-props");
  var texts = JSON.parse(document.getElementById("od-texts").textContent);
  var targets = JSON.parse(document.getElementById("od-targets").textContent);
  var related = JSON.parse(document.getElementById("od-related").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var creating = form.dataset.creating === "1";
  var draft = JSON.parse(textarea.value);
  var selected = -1;
  var problems = {};
  var nameTouched = !creating;
  var autoNamed = new WeakSet();  // new fields whose name still follows their English label

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function safeName(text, fallback, taken) {
    var base = (text || "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 58);
    if (!/^[a-z]/.test(base)) base = fallback;
    var name = base, n = 2;
    while (taken.indexOf(name) >= 0) { name = base + "_" + n; n += 1; }
    return name;
  }

  function label(item) {
    var l = item.label || {};
    return (document.documentElement.lang === "en" ? l.en || l.zh_CN : l.zh_CN || l.en) || item.name;
  }

  function sync() {
    textarea.value = JSON.stringify(draft, null, 1);
  }

  function get(obj, path) {
    return path.split(".").reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }

  function set(obj, path, value) {
    var keys = path.split(".");
    var last = keys.pop();
    var target = keys.reduce(function (o, k) { if (typeof o[k] !== "object" || o[k] === null) o[k] = {}; return o[k]; }, obj);
    if (value === "" || value === undefined || value === false) delete target[last];
    else target[last] = value;
  }

  /* -- the object's own properties ---------------------------------------------------------- */
  form.querySelectorAll(".od-object [data-path]").forEach(function (input) {
    var path = input.dataset.path;
    if (input.hasAttribute("data-title-field")) return;
    var value = get(draft, path);
    input.value = value == null ? "" : value;
    input.addEventListener("input", function () {
      var v = input.type === "number" ? (input.value === "" ? "" : parseInt(input.value, 10)) : input.value;
      if (path === "name") nameTouched = input.value !== "";
      set(draft, path, v);
      if (path === "label.en" && creating && !nameTouched) {
        var nameInput = form.querySelector('[data-path="name"]');
        nameInput.value = input.value ? safeName(input.value, "object", []) : "";
        set(draft, "name", nameInput.value);
      }
      sync();
    });
  });
  var titleSelect = form.querySelector("[data-title-field]");
  titleSelect.addEventListener("change", function () { set(draft, "title_field", titleSelect.value); sync(); });

  function renderTitleOptions() {
    var current = draft.title_field || "";
    titleSelect.textContent = "";
    (draft.fields || []).forEach(function (f) {
      var option = el("option", { value: f.name, text: label(f) });
      if (f.name === current) option.selected = true;
      titleSelect.appendChild(option);
    });
  }

  /* -- the field list ------------------------------------------------------------------------- */
  function announce(text) {
    var live = document.getElementById("od-live");
    if (live) live.textContent = text;
  }

  function move(index, by) {
    var to = index + by;
    if (to < 0 || to >= draft.fields.length) return;
    var item = draft.fields.splice(index, 1)[0];
    draft.fields.splice(to, 0, item);
    if (selected === index) selected = to;
    changed();
    announce(texts.moved + ": " + label(item));
    var buttons = list.children[to] && list.children[to].querySelector(by < 0 ? "[data-up]" : "[data-down]");
    if (buttons && !buttons.disabled) buttons.focus();
  }

  function addField(type, at) {
    var taken = draft.fields.map(function (f) { return f.name; });
    var item = { name: safeName("", "field_" + (draft.fields.length + 1), taken), type: type,
      label: { zh_CN: texts.new_field } };
    if (type === "select" || type === "multi_select") item.options = [];
    if (type === "lookup") item.target = (targets[0] || {}).name;
    if (type === "formula") { item.expression = ""; item.result = "text"; }
    if (type === "rollup") {
      var child = children()[0];
      item.source = child ? { object: child.name, via: lookupsHere(child)[0].name, "function": "count" } : { "function": "count" };
    }
    autoNamed.add(item);
    if (at === undefined || at < 0) at = draft.fields.length;
    draft.fields.splice(at, 0, item);
    selected = at;
    changed();
    announce(texts.added + ": " + type);
    var nameInput = props.querySelector("[data-prop='label.zh_CN']");
    if (nameInput) nameInput.focus();
  }

  function renderList() {
    list.textContent = "";
    draft.fields.forEach(function (f, index) {
      var mark = problemsAt("/fields/" + index).length ? " od-has-problem" : "";
      var item = el("li", { "class": "od-field" + (index === selected ? " od-selected" : "") + mark, "data-index": index }, [
        el("span", { "class": "od-handle", "aria-hidden": "true", text: "⋮⋮" }),
        el("button", { type: "button", "class": "link-button od-field-label", "aria-label": texts.edit + " " + label(f),
          onclick: function () { selected = index; renderProps(); renderList(); } , text: label(f) }),
        el("code", { text: f.name + " · " + f.type }),
        f.required ? el("span", { "class": "od-req", text: texts.required }) : null,
        el("span", { "class": "od-tools" }, [
          el("button", { type: "button", "class": "link-button", "data-up": "", "aria-label": texts.move_up + " " + label(f),
            text: "↑", onclick: function () { move(index, -1); } }),
          el("button", { type: "button", "class": "link-button", "data-down": "", "aria-label": texts.move_down + " " + label(f),
            text: "↓", onclick: function () { move(index, 1); } }),
          el("button", { type: "button", "class": "link-button", "aria-label": texts.remove + " " + label(f),
            text: "✕", onclick: function () {
              draft.fields.splice(index, 1);
              selected = -1;
              changed();
              announce(texts.removed + ": " + label(f));
            } })
        ])
      ]);
      item.querySelector("[data-up]").disabled = index === 0;
      item.querySelector("[data-down]").disabled = index === draft.fields.length - 1;
      list.appendChild(item);
    });
    renderTitleOptions();
  }

  /* -- the property panel --------------------------------------------------------------------- */
  function problemsAt(prefix) {
    var found = [];
    Object.keys(problems).forEach(function (path) {
      if (path === prefix || path.indexOf(prefix + "/") === 0) found = found.concat(problems[path]);
    });
    return found;
  }

  function input(f, path, text, type) {
    var id = "od-p-" + path.replace(/\./g, "-");
    var control;
    var value = get(f, path);
    if (type === "checkbox") {
      control = el("input", { id: id, type: "checkbox", "data-prop": path });
      control.checked = !!value;
      control.addEventListener("change", function () { set(f, path, control.checked); changed(true); });
      return el("label", { "class": "od-check", "for": id }, [control, document.createTextNode(" " + text)]);
    }
    control = el(type === "textarea" ? "textarea" : "input", { id: id, "data-prop": path });
    control.value = value == null ? "" : (typeof value === "object" ? JSON.stringify(value) : value);
    control.addEventListener("input", function () {
      set(f, path, control.value);
      if (path === "name") autoNamed.delete(f);
      if (path === "label.en" && autoNamed.has(f)) {
        var others = draft.fields.filter(function (o) { return o !== f; }).map(function (o) { return o.name; });
        f.name = safeName(control.value, "field_" + (draft.fields.indexOf(f) + 1), others);
        var nameInput = props.querySelector("[data-prop='name']");
        if (nameInput) nameInput.value = f.name;
      }
      changed(true);
    });
    return el("p", {}, [el("label", { "for": id, text: text }), control]);
  }

  function optionsEditor(f) {
    var box = el("fieldset", { "class": "od-options" }, [el("legend", { text: texts.options })]);
    var rows = el("ol");
    (f.options || []).forEach(function (option, i) {
      function field(key, cls, t) {
        var c = el("input", { "class": cls, "aria-label": t + " " + (i + 1), "data-option": key });
        c.value = key === "value" ? option.value || "" : key === "color" ? option.color || "#64748b" : (option.label || {})[key] || "";
        if (key === "color") c.type = "color";
        c.addEventListener("input", function () {
          if (key === "value" || key === "color") option[key] = c.value;
          else {
            option.label = option.label || {};
            if (c.value) option.label[key] = c.value; else delete option.label[key];
          }
          changed(true);
        });
        return c;
      }
      rows.appendChild(el("li", {}, [
        field("zh_CN", "od-o-label", texts.label_zh), field("en", "od-o-en", texts.label_en),
        field("value", "od-o-value", texts.option_value), field("color", "od-o-color", texts.option_color),
        el("button", { type: "button", "class": "link-button", text: "↑", "aria-label": texts.move_up, onclick: function () {
          if (i > 0) { f.options.splice(i - 1, 0, f.options.splice(i, 1)[0]); changed(); }
        } }),
        el("button", { type: "button", "class": "link-button", text: "✕", "aria-label": texts.remove, onclick: function () {
          f.options.splice(i, 1); changed();
        } })
      ]));
    });
    box.appendChild(rows);
    box.appendChild(el("button", { type: "button", "class": "link-button", "data-add-option": "", text: texts.add_option, onclick: function () {
      f.options = f.options || [];
      var taken = f.options.map(function (o) { return o.value; });
      f.options.push({ value: safeName("", "option_" + (f.options.length + 1), taken), label: {} });
      changed();
      var inputs = props.querySelectorAll(".od-o-label");
      if (inputs.length) inputs[inputs.length - 1].focus();
    } }));
    return box;
  }

  /* -- a roll-up's source: which related records, how they are aggregated ------------------------ */
  var FUNCTIONS = ["count", "sum", "min", "max", "avg"];
  var SOURCE_KEYS = ["object", "via", "function", "field", "filter", "scope"];
  var explicitAll = new WeakSet();  // roll-ups whose stored source names scope "all" itself

  function lookupsHere(child) {
    return child.lookups.filter(function (l) { return l.target === draft.name; });
  }

  function children() {
    return related.filter(function (o) { return lookupsHere(o).length > 0; });
  }

  function aggregatable(child, fn) {
    if (!child || fn === "count") return [];
    // sum and avg add numbers; min and max also find the earliest or latest date.
    var dates = fn === "min" || fn === "max";
    return child.fields.filter(function (c) { return c.kind === "number" || dates; });
  }

  function choice(id, text, items, current, onchange) {
    var select = el("select", { id: id, "data-prop": id.replace("od-p-", "") });
    if (!items.some(function (i) { return i.value === current; })) {
      select.appendChild(el("option", { value: "", text: current ? current : texts.choose }));
    }
    items.forEach(function (i) {
      var option = el("option", { value: i.value, text: i.label });
      if (i.value === current) option.selected = true;
      select.appendChild(option);
    });
    select.addEventListener("change", function () { onchange(select.value); });
    return el("p", {}, [el("label", { "for": id, text: text }), select]);
  }

  function rollupEditor(f) {
    var box = el("fieldset", { "class": "od-rollup" }, [el("legend", { text: texts.source })]);
    if (typeof f.source !== "object" || f.source === null || Array.isArray(f.source)) f.source = { "function": "count" };
    var source = f.source;

    function write(again) {
      // The same keys, in the same order, as a package file writes them.
      var ordered = {};
      SOURCE_KEYS.forEach(function (key) { if (source[key] !== undefined && source[key] !== "") ordered[key] = source[key]; });
      f.source = source = ordered;
      changed(true);
      if (again) draw();
    }

    function fit() {
      var child = related.filter(function (o) { return o.name === source.object; })[0];
      var vias = child ? lookupsHere(child) : [];
      if (child && !vias.some(function (l) { return l.name === source.via; })) source.via = vias.length ? vias[0].name : undefined;
      var fields = aggregatable(child, source["function"]);
      if (source["function"] === "count") delete source.field;
      else if (child && !fields.some(function (c) { return c.name === source.field; })) source.field = fields.length ? fields[0].name : undefined;
    }

    function draw() {
      while (box.children.length > 1) box.removeChild(box.lastChild);
      var options = children();
      var child = related.filter(function (o) { return o.name === source.object; })[0];
      if (!options.length) box.appendChild(el("p", { "class": "od-hint", text: texts.no_children }));
      box.appendChild(choice("od-p-rollup-object", texts.child,
        options.map(function (o) { return { value: o.name, label: o.label }; }), source.object || "",
        function (value) { source.object = value; fit(); write(true); }));
      box.appendChild(choice("od-p-rollup-via", texts.via,
        (child ? lookupsHere(child) : []).map(function (l) { return { value: l.name, label: l.label }; }), source.via || "",
        function (value) { source.via = value; write(); }));
      box.appendChild(choice("od-p-rollup-function", texts["function"],
        FUNCTIONS.map(function (fn) { return { value: fn, label: texts["fn_" + fn] }; }), source["function"] || "",
        function (value) { source["function"] = value; fit(); write(true); }));
      if (source["function"] && source["function"] !== "count") {
        box.appendChild(choice("od-p-rollup-field", texts.aggregated,
          aggregatable(child, source["function"]).map(function (c) { return { value: c.name, label: c.label }; }),
          source.field || "", function (value) { source.field = value; write(); }));
      }
      var filter = el("input", { id: "od-p-rollup-filter", "data-prop": "source.filter", spellcheck: "false",
        "aria-describedby": "od-rollup-filter-check" });
      filter.value = source.filter || "";
      filter.addEventListener("input", function () { source.filter = filter.value.trim(); write(); });
      box.appendChild(el("p", {}, [el("label", { "for": "od-p-rollup-filter", text: texts.filter }), filter,
        el("span", { "class": "od-filter-check", id: "od-rollup-filter-check", "aria-live": "polite" })]));
      box.appendChild(choice("od-p-rollup-scope", texts.scope,
        [{ value: "all", label: texts.scope_all }, { value: "reader", label: texts.scope_reader }], source.scope || "all",
        function (value) {
          // "all" is the default: a source that never named its scope keeps not naming it.
          source.scope = value === "all" && !explicitAll.has(f) ? undefined : value;
          write();
        }));
      showProblems();
    }

    // An existing source is shown as it is stored; only the admin's own choices change it.
    if (source.scope === "all") explicitAll.add(f);
    draw();
    return box;
  }

  /* A field's type, changed in place: a saved field's plan then converts its column (or names the
     records whose values would not convert). Settings of the old type that the new one has not
     are dropped; what every field has stays. */
  var paletteTypes = Array.prototype.map.call(document.querySelectorAll("#od-palette li[data-type]"), function (item) {
    return { name: item.dataset.type, label: item.querySelector(".od-type-name").textContent };
  });
  var commonKeys = JSON.parse(document.getElementById("od-palette").dataset.commonKeys || "[]");

  function typeChooser(f) {
    var select = el("select", { id: "od-p-type", "data-prop": "type" });
    paletteTypes.forEach(function (t) {
      var option = el("option", { value: t.name, text: t.label + " (" + t.name + ")" });
      if (t.name === f.type) option.selected = true;
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      var choices = /select$/.test(select.value) && /select$/.test(f.type) ? f.options : undefined;
      Object.keys(f).forEach(function (key) { if (commonKeys.indexOf(key) < 0) delete f[key]; });
      f.type = select.value;
      if (choices) f.options = choices;
      changed();
      document.getElementById("od-p-type").focus();
    });
    return el("p", { "class": "od-type" }, [el("label", { "for": "od-p-type", text: texts.type }), select]);
  }

  function renderProps() {
    props.textContent = "";
    form.querySelector("[data-empty]").hidden = selected >= 0;
    if (selected < 0 || !draft.fields[selected]) return;
    var f = draft.fields[selected];
    props.appendChild(typeChooser(f));
    props.appendChild(input(f, "label.zh_CN", texts.label_zh));
    props.appendChild(input(f, "label.en", texts.label_en));
    props.appendChild(input(f, "name", texts.api_name));
    if (f.type !== "formula" && f.type !== "rollup") {
      props.appendChild(input(f, "required", texts.required, "checkbox"));
      props.appendChild(input(f, "unique", texts.unique, "checkbox"));
      props.appendChild(input(f, "default", texts["default"]));
    }
    if (f.type === "select" || f.type === "multi_select") props.appendChild(optionsEditor(f));
    if (f.type === "lookup") {
      var select = el("select", { id: "od-p-target", "data-prop": "target" });
      targets.forEach(function (t) {
        var option = el("option", { value: t.name, text: t.label });
        if (t.name === f.target) option.selected = true;
        select.appendChild(option);
      });
      select.addEventListener("change", function () { f.target = select.value; changed(true); });
      props.appendChild(el("p", {}, [el("label", { "for": "od-p-target", text: texts.target }), select]));
    }
    if (f.type === "formula") {
      props.appendChild(input(f, "expression", texts.expression, "textarea"));
      props.appendChild(input(f, "result", texts.result));
    }
    if (f.type === "rollup") props.appendChild(rollupEditor(f));
    props.appendChild(input(f, "help.zh_CN", texts.help_zh));
    props.appendChild(input(f, "help.en", texts.help_en));
    props.appendChild(el("div", { "class": "od-check-result", id: "od-check", role: "status" }));
    props.appendChild(el("p", { "class": "od-preview", id: "od-preview", "aria-live": "polite" }));
    showProblems();
  }

  function showProblems() {
    var box = document.getElementById("od-check");
    if (!box || selected < 0) return;
    var found = problemsAt("/fields/" + selected);
    var filterBox = document.getElementById("od-rollup-filter-check");
    if (filterBox) {
      var wrong = problemsAt("/fields/" + selected + "/source/filter");
      var filterInput = document.getElementById("od-p-rollup-filter");
      filterBox.textContent = wrong.length ? wrong.join("; ") : (checkedOnce && filterInput.value ? texts.valid_filter : "");
      filterBox.className = "od-filter-check " + (wrong.length ? "od-bad" : "od-good");
      if (wrong.length) filterInput.setAttribute("aria-invalid", "true"); else filterInput.removeAttribute("aria-invalid");
    }
    box.textContent = "";
    box.className = "od-check-result " + (found.length ? "od-bad" : "od-good");
    if (!found.length) { box.textContent = checkedOnce ? texts.no_problems : ""; return; }
    var ul = el("ul");
    found.forEach(function (message) { ul.appendChild(el("li", { text: message })); });
    box.appendChild(ul);
  }

  /* -- live check ----------------------------------------------------------------------------- */
  var timer = null, checkedOnce = false, asked = 0;
  function check() {
    var ask = ++asked;
    fetch(form.dataset.checkUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ document: draft, field: selected })
    }).then(function (r) { return r.ok ? r.json() : { problems: {} }; }).then(function (data) {
      if (ask !== asked) return;
      problems = data.problems || {};
      checkedOnce = true;
      showProblems();
      var box = document.getElementById("od-preview");
      if (box) {
        var p = data.preview;
        box.textContent = p ? texts.preview + " (#" + p.record + " " + p.title + "): " + p.value : "";
      }
      list.querySelectorAll(".od-field").forEach(function (item) {
        item.classList.toggle("od-has-problem", problemsAt("/fields/" + item.dataset.index).length > 0);
      });
    }).catch(function () { /* the plan still checks everything when saving */ });
  }

  function changed(keepPanel) {
    sync();
    renderList();
    if (!keepPanel) renderProps();
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }

  textarea.addEventListener("change", function () {
    try { draft = JSON.parse(textarea.value); textarea.removeAttribute("aria-invalid"); selected = -1; renderList(); renderProps(); }
    catch (e) { textarea.setAttribute("aria-invalid", "true"); }
  });

  /* -- palette: drag or add ------------------------------------------------------------------- */
  form.querySelectorAll("[data-add]").forEach(function (button) {
    button.addEventListener("click", function () { addField(button.dataset.add); });
  });
  form.querySelectorAll("[data-restore]").forEach(function (button) {
    button.addEventListener("click", function () {
      var spec = JSON.parse(button.dataset.restore);
      draft.fields.push(spec);
      selected = draft.fields.length - 1;
      button.closest("li").remove();
      changed();
    });
  });
  if (window.Sortable) {
    window.Sortable.create(document.getElementById("od-palette"), {
      group: { name: "od-fields", pull: "clone", put: false }, sort: false, handle: ".od-type-name",
      forceFallback: true
    });
    window.Sortable.create(list, {
      group: { name: "od-fields", pull: false, put: true }, handle: ".od-handle", animation: 120,
      forceFallback: true,
      onAdd: function (event) {
        var type = event.item.dataset.type;
        event.item.remove();
        addField(type, event.newIndex);
      },
      onEnd: function (event) {
        if (event.from !== list || event.oldIndex === event.newIndex) return;
        var item = draft.fields.splice(event.oldIndex, 1)[0];
        draft.fields.splice(event.newIndex, 0, item);
        selected = event.newIndex;
        changed();
      }
    });
  }

  form.appendChild(el("p", { id: "od-live", "class": "sr-only", "aria-live": "polite" }));
  form.addEventListener("submit", sync);
  var plan = document.getElementById("plan");
  if (plan) plan.focus();
  renderList();
  renderProps();
})();
