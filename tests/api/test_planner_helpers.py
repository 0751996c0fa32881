"""The planner page's helpers (issue 13, item 5): a plan file with an unknown key is refused in
the form as on the command line; the visits can be searched by name or credit code."""

from __future__ import annotations

from tests.api.helpers import finished_draw  # noqa: F401  (the fixture)

GOOD = """quarter: 2026Q1
policy:
  team_size: 2
tasks:
  - task_id: T1
    agency_id: SJ130123
    ratio: {A: 0.1, B: 0.1, C: 0.2, D: 0.5}
    window: {start: 2026-01-05, end: 2026-03-31}
"""


def upload(client, planner, text: str, name: str = "plan.yaml"):
    return client.post("/planner/plan-file", files={"file": (name, text.encode("utf-8"))}, headers=planner)


def test_a_plan_file_with_an_unknown_key_is_refused_naming_it(client, planner):
    r = upload(client, planner, GOOD)
    assert r.status_code == 200, r.text
    assert r.json()["tasks"][0]["window"]["start"] == "2026-01-05"
    r = upload(client, planner, GOOD.replace("team_size: 2", "team_size: 2\n  quartely_cap: 30"), "季度计划.yaml")
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert problem["file"] == "季度计划.yaml" and problem["column"] == "policy.quartely_cap"
    assert "未知的 policy 键" in problem["text"] and "quarterly_cap" in problem["text"]
    r = upload(client, planner, GOOD.replace("    agency_id:", "    agncy_id: x\n    agency_id:"))
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "tasks[0] (T1).agncy_id"


def test_visits_are_searched_by_name_or_credit_code(client, planner, finished_draw):  # noqa: F811
    url = f"/api/draws/{finished_draw.draw_id}/visits"
    items = client.get(url, params={"limit": 1000}, headers=planner).json()["items"]
    target = items[len(items) // 2]
    by_code = client.get(url, params={"q": target["credit_code"][4:14].lower()}, headers=planner).json()
    assert target["visit_id"] in [v["visit_id"] for v in by_code["items"]] and by_code["total"] < len(items)
    name_part = target["enterprise"][2:6]
    by_name = client.get(url, params={"q": name_part}, headers=planner).json()
    assert by_name["items"] and all(name_part in v["enterprise"] for v in by_name["items"])
    assert client.get(url, params={"q": "%"}, headers=planner).json()["total"] == 0
