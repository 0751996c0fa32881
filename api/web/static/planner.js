/* The planner's pages: sign in (token in sessionStorage, shared with the other pages), upload a
   registry, write a plan in a form, draw it, then on a draw's page: charts, recusals, results,
   the Excel export (a leader publishes on /leader). Vanilla JS, the JSON API only. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("page-texts").textContent);
  var DATA = JSON.parse(document.getElementById("page-data").textContent);
  var KEY = "randinspect.token";
  var $ = function (id) { return document.getElementById(id); };
  var tr = function (k) { return T[k] || k; };
  var label = function (prefix, value) { return T[prefix + value] || value; };  // stages, statuses

  function token() { return sessionStorage.getItem(KEY); }

  var api = window.RI.api;  // session.js: the JSON API with the bearer token
  var el = window.RI.el;  // session.js: build an element

  function errorText(res) {
    var d = res.data;
    if (d && typeof d === "object") {
      if (Array.isArray(d.reasons) && d.reasons.length) return d.detail + ": " + d.reasons.join("; ");
      if (Array.isArray(d.problems) && d.problems.length) return d.problems.map(function (p) { return p.text; }).join("; ");
      if (Array.isArray(d.detail)) {
        return d.detail.map(function (e) { return (e.loc || []).join(".") + ": " + e.msg; }).join("; ");
      }
      if (d.detail) return String(d.detail);
    }
    return tr("pl_error") + " (" + res.status + ")";
  }

  function problemsTable(container, title, problems) {
    container.textContent = "";
    if (!problems || !problems.length) return;
    var tbody = el("tbody");
    problems.forEach(function (p) {
      tbody.appendChild(el("tr", {}, [
        el("td", { text: p.file || "" }), el("td", { text: p.row == null ? "" : String(p.row) }),
        el("td", { text: p.column || "" }), el("td", { text: p.message || p.text || "" })
      ]));
    });
    container.appendChild(el("p", { className: "error", text: title }));
    container.appendChild(el("table", { className: "problems" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: tr("pl_file") }), el("th", { text: tr("pl_row") }),
        el("th", { text: tr("pl_column") }), el("th", { text: tr("pl_message") })])]), tbody
    ]));
  }

  function setMsg(node, text, ok) {
    node.textContent = text || "";
    node.className = ok ? "ok" : (text ? "error" : "");
  }

  // ------------------------------------------------------------------ sign-in

  function startCookie() {
    // The report iframe cannot send a bearer header: the server copies the token into an
    // HttpOnly cookie scoped to /planner.
    return api("POST", "/planner/session");
  }

  function signedOut(message) {
    sessionStorage.removeItem(KEY);
    $("workspace").hidden = true;
    if ($("login-form")) $("login-form").hidden = false;
    var msg = $("login-msg");
    if (message) { msg.textContent = message; msg.hidden = false; } else { msg.hidden = true; }
  }

  function checkSignedIn(onReady) {
    if (!token()) { signedOut(DATA.draw_id ? tr("pl_sign_in_first") : ""); return; }
    api("GET", "/api/me").then(function (res) {
      if (!res.ok) { signedOut(tr("pl_sign_in_first")); return; }
      if (res.data.role !== "planner") { signedOut(tr("pl_need_planner")); return; }
      startCookie().then(function () {
        if ($("login-form")) $("login-form").hidden = true;
        $("login-msg").hidden = true;
        $("workspace").hidden = false;
        if ($("who")) $("who").textContent = res.data.username;
        onReady();
      });
    });
  }

  function wireLogin(onReady) {
    var form = $("login-form");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = new URLSearchParams({ username: $("username").value, password: $("password").value });
      api("POST", "/api/login", body).then(function (res) {
        if (!res.ok) { signedOut(tr("pl_login_failed")); return; }
        sessionStorage.setItem(KEY, res.data.access_token);
        checkSignedIn(onReady);
      });
    });
    $("logout-btn").addEventListener("click", function () {
      api("POST", "/api/logout").then(function () {
        return fetch("/planner/session", { method: "DELETE" });
      }).then(function () { signedOut(""); });
    });
  }

  // ------------------------------------------------------------------ registry

  var SUMMARY_TABLES = ["agencies", "enterprises", "inspectors", "conflicts", "history", "leave", "items"];

  function showSummary(reg) {
    var box = $("registry-summary");
    box.textContent = "";
    var s = reg.summary || {};
    box.appendChild(el("p", { className: "ok", text: tr("pl_registry_ok") + ": #" + reg.id + " " + reg.name }));
    var tbody = el("tbody");
    SUMMARY_TABLES.forEach(function (k) {
      tbody.appendChild(el("tr", { "data-table": k }, [el("td", { text: k }), el("td", { text: String(s[k] == null ? "" : s[k]) })]));
    });
    var risk = s.enterprises_by_risk_class || {};
    tbody.appendChild(el("tr", {}, [el("td", { text: tr("pl_by_risk") }),
      el("td", { text: Object.keys(risk).map(function (c) { return c + ": " + risk[c]; }).join("，") })]));
    tbody.appendChild(el("tr", {}, [el("td", { text: tr("pl_key_area") }), el("td", { text: String(s.key_area_enterprises || 0) })]));
    tbody.appendChild(el("tr", {}, [el("td", { text: tr("pl_departments") }), el("td", { text: (s.departments || []).join("，") })]));
    box.appendChild(el("table", { id: "summary-table" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: tr("pl_table") }), el("th", { text: tr("pl_rows") })])]), tbody
    ]));
  }

  function loadRegistries(selectId) {
    return api("GET", "/api/registries").then(function (res) {
      if (!res.ok) return;
      var sel = $("plan-registry");
      sel.textContent = "";
      res.data.forEach(function (r) {
        sel.appendChild(el("option", { value: String(r.id), text: "#" + r.id + " " + r.name + " (" + (r.summary.enterprises || 0) + ")" }));
      });
      if (selectId) sel.value = String(selectId);
    });
  }

  function wireRegistry() {
    $("registry-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fd = new FormData();
      fd.append("name", $("registry-name").value);
      Array.prototype.forEach.call($("registry-files").files, function (f) { fd.append("files", f, f.name); });
      setMsg($("registry-msg"), tr("pl_uploading"), true);
      $("registry-problems").textContent = "";
      $("registry-summary").textContent = "";
      $("registry-upload").disabled = true;
      api("POST", "/api/registries", fd).then(function (res) {
        $("registry-upload").disabled = false;
        if (res.ok) {
          setMsg($("registry-msg"), "", true);
          showSummary(res.data);
          loadRegistries(res.data.id);
        } else if (res.data && res.data.problems && res.data.problems.length) {
          setMsg($("registry-msg"), "", false);
          problemsTable($("registry-problems"), tr("pl_problems"), res.data.problems);
        } else {
          setMsg($("registry-msg"), errorText(res), false);
        }
      });
    });
  }

  // ------------------------------------------------------------------ plan form

  function splitList(text) {
    return String(text || "").split(/[;；,，\s]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function field(box, name) { return box.querySelector('[data-field="' + name + '"]'); }

  function setMode(box) {
    var mode = field(box, "mode").value;
    box.querySelectorAll(".per-class").forEach(function (n) { n.hidden = mode === "count"; });
    box.querySelector(".total").hidden = mode !== "count";
    box.querySelectorAll("[data-class]").forEach(function (n) { n.step = mode === "ratio" ? "any" : "1"; });
  }

  function renumber() {
    document.querySelectorAll("#tasks fieldset.task").forEach(function (f, i) {
      f.querySelector(".task-no").textContent = String(i + 1);
      f.setAttribute("data-index", String(i));
    });
  }

  function addTask(task) {
    var frag = $("task-template").content.cloneNode(true);
    var box = frag.querySelector("fieldset.task");
    $("tasks").appendChild(frag);
    field(box, "mode").addEventListener("change", function () { setMode(box); });
    box.querySelector(".remove-task").addEventListener("click", function () { box.remove(); renumber(); });
    if (task) fillTask(box, task);
    setMode(box);
    renumber();
    return box;
  }

  function listText(v) { return Array.isArray(v) ? v.join(";") : (v == null ? "" : String(v)); }

  function fillTask(box, t) {
    ["task_id", "name", "agency_id", "specialty"].forEach(function (k) { field(box, k).value = t[k] == null ? "" : String(t[k]); });
    field(box, "joint_agencies").value = listText(t.joint_agencies);
    field(box, "items").value = listText(t.items);
    field(box, "staffing").value = t.staffing || "lead";
    var pop = t.population || {};
    field(box, "region_prefix").value = pop.region_prefix || "";
    field(box, "industries").value = listText(pop.industries);
    var classes = pop.risk_classes || ["A", "B", "C", "D"];
    box.querySelectorAll("[data-risk]").forEach(function (n) { n.checked = classes.indexOf(n.getAttribute("data-risk")) >= 0; });
    var per = null;
    if (t.ratio) { field(box, "mode").value = "ratio"; per = t.ratio; }
    else if (t.count != null && typeof t.count === "object") { field(box, "mode").value = "count_per_class"; per = t.count; }
    else if (t.count != null) { field(box, "mode").value = "count"; field(box, "count").value = String(t.count); }
    if (per) box.querySelectorAll("[data-class]").forEach(function (n) {
      var c = n.getAttribute("data-class");
      n.value = per[c] == null ? "" : String(per[c]);
    });
    var w = t.window || {};
    field(box, "window_start").value = w.start || "";
    field(box, "window_end").value = w.end || "";
  }

  function readTask(box) {
    var t = { task_id: field(box, "task_id").value.trim(), agency_id: field(box, "agency_id").value.trim() };
    var name = field(box, "name").value.trim();
    if (name) t.name = name;
    var joint = splitList(field(box, "joint_agencies").value);
    if (joint.length) t.joint_agencies = joint;
    t.items = splitList(field(box, "items").value);
    var spec = field(box, "specialty").value.trim();
    if (spec) t.specialty = spec;
    t.staffing = field(box, "staffing").value;
    var pop = {};
    var prefix = field(box, "region_prefix").value.trim();
    if (prefix) pop.region_prefix = prefix;
    var ind = splitList(field(box, "industries").value);
    if (ind.length) pop.industries = ind;
    pop.risk_classes = [];
    box.querySelectorAll("[data-risk]").forEach(function (n) { if (n.checked) pop.risk_classes.push(n.getAttribute("data-risk")); });
    t.population = pop;
    var mode = field(box, "mode").value;
    if (mode === "count") {
      t.count = parseInt(field(box, "count").value, 10);
    } else {
      var per = {};
      box.querySelectorAll("[data-class]").forEach(function (n) {
        var c = n.getAttribute("data-class");
        if (n.value !== "" && pop.risk_classes.indexOf(c) >= 0) per[c] = mode === "ratio" ? parseFloat(n.value) : parseInt(n.value, 10);
      });
      if (mode === "ratio") t.ratio = per; else t.count = per;
    }
    t.window = { start: field(box, "window_start").value, end: field(box, "window_end").value };
    return t;
  }

  function readSpec() {
    var policy = {};
    document.querySelectorAll("[data-policy]").forEach(function (n) {
      var k = n.getAttribute("data-policy");
      if (n.type === "checkbox") policy[k] = n.checked;
      else if (k === "pair_probability_cap") policy[k] = parseFloat(n.value);
      else policy[k] = parseInt(n.value, 10);
    });
    var tasks = [];
    document.querySelectorAll("#tasks fieldset.task").forEach(function (box) { tasks.push(readTask(box)); });
    return { quarter: $("plan-quarter").value.trim(), policy: policy, tasks: tasks };
  }

  function fillSpec(spec) {
    if (spec.quarter) $("plan-quarter").value = String(spec.quarter);
    var pol = spec.policy || {};
    document.querySelectorAll("[data-policy]").forEach(function (n) {
      var k = n.getAttribute("data-policy");
      var v = pol[k] == null ? DATA.policy[k] : pol[k];
      if (n.type === "checkbox") n.checked = !!v; else n.value = String(v);
    });
    $("tasks").textContent = "";
    (spec.tasks || []).forEach(function (t) { addTask(t); });
  }

  var currentPlan = null;

  function wirePlan() {
    $("add-task").addEventListener("click", function () { addTask(null); });
    $("plan-file").addEventListener("change", function () {
      var f = $("plan-file").files[0];
      if (!f) return;
      var fd = new FormData();
      fd.append("file", f, f.name);
      api("POST", "/planner/plan-file", fd).then(function (res) {
        $("plan-problems").textContent = "";
        if (!res.ok) {
          setMsg($("plan-msg"), errorText(res), false);
          if (res.data && res.data.problems && res.data.problems.length) {
            problemsTable($("plan-problems"), tr("pl_problems"), res.data.problems);
          }
          return;
        }
        fillSpec(res.data);
        setMsg($("plan-msg"), tr("pl_loaded") + ": " + f.name + " (" + (res.data.tasks || []).length + ")", true);
      });
    });
    $("plan-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("plan-problems").textContent = "";
      if (!$("plan-registry").value) { setMsg($("plan-msg"), tr("pl_no_registry"), false); return; }
      var body = { registry_id: parseInt($("plan-registry").value, 10), name: $("plan-name").value.trim(), spec: readSpec() };
      api("POST", "/api/plans", body).then(function (res) {
        if (res.ok) {
          setMsg($("plan-msg"), tr("pl_plan_saved") + ": #" + res.data.id + " " + res.data.name, true);
          selectPlan(res.data);
          loadPlans();
        } else if (res.data && res.data.problems && res.data.problems.length) {
          setMsg($("plan-msg"), "", false);
          problemsTable($("plan-problems"), tr("pl_problems"), res.data.problems);
        } else {
          setMsg($("plan-msg"), errorText(res), false);
        }
      });
    });
  }

  function loadPlans() {
    return api("GET", "/api/plans?limit=20").then(function (res) {
      if (!res.ok) return;
      var tbody = document.querySelector("#plans tbody");
      tbody.textContent = "";
      res.data.forEach(function (p) {
        var link = p.current_draw_id
          ? el("a", { href: "/planner/draws/" + p.current_draw_id + "?lang=" + window.LANG, text: tr("pl_open_draw") })
          : el("span");
        var choose = el("button", { type: "button", className: "secondary", "data-action": "choose", text: tr("pl_choose_plan") });
        choose.addEventListener("click", function () { selectPlan(p); });
        tbody.appendChild(el("tr", { "data-plan": String(p.id) }, [el("td", { text: String(p.id) }), el("td", { text: p.name }),
          el("td", { text: String(p.spec.quarter || "") }), el("td", { text: tr("pl_step_" + p.stage) + " · " + label("pl_plan_status_", p.status) }),
          el("td", {}, [link]), el("td", {}, [choose])]));
      });
    });
  }

  // ------------------------------------------------------------------ drawing

  function poll(drawId, onDone) {
    api("GET", "/api/draws/" + drawId).then(function (res) {
      if (!res.ok) { $("draw-error").textContent = errorText(res); return; }
      var d = res.data;
      $("draw-progress").value = d.progress;
      $("draw-stage").textContent = tr("pl_stage") + ": " + label("pl_stage_", d.stage) + " (" + Math.round(d.progress * 100) + "%)";
      if (d.status === "running") { setTimeout(function () { poll(drawId, onDone); }, 400); return; }
      if (d.status === "done") {
        $("draw-stage").textContent = tr("pl_draw_done") + " — " + tr("pl_visits") + ": " + d.visits;
        $("draw-stage").setAttribute("data-status", "done");
        onDone(d);
      } else {
        $("draw-stage").setAttribute("data-status", d.status);
        $("draw-error").textContent = tr("pl_draw_failed") + ": " + d.error;
      }
    });
  }

  // The official flow: 编制 → 负责人审批 → 承诺公示 → 录入公开号码 → 抽取 → 审批公示.
  var STEPS = ["draft", "approved", "committed", "numbers", "drawn", "published"];

  function selectPlan(p) {
    currentPlan = p;
    $("draw-start").disabled = false;
    refreshFlow();
  }

  function showSteps(stage) {
    // the step being worked on: after approval the commitment, after it the numbers, ...
    var current = { draft: "approved", approved: "committed", committed: "numbers", drawn: "published", published: null }[stage];
    var reached = STEPS.indexOf(current === null ? "published" : current);
    document.querySelectorAll("#flow-steps li").forEach(function (li, i) {
      li.className = i < reached || current === null ? "done" : (i === reached ? "current" : "");
    });
    $("flow-steps").setAttribute("data-stage", stage);
  }

  function refreshFlow() {
    if (!currentPlan) return;
    api("GET", "/api/plans/" + currentPlan.id).then(function (res) {
      if (!res.ok) { setMsg($("flow-msg"), errorText(res), false); return; }
      var p = res.data;
      currentPlan = p;
      $("flow-plan").textContent = "#" + p.id + " " + p.name;
      showSteps(p.stage);
      $("flow-approve").hidden = p.stage !== "draft";
      $("flow-commit").hidden = !(p.stage === "approved" || p.stage === "drawn");
      $("flow-beacon").hidden = p.stage !== "committed";
      $("flow-drawn").hidden = p.stage !== "drawn";
      $("flow-commitment").hidden = true;
      if (p.stage === "published") setMsg($("flow-msg"), tr("pl_published_flow") + ": #" + p.published_draw_id, true);
      if (p.official_draw_id) {
        var a = $("draw-open");
        a.href = "/planner/draws/" + p.official_draw_id + "?lang=" + window.LANG;
        a.textContent = tr("pl_open_draw");
        a.hidden = false;
      }
      if (p.commitment_id) {
        api("GET", "/api/plans/" + p.id + "/commitments").then(function (c) {
          if (!c.ok || !c.data.length) return;
          var last = c.data[c.data.length - 1];
          $("commitment-hash").textContent = last.commitment;
          $("commitment-source").textContent = last.source;
          $("commitment-head").textContent = last.audit_head;
          $("flow-commitment").hidden = false;
        });
      }
    });
  }

  function followDraw(res, button) {
    if (!res.ok) { $("draw-error").textContent = errorText(res); if (button) button.disabled = false; return; }
    poll(res.data.id, function (d) {
      var a = $("draw-open");
      a.href = "/planner/draws/" + d.id + "?lang=" + window.LANG;
      a.textContent = tr("pl_open_draw") + (d.seed_kind === "public" ? "" : "（" + tr("pl_test_mark") + "）");
      a.hidden = false;
      if (button) button.disabled = false;
      loadPlans();
      refreshFlow();
    });
  }

  function wireDraw() {
    $("draw-start").addEventListener("click", function () {
      if (!currentPlan) return;
      $("draw-error").textContent = "";
      $("draw-start").disabled = true;
      api("POST", "/api/plans/" + currentPlan.id + "/draws", { seed: $("draw-seed").value.trim() }).then(function (res) {
        followDraw(res, $("draw-start"));
      });
    });
    $("commit-btn").addEventListener("click", function () {
      if (!currentPlan) return;
      $("commit-btn").disabled = true;
      api("POST", "/api/plans/" + currentPlan.id + "/commitment", { source: $("commit-source").value.trim() }).then(function (res) {
        $("commit-btn").disabled = false;
        setMsg($("flow-msg"), res.ok ? tr("pl_committed") + ": " + res.data.commitment : errorText(res), res.ok);
        refreshFlow();
      });
    });
    $("official-draw-btn").addEventListener("click", function () {
      if (!currentPlan) return;
      $("draw-error").textContent = "";
      $("official-draw-btn").disabled = true;
      api("POST", "/api/plans/" + currentPlan.id + "/draws", { beacon: $("draw-beacon").value.trim() }).then(function (res) {
        followDraw(res, $("official-draw-btn"));
      });
    });
    $("redraw-btn").addEventListener("click", function () {
      if (!currentPlan) return;
      api("POST", "/api/plans/" + currentPlan.id + "/redraws", { reason: $("redraw-reason").value.trim() }).then(function (res) {
        setMsg($("flow-msg"), res.ok ? tr("pl_redraw_sent") : errorText(res), res.ok);
      });
    });
  }

  // ------------------------------------------------------------------ a draw's page

  var VISITS_LIMIT = 50;
  var visitsQuery = "";
  var visitsOffset = 0;
  var visitsTotal = 0;

  function statusLabel(s) { return tr("pl_" + s); }

  function loadRecusals(drawId) {
    return api("GET", "/api/draws/" + drawId + "/recusals").then(function (res) {
      var tbody = document.querySelector("#recusals tbody");
      tbody.textContent = "";
      if (!res.ok) { setMsg($("recusal-msg"), errorText(res), false); return; }
      if (!res.data.length) tbody.appendChild(el("tr", {}, [el("td", { colspan: "8", text: tr("pl_no_recusals") })]));
      res.data.forEach(function (r) {
        var actions = el("td");
        if (r.status === "pending") {
          [["approve", true], ["reject", false]].forEach(function (pair) {
            var b = el("button", { type: "button", className: pair[1] ? "" : "secondary", "data-action": pair[0], text: tr("pl_" + pair[0]) });
            b.addEventListener("click", function () {
              b.disabled = true;
              api("POST", "/api/recusals/" + r.id + "/decision", { approve: pair[1], note: "" }).then(function (d) {
                if (!d.ok) setMsg($("recusal-msg"), errorText(d), false);
                else setMsg($("recusal-msg"), "#" + r.id + " " + statusLabel(d.data.status), true);
                loadRecusals(drawId);
                loadVisits(drawId);
              });
            });
            actions.appendChild(b);
            actions.appendChild(document.createTextNode(" "));
          });
        }
        tbody.appendChild(el("tr", { "data-id": String(r.id) }, [
          el("td", { text: String(r.id) }), el("td", { text: r.visit_id }), el("td", { text: r.inspector_id }),
          el("td", { text: tr("pl_by_" + r.requested_by) }), el("td", { text: r.reason }),
          el("td", { className: "status status-" + r.status, text: statusLabel(r.status) }),
          el("td", { className: "replacement", text: r.replacement }), actions
        ]));
      });
    });
  }

  function resultCell(v, key) {
    var sel = el("select", { className: "category" }, [el("option", { value: "", text: tr("pl_choose") })]);
    DATA.categories.forEach(function (c) { sel.appendChild(el("option", { value: c, text: c })); });
    var note = el("input", { className: "note short", placeholder: tr("pl_note") });
    var btn = el("button", { type: "button", className: "save-result", text: tr("pl_save") });
    var msg = el("span", { className: "result-msg" });
    if (key.category) sel.value = key.category;
    if (key.published_on) {
      sel.disabled = note.disabled = btn.disabled = true;
      msg.textContent = tr("pl_published") + " " + key.published_on;
    }
    btn.addEventListener("click", function () {
      if (!sel.value || !key.pk) return;
      btn.disabled = true;
      api("PUT", "/api/visits/" + key.pk + "/result", { category: sel.value, note: note.value }).then(function (res) {
        btn.disabled = false;
        msg.textContent = res.ok ? tr("pl_saved") + " ✓" : errorText(res);
        msg.className = "result-msg " + (res.ok ? "ok" : "error");
      });
    });
    return el("td", {}, [sel, " ", note, " ", btn, " ", msg]);
  }

  var visitKeys = {};

  function loadVisitKeys(drawId) {
    return api("GET", "/planner/draws/" + drawId + "/visit-keys").then(function (res) {
      if (res.ok) visitKeys = res.data;
    });
  }

  function loadVisits(drawId) {
    return Promise.all([
      api("GET", "/api/draws/" + drawId + "/visits?limit=" + VISITS_LIMIT + "&offset=" + visitsOffset +
        (visitsQuery ? "&q=" + encodeURIComponent(visitsQuery) : "")),
      loadVisitKeys(drawId)
    ]).then(function (all) {
      var res = all[0];
      var tbody = document.querySelector("#visits tbody");
      tbody.textContent = "";
      if (!res.ok) return;
      visitsTotal = res.data.total;
      res.data.items.forEach(function (v) {
        var team = el("td");
        v.team.forEach(function (m, i) {
          if (i) team.appendChild(document.createTextNode("、"));
          var b = el("button", { type: "button", className: "link recuse-fill", title: tr("pl_recuse_this"),
            text: (m.name || m.inspector_id) + "（" + m.inspector_id + "）" });
          b.addEventListener("click", function () {
            $("recusal-visit").value = v.visit_id;
            $("recusal-inspector").value = m.inspector_id;
            $("recusal-reason").focus();
          });
          team.appendChild(b);
        });
        var row = el("tr", { "data-visit": v.visit_id }, [
          el("td", { text: v.visit_id }), el("td", { text: v.enterprise }), el("td", { text: v.credit_code }),
          el("td", { text: v.task_ids.join("、") }), el("td", { text: v.date }), team
        ]);
        row.appendChild(resultCell(v, visitKeys[v.visit_id] || {}));
        tbody.appendChild(row);
      });
      $("visits-range").textContent = visitsTotal ? (visitsOffset + 1) + "–" + Math.min(visitsOffset + VISITS_LIMIT, visitsTotal) + " / " + visitsTotal : "0";
      $("visits-prev").disabled = visitsOffset === 0;
      $("visits-next").disabled = visitsOffset + VISITS_LIMIT >= visitsTotal;
    });
  }

  function wireDrawPage(drawId) {
    $("visits-prev").addEventListener("click", function () { visitsOffset = Math.max(0, visitsOffset - VISITS_LIMIT); loadVisits(drawId); });
    $("visits-next").addEventListener("click", function () { visitsOffset += VISITS_LIMIT; loadVisits(drawId); });
    $("visits-search").addEventListener("submit", function (ev) {
      ev.preventDefault();
      visitsQuery = $("visits-q").value.trim();
      visitsOffset = 0;
      loadVisits(drawId);
    });
    $("recusal-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { visit_id: $("recusal-visit").value.trim(), inspector_id: $("recusal-inspector").value.trim(),
        requested_by: $("recusal-by").value, reason: $("recusal-reason").value };
      api("POST", "/api/draws/" + drawId + "/recusals", body).then(function (res) {
        if (!res.ok) { setMsg($("recusal-msg"), errorText(res), false); return; }
        setMsg($("recusal-msg"), "#" + res.data.id + " " + statusLabel(res.data.status), true);
        loadRecusals(drawId);
      });
    });
    $("export-btn").addEventListener("click", function () {
      fetch("/api/draws/" + drawId + "/export.xlsx", { headers: { Authorization: "Bearer " + token() } }).then(function (r) {
        if (!r.ok) { setMsg($("publish-result"), tr("pl_error") + " (" + r.status + ")", false); return null; }
        return r.blob();
      }).then(function (blob) {
        if (!blob) return;
        var url = URL.createObjectURL(blob);
        var a = el("a", { href: url, download: "检查户次-" + drawId + ".xlsx" });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
    });
  }

  function showExclusions(frames) {
    // per task, from the jurisdiction down to the frame drawn from (the columns are the header's)
    var keys = Array.prototype.map.call(document.querySelectorAll("#exclusions thead th"), function (th) {
      return th.getAttribute("data-key");
    });
    var body = document.querySelector("#exclusions tbody");
    body.textContent = "";
    frames.forEach(function (f) {
      body.appendChild(el("tr", { "data-task": f.task_id }, keys.map(function (k) {
        return el("td", { text: String(f[k]), "class": k === "task_id" ? "" : "num" });
      })));
    });
  }

  function showDraw(drawId) {
    api("GET", "/api/draws/" + drawId).then(function (res) {
      if (!res.ok) { $("draw-error").textContent = errorText(res); return; }
      var d = res.data;
      var kind = $("draw-kind");
      kind.textContent = d.seed_kind === "public" ? tr("pl_official_mark") : tr("pl_test_mark");
      kind.className = d.seed_kind === "public" ? "ok" : "test-mark";
      kind.setAttribute("data-kind", d.seed_kind);
      if (d.superseded_by) kind.textContent += " · " + tr("pl_superseded");
      if (d.published_at) kind.textContent += " · " + tr("pl_published") + " " + d.published_at.slice(0, 10);
      $("draw-info").textContent = tr("pl_seed") + ": " + d.seed + "；" + tr("pl_status") + ": " + label("pl_draw_status_", d.status) +
        (d.visits != null ? "；" + tr("pl_visits") + ": " + d.visits : "");
      poll(drawId, function (done) {
        $("done-sections").hidden = false;
        showExclusions(done.exclusions || []);
        $("report-frame").src = "/planner/draws/" + drawId + "/report";
        loadRecusals(drawId);
        loadVisits(drawId);
      });
    });
  }

  // ------------------------------------------------------------------ start

  if (DATA.draw_id) {
    var drawId = DATA.draw_id;
    wireDrawPage(drawId);
    checkSignedIn(function () { showDraw(drawId); });
  } else {
    var ready = function () { loadRegistries(); loadPlans(); if (!$("tasks").children.length) addTask(null); };
    wireLogin(ready);
    wireRegistry();
    wirePlan();
    wireDraw();
    checkSignedIn(ready);
    if (!token()) $("login-form").hidden = false;
  }
})();
