"""publication.csv and strata.csv: public facts only, one row per (visit, task)."""

from __future__ import annotations

import pandas as pd
import pytest

from scheduler.publication import (
    PENDING_RESULT,
    PERSONAL_COLUMNS,
    PUBLICATION_COLUMNS,
    STRATA_COLUMNS,
    PersonalDataError,
    assert_no_personal_data,
    publication_frame,
    strata_frame,
    write_publication,
    write_strata,
)
from tests.scheduler.conftest import ADDRESS_E3, E1, E4, HTML_NAME, PHONE_E3


def test_one_row_per_visit_and_task(plan_result):
    frame = publication_frame(plan_result)
    expected = sorted((v.visit_id, t) for v in plan_result.visits for t in v.task_ids)
    got = sorted(zip(frame["visit_id"], frame["task_id"], strict=True))
    assert got == expected
    assert len(frame) == 5  # four visits, V0003 covers T1 and T2
    assert list(frame.columns) == PUBLICATION_COLUMNS


def test_no_personal_data_in_frame(plan_result, personal_tokens):
    frame = publication_frame(plan_result)
    assert not set(frame.columns) & PERSONAL_COLUMNS
    assert_no_personal_data(frame, plan_result.registry)
    cells = [str(c) for c in frame.to_numpy().ravel()]
    for token in personal_tokens:
        assert all(token not in cell for cell in cells), token
    assert all(ADDRESS_E3 not in c and PHONE_E3 not in c for c in cells)


def test_no_personal_data_in_file(plan_result, personal_tokens, tmp_path):
    path = write_publication(plan_result, tmp_path)
    text = path.read_bytes().decode("utf-8-sig")
    for token in [*personal_tokens, ADDRESS_E3, PHONE_E3, "38.05", "114.5"]:
        assert token not in text, token
    read = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert_no_personal_data(read, plan_result.registry)


def test_joint_task_row_names_agencies_and_items(plan_result):
    frame = publication_frame(plan_result)
    row = frame[(frame["visit_id"] == "V0003") & (frame["task_id"] == "T2")].iloc[0]
    assert row["agency"] == "长安区市场监督管理局"
    assert row["joint_agencies"] == "石家庄市生态环境局长安区分局"
    assert row["credit_code"] == E4
    assert row["enterprise"] == "河北绿源化工有限公司"
    assert row["region_code"] == "130104"
    assert row["industry"] == "C2614"
    assert row["items"] == "工业产品生产许可证后检查;排污许可证执行情况检查"
    assert row["date"] == "2026-01-08"
    assert row["result"] == PENDING_RESULT == "待检查"
    t1 = frame[(frame["visit_id"] == "V0001")].iloc[0]
    assert t1["joint_agencies"] == ""
    assert t1["credit_code"] == E1


def test_rows_sorted_by_task_date_code(plan_result):
    frame = publication_frame(plan_result)
    keys = list(zip(frame["task_id"], frame["date"], frame["credit_code"], frame["visit_id"], strict=True))
    assert keys == sorted(keys)


def test_file_bom_newlines_and_bytes_stable(plan_result, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_publication(plan_result, tmp_path / "a").read_bytes()
    b = write_publication(plan_result, tmp_path / "b").read_bytes()
    assert a == b
    assert a.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in a
    text = a.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(PUBLICATION_COLUMNS)
    assert HTML_NAME.replace('"', '""') in text  # the name is quoted, not mangled
    assert text.endswith("\n")


def test_assert_no_personal_data_catches_each_kind(plan_result):
    reg = plan_result.registry
    base = publication_frame(plan_result)
    cases = {
        "legal rep id": "130102198001011234",
        "relative's id": "130102196001019999",
        "inspector id": "I004",
        "inspector name": "赵敏",
        "certificate": "HB2021-0456",
        "name in a list": "王建国;李秀英",
        "certificate inside text": "执法证号13010219002",
    }
    for label, value in cases.items():
        frame = base.copy()
        frame.loc[0, "items"] = value
        with pytest.raises(PersonalDataError):
            assert_no_personal_data(frame, reg)
            pytest.fail(label)
    with pytest.raises(PersonalDataError, match="address"):
        assert_no_personal_data(base.assign(address=""), reg)


def test_registered_name_may_equal_an_inspector_name(plan_result):
    """An individual business registered under its owner's name is not an inspector leak."""
    frame = publication_frame(plan_result)
    frame.loc[0, "enterprise"] = "张伟"
    with pytest.raises(PersonalDataError):
        assert_no_personal_data(frame, plan_result.registry)
    assert_no_personal_data(frame, plan_result.registry, registered_names=("enterprise",))
    frame.loc[0, "enterprise"] = "130102198001011234"
    with pytest.raises(PersonalDataError):
        assert_no_personal_data(frame, plan_result.registry, registered_names=("enterprise",))


def test_strata_probabilities(plan_result, tmp_path):
    frame = strata_frame(plan_result)
    assert list(frame.columns) == STRATA_COLUMNS
    assert len(frame) == len(plan_result.strata)
    keys = list(zip(frame["task_id"], frame["stratum"], strict=True))
    assert keys == sorted(keys)
    rows = {(r.task_id, r.stratum): r for r in frame.itertuples()}
    assert rows[("T1", "A")].inclusion_probability == pytest.approx(0.5)
    assert rows[("T1", "C")].inclusion_probability == pytest.approx(1.0)
    assert rows[("T1", "D")].inclusion_probability == 0.0  # empty stratum, no division by zero
    assert rows[("T1", "A")].threshold == "3f2a"
    assert rows[("T1", "D")].threshold == ""

    path = write_strata(plan_result, tmp_path)
    assert path.name == "strata.csv"
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    read = pd.read_csv(path, dtype={"threshold": str}, keep_default_na=False)
    for r in read.itertuples():
        assert r.inclusion_probability == pytest.approx(
            r.sample_size / r.population_size if r.population_size else 0.0
        )
    assert write_strata(plan_result, tmp_path).read_bytes() == data
