/* The admin page: the accounts of the admin's scope (create, disable, new password) and the
   agency tree (load an agencies table). */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("page-texts").textContent);
  var R = window.RI, $ = R.$, el = R.el;

  function loadUsers() {
    R.api("GET", "/api/users").then(function (res) {
      var tb = document.querySelector("#users tbody");
      tb.textContent = "";
      if (!res.ok) { R.say(R.errorText(res), false); return; }
      res.data.forEach(function (u) {
        var actions = el("td");
        if (u.active) {
          var off = el("button", { type: "button", className: "secondary", "data-action": "disable", text: T.adm_disable });
          off.addEventListener("click", function () {
            R.api("POST", "/api/users/" + u.id + "/disable").then(function (r) {
              R.say(r.ok ? T.adm_disabled + ": " + u.username : R.errorText(r), r.ok); loadUsers();
            });
          });
          var pw = el("input", { type: "password", placeholder: T.adm_new_password, minlength: "10", "data-field": "password" });
          var set = el("button", { type: "button", "data-action": "password", text: T.adm_set_password });
          set.addEventListener("click", function () {
            R.api("POST", "/api/users/" + u.id + "/password", { password: pw.value }).then(function (r) {
              R.say(r.ok ? T.adm_password_set + ": " + u.username : R.errorText(r), r.ok); pw.value = "";
            });
          });
          [off, pw, set].forEach(function (n) { actions.appendChild(n); });
        }
        tb.appendChild(el("tr", { "data-user": u.username }, [el("td", { text: String(u.id) }), el("td", { text: u.username }),
          el("td", { text: T["adm_role_" + u.role] || u.role }), el("td", { text: u.agency_id }),
          el("td", { text: u.active ? T.adm_yes : T.adm_no }), actions]));
      });
    });
  }
  function loadAgencies() {
    R.api("GET", "/api/agencies").then(function (res) {
      if (!res.ok) return;
      var tb = document.querySelector("#agencies tbody"), sel = $("new-agency");
      tb.textContent = ""; sel.textContent = "";
      res.data.forEach(function (a) {
        tb.appendChild(el("tr", {}, [el("td", { text: a.agency_id }), el("td", { text: a.name }), el("td", { text: a.department }),
          el("td", { text: a.level }), el("td", { text: a.parent_id || "" })]));
        sel.appendChild(el("option", { value: a.agency_id, text: a.agency_id + " " + a.name }));
      });
    });
  }
  $("user-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = { username: $("new-name").value.trim(), role: $("new-role").value, agency_id: $("new-agency").value,
      password: $("new-password").value };
    R.api("POST", "/api/users", body).then(function (r) {
      R.say(r.ok ? T.adm_created + ": " + body.username : R.errorText(r), r.ok);
      if (r.ok) { $("new-name").value = ""; $("new-password").value = ""; loadUsers(); }
    });
  });
  $("tree-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var fd = new FormData();
    fd.append("file", $("tree-file").files[0]);
    R.api("POST", "/api/agencies", fd).then(function (r) {
      R.say(r.ok ? T.adm_tree_loaded.replace("{added}", r.data.added).replace("{updated}", r.data.updated) : R.errorText(r), r.ok);
      loadAgencies();
    });
  });

  R.signIn("admin", { need_role: T.adm_need_admin, login_failed: T.adm_login_failed }, function () { loadUsers(); loadAgencies(); });
})();
