/* The auditor page: sign in (token kept in sessionStorage), the audit record paged, and its verification. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("page-texts").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var KEY = "randinspect.token";
  var LIMIT = 50;
  var chinaTime = window.chinaTime;  // lang.js
  var start = 0;

  function token() { return sessionStorage.getItem(KEY); }
  function authGet(url) {
    return fetch(url, { headers: { "Authorization": "Bearer " + token(), "Accept": "application/json" } });
  }
  function signedOut(message) {
    sessionStorage.removeItem(KEY);
    $("record").hidden = true;
    $("login-form").hidden = false;
    if (message) { $("login-msg").textContent = message; $("login-msg").hidden = false; }
  }
  function summary(data) {
    if (data === null || typeof data !== "object") return String(data);
    var parts = [];
    Object.keys(data).forEach(function (k) {
      var v = data[k];
      if (Array.isArray(v)) v = "[" + v.length + "]";
      else if (v !== null && typeof v === "object") v = "{…}";
      else {
        v = String(v);
        if (v.length > 24) v = v.slice(0, 16) + "…";
      }
      parts.push(k + "=" + v);
    });
    var s = parts.join(", ");
    return s.length > 200 ? s.slice(0, 200) + "…" : s;
  }
  function check(r) {
    if (r.status === 401) { signedOut(T.aud_login_failed); throw new Error("401"); }
    if (r.status === 403) { signedOut(T.aud_forbidden); throw new Error("403"); }
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }

  function loadVerify() {
    var head = $("published-head").value.trim().toLowerCase();
    return authGet("/api/audit/verify" + (head ? "?head=" + encodeURIComponent(head) : "")).then(check).then(function (v) {
      var st = $("verify-status");
      st.textContent = v.ok ? T.aud_intact : T.aud_tampered;
      st.className = v.ok ? "ok" : "bad";
      st.dataset.ok = String(v.ok);
      $("verify-message").textContent = v.message;
      $("verify-count").textContent = v.count;
      $("verify-head").textContent = v.head;
      $("verify-bad").hidden = v.first_bad === null;
      $("verify-first-bad").textContent = v.first_bad === null ? "" : "#" + v.first_bad;
    });
  }
  function loadRecords() {
    return authGet("/api/audit?start=" + start + "&limit=" + (LIMIT + 1)).then(check).then(function (list) {
      var more = list.length > LIMIT;
      var tb = $("audit-table").tBodies[0];
      tb.textContent = "";
      list.slice(0, LIMIT).forEach(function (r) {
        var tr = document.createElement("tr");
        [[r.seq, ""], [chinaTime(r.time), ""], [T["aud_kind_" + r.kind] || r.kind, ""], [r.actor, ""], [summary(r.data), "data"], [r.hash.slice(0, 12) + "…", "hash"]]
          .forEach(function (c) {
            var td = document.createElement("td");
            td.textContent = String(c[0]);
            if (c[1]) td.className = c[1];
            if (c[1] === "hash") td.title = r.hash;
            tr.appendChild(td);
          });
        tb.appendChild(tr);
      });
      var shown = Math.min(list.length, LIMIT);
      $("range").textContent = shown ? "#" + start + "–#" + (start + shown - 1) : "";
      $("prev-btn").disabled = start <= 0;
      $("next-btn").disabled = !more;
    });
  }
  function loadAll() {
    return authGet("/api/me").then(check).then(function (me) {
      $("who").textContent = T.aud_signed_in_as + me.username + " (" + me.role + ")";
      $("login-form").hidden = true;
      $("login-msg").hidden = true;
      $("record").hidden = false;
      return Promise.all([loadVerify(), loadRecords()]);
    }).catch(function () { /* shown by check() */ });
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = new URLSearchParams();
    body.set("username", $("username").value.trim());
    body.set("password", $("password").value);
    fetch("/api/login", { method: "POST", body: body }).then(function (r) {
      if (!r.ok) { $("login-msg").textContent = T.aud_login_failed; $("login-msg").hidden = false; return; }
      return r.json().then(function (j) {
        sessionStorage.setItem(KEY, j.access_token);
        $("password").value = "";
        start = 0;
        return loadAll();
      });
    }).catch(function () { $("login-msg").textContent = "network error"; $("login-msg").hidden = false; });
  });
  $("logout-btn").addEventListener("click", function () {
    var t = token();
    if (t) fetch("/api/logout", { method: "POST", headers: { "Authorization": "Bearer " + t } });
    signedOut();
  });
  $("reload-btn").addEventListener("click", function () { loadAll(); });
  $("head-form").addEventListener("submit", function (ev) { ev.preventDefault(); loadVerify().catch(function () {}); });
  $("prev-btn").addEventListener("click", function () { start = Math.max(0, start - LIMIT); loadRecords(); });
  $("next-btn").addEventListener("click", function () { start += LIMIT; loadRecords(); });

  if (token()) loadAll(); else signedOut();
})();
