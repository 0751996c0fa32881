"""The Excel export of a finished draw (both database backends)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

from openpyxl import load_workbook
from sqlalchemy import select

from api.models import ApiToken, User, utcnow
from api.routers.exports import ALL_SHEET, MAX_SHEET, sheet_name
from api.security import new_token
from tests.api.conftest import login, make_user
from tests.api.helpers import finished_draw  # noqa: F401  (the fixture)


def test_workbook_has_every_visit_and_a_sheet_per_inspector(client, planner, finished_draw):  # noqa: F811
    r = client.get(f"/api/draws/{finished_draw.draw_id}/export.xlsx", headers=planner)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)

    # The first sheet: one row per visit (after the header), in visit order.
    assert wb.sheetnames[0] == ALL_SHEET
    rows = list(wb[ALL_SHEET].iter_rows(values_only=True))
    assert rows[0][:5] == ("检查户次编号", "企业名称", "统一社会信用代码", "抽查任务", "检查日期")
    body = rows[1:]
    assert len(body) == len(finished_draw.visits)
    assert [row[0] for row in body] == sorted(finished_draw.visits)
    inspectors = finished_draw.registry.inspectors
    first = finished_draw.visit(0)
    row = body[0]
    assert row[2] == first.credit_code
    assert row[4].date() == first.date
    for i in first.inspector_ids:
        assert inspectors[i].name in row[5]
        assert (inspectors[i].certificate_no or "") in row[6]
    # each visit's address, from the registry (where the team goes)
    assert rows[0][7] == "检查地址"
    ents = finished_draw.registry.enterprises.set_index("credit_code")
    assert row[7] == ents.loc[first.credit_code, "address"] and row[7]

    # One sheet per inspector on any team, named name + id, with exactly their visits, by date.
    per_inspector = Counter(i for v in finished_draw.visits.values() for i in v.inspector_ids)
    sheets = wb.sheetnames[1:]
    assert len(sheets) == len(per_inspector)
    allowed = re.compile(r"^[^\[\]:*?/\\]{1,31}$")
    for name in wb.sheetnames:
        assert allowed.match(name) and len(name) <= MAX_SHEET
    by_id = {}
    for name in sheets:
        matches = [i for i in per_inspector if name.endswith(i)]
        assert len(matches) == 1, name
        by_id[matches[0]] = name
        assert name.startswith(inspectors[matches[0]].name[: MAX_SHEET - len(matches[0])])
    for inspector_id, count in per_inspector.items():
        rows = list(wb[by_id[inspector_id]].iter_rows(values_only=True))[1:]
        assert len(rows) == count
        dates = [r[0] for r in rows]
        assert dates == sorted(dates)
        for r_ in rows:
            assert inspector_id in finished_draw.visits[r_[1]].inspector_ids


def test_auditor_may_export_public_and_enterprise_may_not(app, client, planner, finished_draw):  # noqa: F811
    url = f"/api/draws/{finished_draw.draw_id}/export.xlsx"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    make_user(app, "auditor1", "auditor")
    assert client.get(url, headers=login(client, "auditor1")).status_code == 200
    assert client.get("/api/draws/999999/export.xlsx", headers=planner).status_code == 404


def test_wrong_role_is_refused(app, client, finished_draw):  # noqa: F811
    """Only planners and auditors sign in today; a token of any other role (a role added later,
    or a row edited by hand) is refused with 403, not served."""
    make_user(app, "clerk1", "clerk")
    raw, digest = new_token()
    with app.state.write_sessions() as s:
        user = s.scalar(select(User).where(User.username == "clerk1"))
        s.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=utcnow() + dt.timedelta(hours=1)))
        s.commit()
    r = client.get(
        f"/api/draws/{finished_draw.draw_id}/export.xlsx", headers={"Authorization": f"Bearer {raw}"}
    )
    assert r.status_code == 403


def test_sheet_names_are_sanitised_short_and_unique():
    taken = {ALL_SHEET}
    a = sheet_name("王[小]:明*?/\\", "SJ130102-0001", taken)
    assert a == "王小明SJ130102-0001"
    long = sheet_name("很长的名字" * 10, "SJ130102-0002", taken)
    assert len(long) == MAX_SHEET and long.endswith("SJ130102-0002")
    again = sheet_name("很长的名字" * 10, "SJ130102-0002", taken)
    assert again != long and len(again) <= MAX_SHEET
    assert sheet_name("", "", taken) == "inspector"
