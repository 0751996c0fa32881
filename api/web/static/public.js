/* The public page: published draws, and the published results searched and paged; CSV with the same filters. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("page-texts").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var LIMIT = 50;
  var chinaTime = window.chinaTime;  // lang.js
  var offset = 0;
  var total = 0;

  function fmt(text, vars) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] === undefined ? m : vars[k]; });
  }
  function row(tbody, values) {
    var tr = document.createElement("tr");
    values.forEach(function (v) {
      var td = document.createElement("td");
      td.textContent = v === null || v === undefined ? "" : String(v);
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
    return tr;
  }
  function filters() {
    var p = new URLSearchParams();
    var q = $("f-q").value.trim();
    var credit = $("f-credit").value.trim().toUpperCase();
    var region = $("f-region").value.trim();
    var task = $("f-task").value.trim();
    if (q) p.set("q", q);
    if (credit) p.set("credit_code", credit);
    if (region) p.set("region", region);
    if (task) p.set("task_id", task);
    return p;
  }

  function loadDraws() {
    fetch("/api/public/draws").then(function (r) { return r.ok ? r.json() : []; }).then(function (list) {
      var tb = $("draws-table").tBodies[0];
      tb.textContent = "";
      list.forEach(function (d) {
        var status = T["pub_st_" + d.status] || d.status;
        if (d.redraw_reason) status += "；" + T.pub_redraw.replace("{reason}", d.redraw_reason).replace("{approver}", d.redraw_approved_by || "");
        var heads = [d.commitment_head, d.draw_head, d.publication_head].map(function (h) { return h ? h.slice(0, 16) + "…" : "—"; }).join(" / ");
        var tr = row(tb, [d.draw_id || "—", d.plan_name + (d.quarter ? " (" + d.quarter + ")" : "") + " · " + d.agency, status,
          d.commitment_hash.slice(0, 16) + "…（" + d.source + "）", d.beacon || "—", d.seed || "—", d.visits,
          chinaTime(d.published_at), heads]);
        if (tr) {
          tr.setAttribute("data-status", d.status);
          tr.title = [d.commitment_hash, d.commitment_head, d.draw_head || "", d.publication_head || ""].join("\n");
        }
      });
    });
  }

  function search() {
    var p = filters();
    $("csv-link").href = "/api/public/results.csv" + (p.toString() ? "?" + p.toString() : "");
    p.set("limit", LIMIT);
    p.set("offset", offset);
    var msg = $("search-msg");
    msg.hidden = true;
    return fetch("/api/public/results?" + p.toString()).then(function (r) {
      if (!r.ok) {
        msg.textContent = (r.status === 422 ? T.pub_none : "HTTP " + r.status);
        msg.hidden = false;
        return;
      }
      return r.json().then(function (page) {
        total = page.total;
        var tb = $("results-table").tBodies[0];
        tb.textContent = "";
        page.items.forEach(function (x) {
          row(tb, [x.task_id, x.agency + (x.joint_agencies ? "；" + x.joint_agencies : ""), x.enterprise,
            x.credit_code, x.region_code, x.items, x.date, x.drawn_as, x.result]);
        });
        $("total").textContent = total ? fmt(T.pub_total, { total: total, from: offset + 1, to: offset + page.items.length }) : T.pub_none;
        $("prev-btn").disabled = offset <= 0;
        $("next-btn").disabled = offset + LIMIT >= total;
        document.body.dataset.loaded = String(Date.now());
      });
    }).catch(function () { msg.textContent = "network error"; msg.hidden = false; });
  }

  $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); offset = 0; search(); });
  $("prev-btn").addEventListener("click", function () { offset = Math.max(0, offset - LIMIT); search(); });
  $("next-btn").addEventListener("click", function () { offset += LIMIT; search(); });
  ["f-q", "f-credit", "f-region", "f-task"].forEach(function (id) {
    $(id).addEventListener("change", function () {
      var p = filters();
      $("csv-link").href = "/api/public/results.csv" + (p.toString() ? "?" + p.toString() : "");
    });
  });
  loadDraws();
  search();
})();
