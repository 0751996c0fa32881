/* The enterprise page: its notice by credit code + notice code, a recusal request, the ticket check. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("page-texts").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var notice = null;
  var draws = [];
  var KEY_AREA = "key_area";
  var KEY_AREA_LABEL = "重点领域";

  function fmt(text, vars) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] === undefined ? m : vars[k]; });
  }
  function show(el, text, cls) {
    el.textContent = text;
    if (cls !== undefined) el.className = cls;
    el.hidden = false;
  }
  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    tr.appendChild(td);
    return td;
  }
  function fill(tbody, rows) {
    tbody.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      r.forEach(function (v) { cell(tr, v); });
      tbody.appendChild(tr);
    });
  }
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    });
  }
  function codes() {
    return {
      credit_code: $("credit_code").value.trim().toUpperCase(),
      notice_code: $("notice_code").value.trim().toUpperCase()
    };
  }

  /* ---- the notice ---- */
  function renderNotice(n) {
    $("n-void").hidden = !n.void;
    $("n-visit").textContent = n.visit_id;
    $("n-enterprise").textContent = n.enterprise;
    $("n-credit").textContent = n.credit_code;
    $("n-date").textContent = n.date;
    $("n-window").textContent = n.window_start + " — " + n.window_end;
    $("n-agencies").textContent = n.agencies.join("、");
    fill($("n-items").tBodies[0], n.items.map(function (i) { return [i.task_id, i.item, i.legal_basis]; }));
    fill($("n-team").tBodies[0], n.team.map(function (m) { return [m.name, m.certificate_no, m.agency]; }));
    var ul = $("n-rights");
    ul.textContent = "";
    n.rights.forEach(function (r) {
      var li = document.createElement("li");
      var b = document.createElement("strong");
      b.textContent = r.title;
      li.appendChild(b);
      li.appendChild(document.createTextNode("：" + r.text));
      ul.appendChild(li);
    });
    $("n-original").srcdoc = n.html;
    var sel = $("recusal-member");
    sel.textContent = "";
    n.team.forEach(function (m) {
      var o = document.createElement("option");
      o.value = m.inspector_id;
      o.textContent = m.name + "（" + m.certificate_no + "）";
      sel.appendChild(o);
    });
    $("notice").hidden = false;
    $("recusal").hidden = false;
    $("recusal-msg").hidden = true;
  }

  $("lookup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var msg = $("lookup-msg");
    msg.hidden = true;
    $("notice").hidden = true;
    $("recusal").hidden = true;
    notice = null;
    postJSON("/api/notices/lookup", codes()).then(function (r) {
      if (r.status === 200) return r.json().then(function (n) {
        notice = n;
        renderNotice(n);
        prefillTicket(n);
      });
      if (r.status === 403) return show(msg, T.ent_refused, "error");
      if (r.status === 422) return show(msg, T.ent_invalid, "error");
      show(msg, T.ent_error + " (" + r.status + ")", "error");
    }).catch(function () { show(msg, T.ent_error, "error"); });
  });

  $("print-btn").addEventListener("click", function () { window.print(); });

  /* ---- recusal ---- */
  $("recusal-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var msg = $("recusal-msg");
    var reason = $("recusal-reason").value.trim();
    if (!reason) return show(msg, T.ent_recusal_need_reason, "error");
    var body = codes();
    body.inspector_id = $("recusal-member").value;
    body.reason = reason;
    postJSON("/api/recusals", body).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status === 201) return show(msg, fmt(T.ent_recusal_ok, { id: j.id }), "ok");
        if (r.status === 409) return show(msg, T.ent_recusal_dup, "error");
        if (r.status === 403) return show(msg, T.ent_refused, "error");
        show(msg, T.ent_error + " (" + r.status + (j.detail && typeof j.detail === "string" ? ": " + j.detail : "") + ")", "error");
      });
    }).catch(function () { show(msg, T.ent_error, "error"); });
  });

  /* ---- the ticket check ---- */
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }
  function currentDraw() {
    var id = Number($("ticket-draw").value);
    return draws.filter(function (d) { return d.draw_id === id; })[0];
  }
  function fillTasks() {
    var d = currentDraw();
    var sel = $("ticket-task");
    var keep = sel.value;
    sel.textContent = "";
    if (!d) return;
    var seen = {};
    d.strata.forEach(function (s) {
      if (seen[s.task_id]) return;
      seen[s.task_id] = true;
      var o = document.createElement("option");
      o.value = o.textContent = s.task_id;
      sel.appendChild(o);
    });
    if (seen[keep]) sel.value = keep;
  }
  function loadDraws() {
    return fetch("/api/public/draws", { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        draws = list.filter(function (d) { return d.draw_id !== null && d.strata && d.strata.length; });
        list = draws;
        var sel = $("ticket-draw");
        sel.textContent = "";
        list.forEach(function (d) {
          var o = document.createElement("option");
          o.value = d.draw_id;
          o.textContent = "#" + d.draw_id + " " + d.plan_name + (d.quarter ? " (" + d.quarter + ")" : "");
          sel.appendChild(o);
        });
        if (!list.length) show($("ticket-msg"), T.ent_no_draws, "error");
        fillTasks();
      });
  }
  var drawsLoaded = loadDraws();
  $("ticket-draw").addEventListener("change", fillTasks);

  function prefillTicket(n) {
    $("ticket-credit").value = n.credit_code;
    drawsLoaded.then(function () {
      if (draws.some(function (d) { return d.draw_id === n.draw_id; })) {
        $("ticket-draw").value = String(n.draw_id);
        fillTasks();
        if (n.tasks.length) $("ticket-task").value = n.tasks[0];
        checkTicket();
      }
    });
  }

  function checkTicket() {
    var msg = $("ticket-msg");
    msg.hidden = true;
    var d = currentDraw();
    var task = $("ticket-task").value;
    var code = $("ticket-credit").value.trim().toUpperCase();
    if (!d || !task || !/^[0-9A-Z]{18}$/.test(code)) return show(msg, T.ent_invalid, "error");
    if (!window.crypto || !crypto.subtle) return show(msg, T.ent_no_crypto, "error");
    var input = d.seed + "|" + task + "|" + code;
    var strata = d.strata.filter(function (s) { return s.task_id === task; });
    var q = "/api/public/results?limit=5&draw_id=" + d.draw_id + "&task_id=" + encodeURIComponent(task) +
      "&credit_code=" + encodeURIComponent(code);
    var published = fetch(q).then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .catch(function () { return { items: [] }; });
    Promise.all([sha256(input), published]).then(function (got) {
      var ticket = got[0];
      var keyArea = got[1].items.some(function (row) { return row.drawn_as === KEY_AREA_LABEL; });
      $("ticket-seed").textContent = d.seed;
      $("ticket-input").textContent = input;
      $("ticket-value").textContent = ticket;
      var drawn = false;
      fill($("ticket-strata").tBodies[0], strata.map(function (s) {
        var verdict;
        if (s.stratum === KEY_AREA) verdict = T.ent_key_always;
        else if (!s.threshold) verdict = T.ent_not_drawn;
        else if (ticket <= s.threshold) { verdict = T.ent_drawn; drawn = true; }
        else verdict = T.ent_not_drawn;
        return [s.stratum, s.sample_size + "/" + s.population_size, s.threshold || "—", verdict];
      }));
      var v = $("ticket-verdict");
      if (keyArea) { v.textContent = T.ent_verdict_key; v.className = "verdict drawn"; }
      else if (drawn) { v.textContent = T.ent_verdict_drawn; v.className = "verdict drawn"; }
      else { v.textContent = T.ent_verdict_not; v.className = "verdict not-drawn"; }
      v.dataset.verdict = keyArea ? "key_area" : (drawn ? "drawn" : "not_drawn");
      $("ticket-result").hidden = false;
    }).catch(function () { show(msg, T.ent_error, "error"); });
  }
  $("ticket-form").addEventListener("submit", function (ev) { ev.preventDefault(); checkTicket(); });
})();
