/* The leader's page: approve plans for their official draw, decide re-draw requests (never one's
   own), publish an official draw after a confirmation step. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("page-texts").textContent);
  var R = window.RI, $ = R.$, el = R.el;
  var me = null;
  var pending = null;

  function button(text, action, onClick, secondary) {
    var b = el("button", { type: "button", "data-action": action, text: text, className: secondary ? "secondary" : "" });
    b.addEventListener("click", function () { b.disabled = true; onClick(b); });
    return b;
  }
  function empty(tbody, cols) { tbody.appendChild(el("tr", {}, [el("td", { colspan: String(cols), text: T.ld_nothing })])); }

  function load() {
    R.api("GET", "/api/approvals").then(function (res) {
      if (!res.ok) { R.say(R.errorText(res), false); return; }
      var a = res.data;
      var plans = document.querySelector("#plans tbody"), redraws = document.querySelector("#redraws tbody"),
        draws = document.querySelector("#draws tbody");
      [plans, redraws, draws].forEach(function (t) { t.textContent = ""; });
      if (!a.plans.length) empty(plans, 5);
      a.plans.forEach(function (p) {
        plans.appendChild(el("tr", { "data-plan": String(p.id) }, [el("td", { text: "#" + p.id }), el("td", { text: p.name }),
          el("td", { text: p.agency_id }), el("td", { text: p.created_by }),
          el("td", {}, [button(T.ld_approve, "approve", function () {
            R.api("POST", "/api/plans/" + p.id + "/approve").then(function (r) {
              R.say(r.ok ? T.ld_approved + " #" + p.id : R.errorText(r), r.ok); load();
            });
          })])]));
      });
      if (!a.redraws.length) empty(redraws, 6);
      a.redraws.forEach(function (q) {
        var note = el("input", { placeholder: T.ld_note });
        var cell = el("td", {}, [note]);
        if (q.requested_by === me.username) cell.appendChild(el("span", { className: "muted", text: " " + T.ld_own_request }));
        else {
          [[T.ld_approve, "approve", true], [T.ld_reject, "reject", false]].forEach(function (x) {
            cell.appendChild(button(x[0], x[1], function () {
              R.api("POST", "/api/redraws/" + q.id + "/decision", { approve: x[2], note: note.value }).then(function (r) {
                R.say(r.ok ? T.ld_decided + " #" + q.id : R.errorText(r), r.ok); load();
              });
            }, !x[2]));
          });
        }
        redraws.appendChild(el("tr", { "data-redraw": String(q.id) }, [el("td", { text: "#" + q.id }),
          el("td", { text: "#" + q.plan_id }), el("td", { text: "#" + q.draw_id }), el("td", { text: q.reason }),
          el("td", { text: q.requested_by }), cell]));
      });
      if (!a.draws.length) empty(draws, 5);
      a.draws.forEach(function (d) {
        draws.appendChild(el("tr", { "data-draw": String(d.id) }, [el("td", { text: "#" + d.id }), el("td", { text: "#" + d.plan_id }),
          el("td", { text: String(d.visits) }), el("td", {}, [el("code", { className: "hash", text: d.seed })]),
          el("td", {}, [button(T.ld_publish, "publish", function (b) {
            pending = d;
            $("confirm-text").textContent = T.ld_confirm_text.replace("{draw}", "#" + d.id).replace("{plan}", "#" + d.plan_id)
              .replace("{visits}", String(d.visits)).replace("{beacon}", d.beacon);
            $("confirm-check").checked = false;
            $("confirm-publish").disabled = true;
            $("confirm-dialog").showModal();
            b.disabled = false;
          })])]));
      });
    });
  }

  $("confirm-check").addEventListener("change", function () { $("confirm-publish").disabled = !$("confirm-check").checked; });
  $("confirm-cancel").addEventListener("click", function () { $("confirm-dialog").close(); pending = null; });
  $("confirm-publish").addEventListener("click", function () {
    var d = pending;
    $("confirm-dialog").close();
    if (!d) return;
    R.api("POST", "/api/draws/" + d.id + "/publish", { confirm: true }).then(function (r) {
      R.say(r.ok ? T.ld_published + " #" + d.id + " · " + T.ld_head + " " + r.data.audit_head : R.errorText(r), r.ok);
      load();
    });
  });

  R.signIn("leader", { need_role: T.ld_need_leader, login_failed: T.ld_login_failed }, function (who) { me = who; load(); });
})();
