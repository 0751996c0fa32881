/* Shared by the planner, leader and admin pages: sign in (token in sessionStorage, shared with the other
   pages), the JSON API with the bearer token, and building table rows. No inline script anywhere. */
window.RI = (function () {
  "use strict";
  var KEY = "randinspect.token";
  var $ = function (id) { return document.getElementById(id); };
  function token() { return sessionStorage.getItem(KEY); }
  function api(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    var payload = body;
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof URLSearchParams)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    return fetch(url, { method: method, headers: headers, body: payload }).then(function (r) {
      var ct = r.headers.get("content-type") || "";
      return (ct.indexOf("json") >= 0 ? r.json() : r.text()).then(function (data) {
        return { ok: r.ok, status: r.status, data: data };
      });
    });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function errorText(res) {
    var d = res.data;
    if (d && typeof d === "object") {
      if (Array.isArray(d.problems) && d.problems.length) return d.problems.map(function (p) { return p.text; }).join("; ");
      if (typeof d.detail === "string") return d.detail;
      if (Array.isArray(d.detail)) return d.detail.map(function (e) { return (e.loc || []).join(".") + ": " + e.msg; }).join("; ");
    }
    return "HTTP " + res.status;
  }
  function say(text, ok) {
    var m = $("msg");
    m.textContent = text;
    m.className = ok ? "ok" : "error";
  }
  /* Sign-in for a page that needs ``role``: onReady(me) once signed in with such an account. */
  function signIn(role, texts, onReady) {
    function out(message) {
      sessionStorage.removeItem(KEY);
      $("workspace").hidden = true;
      $("login-form").hidden = false;
      $("login-msg").hidden = !message;
      $("login-msg").textContent = message || "";
    }
    function ready() {
      api("GET", "/api/me").then(function (res) {
        if (!res.ok) { out(""); return; }
        if (res.data.role !== role) { out(texts.need_role); return; }
        $("who").textContent = res.data.username + " (" + res.data.agency_id + ")";
        $("login-form").hidden = true;
        $("login-msg").hidden = true;
        $("workspace").hidden = false;
        onReady(res.data);
      });
    }
    $("login-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = new URLSearchParams();
      body.set("username", $("username").value.trim());
      body.set("password", $("password").value);
      api("POST", "/api/login", body).then(function (res) {
        if (!res.ok) { out(texts.login_failed); return; }
        sessionStorage.setItem(KEY, res.data.access_token);
        $("password").value = "";
        ready();
      });
    });
    $("logout-btn").addEventListener("click", function () {
      api("POST", "/api/logout").then(function () { out(""); });
    });
    if (token()) ready(); else out("");
  }
  return { $: $, api: api, el: el, errorText: errorText, say: say, signIn: signIn };
})();
