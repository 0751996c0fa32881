"""Above their size thresholds the report's charts aggregate or sample, and say so; the output
folder's manifest hashes what is on disk though the notices are hashed as they are written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from scheduler.hashing import sha256_file
from scheduler.outputs import MANIFEST, compare_outputs, write_outputs
from scheduler.plotting import (
    plot_load_expected_actual,
    plot_visits_by_region,
    plot_visits_by_task,
    plot_visits_map,
)
from scheduler.report import render_report


def _points(fig) -> list[str]:
    """The hover texts of every map point (visit id first)."""
    return [text for trace in fig.data for text in trace.text]


def _smallest_ids(result, k: int) -> list[str]:
    return sorted(
        (v.visit_id for v in result.visits), key=lambda vid: hashlib.sha256(vid.encode("utf-8")).digest()
    )[:k]


def test_map_draws_every_visit_below_the_threshold(plan_result):
    fig = plot_visits_map(plan_result)
    assert sorted(p.split()[0] for p in _points(fig)) == ["V0001", "V0002", "V0003", "V0004"]
    assert "抽样" not in fig.layout.title.text


def test_map_samples_the_smallest_sha256_above_the_threshold(plan_result, monkeypatch):
    monkeypatch.setattr("scheduler.plotting.visits_map.MAP_MAX_POINTS", 2)
    fig = plot_visits_map(plan_result)
    shown = sorted(p.split()[0] for p in _points(fig))
    assert shown == sorted(_smallest_ids(plan_result, 2))
    assert "抽样绘出 2 / 4 户" in fig.layout.title.text and "SHA-256" in fig.layout.title.text
    # the same two whatever the order of the visits
    plan_result.visits = plan_result.visits[::-1]
    assert sorted(p.split()[0] for p in _points(plot_visits_map(plan_result))) == shown
    # and the page carries only those
    html = render_report(plan_result)
    map_div = html[html.index('id="chart-visits-map"') :]
    for vid in {"V0001", "V0002", "V0003", "V0004"} - set(shown):
        assert vid not in map_div


def test_expected_actual_groups_inspectors_above_the_threshold(plan_result, monkeypatch):
    assert len(plot_load_expected_actual(plan_result).data[1].x) == 5  # one point per inspector
    monkeypatch.setattr("scheduler.plotting.load_expected_actual.INSPECTOR_POINTS_MAX", 3)
    fig = plot_load_expected_actual(plan_result)
    points = fig.data[1]
    # expected 1.6, 1.6, 2.4, 1.0, 0.4 and actual 2, 2, 3, 1, 0, in groups 0.5 wide
    got = {(x, y): n for x, y, n in zip(points.x, points.y, points.customdata, strict=True)}
    assert got == {(0.5, 0): 1, (1.0, 1): 1, (1.5, 2): 2, (2.5, 3): 1}
    assert list(points.text) == ["1 人", "1 人", "2 人", "1 人"]
    assert points.marker.size[2] > points.marker.size[0]  # more people, bigger point
    assert "5 名人员" in fig.layout.title.text and "分组" in fig.layout.title.text
    assert list(fig.data[0].x) == [0, 3]  # the diagonal as before


def test_regions_per_prefecture_above_the_threshold(plan_result, monkeypatch):
    fig = plot_visits_by_region(plan_result)
    assert dict(zip(fig.data[0].x, fig.data[0].y, strict=True)) == {
        "长安区市场监督管理局": 3, "130104（石家庄市市场监督管理局辖区）": 1
    }
    assert '<table id="regions">' not in render_report(plan_result)
    monkeypatch.setattr("scheduler.plotting.visits_by_region.REGION_BARS_MAX", 1)
    fig = plot_visits_by_region(plan_result)
    assert dict(zip(fig.data[0].x, fig.data[0].y, strict=True)) == {"石家庄市市场监督管理局": 4}
    assert list(fig.data[0].customdata) == ["130100"]
    assert "按地市汇总" in fig.layout.title.text and "2 个" in fig.layout.title.text
    # the counties the chart no longer shows are in the report's table
    html = render_report(plan_result)
    table = html[
        html.index('<table id="regions">') : html.index("</table>", html.index('<table id="regions">'))
    ]
    rows = [r for r in table.split("<tr>") if r.startswith("<td>")]
    assert [r.split("</td>")[0] for r in rows] == ["<td>130102", "<td>130104"]
    first = rows[0]
    assert "<td>石家庄市市场监督管理局</td>" in first and "长安区市场监督管理局" in first
    # 3 visits: risk A, B, C one each, D none; inspectors I001, I002, I003 on the teams
    nums = [c.split("</td>")[0] for c in first.split('<td class="num">')[1:]]
    assert nums == ["3", "1", "1", "1", "0", "3"]
    assert "2026-01-06 至 2026-01-12" in first


def test_tasks_per_prefecture_above_the_threshold(plan_result, monkeypatch):
    monkeypatch.setattr("scheduler.plotting.visits_by_task.TASK_BARS_MAX", 1)
    fig = plot_visits_by_task(plan_result)
    assert dict(zip(fig.data[0].x, fig.data[0].y, strict=True)) == {"石家庄市市场监督管理局": 5}  # T1 4 + T2 1
    assert "2 项任务" in fig.layout.title.text


def test_manifest_hashes_match_the_files(plan_result, tmp_path):
    out = write_outputs(plan_result, tmp_path / "out", tmp_path, Path(__file__))
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    outputs = manifest["outputs"]
    expected = {
        p.relative_to(out).as_posix(): sha256_file(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    assert list(outputs) == list(expected)  # same files, same order
    assert outputs == expected
    assert compare_outputs(outputs, out) == []
    assert {"notices/V0001.html", "notices/index.csv", "report.html"} <= set(outputs)


def test_writers_stage_by_stage(plan_result, tmp_path):
    stages: list[str] = []
    write_outputs(plan_result, tmp_path / "out", tmp_path, Path(__file__), on_stage=stages.append)
    assert stages[0] == "lookup" and stages[-1] == "done"
    assert {"notices", "report", "publication", "manifest"} <= set(stages)


def test_a_failed_write_leaves_nothing(plan_result, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("scheduler.outputs.write_notices", boom)
    with pytest.raises(OSError):
        write_outputs(plan_result, tmp_path / "out", tmp_path, Path(__file__))
    assert list(tmp_path.iterdir()) == []


def _reference_check(frame, registry, registered_names=()) -> str | None:
    """The personal-data check by brute force, every token in one set (as it was written first)."""
    from scheduler.publication import _cell_tokens, _personal_tokens

    tokens = _personal_tokens(registry)
    long_tokens = {t for t in tokens if len(t) >= 8}
    lengths = sorted({len(t) for t in long_tokens})
    for column in frame.columns:
        exact = long_tokens if column in registered_names else tokens
        for row, value in enumerate(frame[column].tolist()):
            cell = "" if value is None else str(value)
            hit = next((t for t in _cell_tokens(cell) if t in exact), None)
            for n in lengths:
                for i in range(len(cell) - n + 1):
                    hit = hit or (cell[i : i + n] if cell[i : i + n] in long_tokens else None)
            if cell and hit:
                return f"personal data in a public table: row {row + 1}, column {column}: {hit!r}"
    return None


def test_personal_data_check_finds_what_brute_force_finds(plan_result):
    """The check looks only at the tokens some cell could hold (a province has millions of legal
    representatives' ids); it must find exactly what looking for every token finds."""
    import random

    from scheduler.publication import (
        PersonalDataError,
        _personal_tokens,
        assert_no_personal_data,
        publication_frame,
    )

    registry = plan_result.registry
    base = publication_frame(plan_result)
    tokens = sorted(_personal_tokens(registry))
    rng = random.Random(11)
    raised = 0
    for _ in range(150):
        frame = base.copy()
        for _ in range(rng.randint(0, 2)):
            column, row, token = (
                rng.choice(list(frame.columns)),
                rng.randrange(len(frame)),
                rng.choice(tokens),
            )
            frame.loc[row, column] = rng.choice(
                [token, f" {token} ", f"x{token}y", f"a;{token}", token[:-1], token[1:], f"{token};b"]
            )
        names = rng.choice([(), ("enterprise",)])
        expected = _reference_check(frame, registry, names)
        try:
            assert_no_personal_data(frame, registry, registered_names=names)
            got = None
        except PersonalDataError as exc:
            got = str(exc)
            raised += 1
        assert got == expected
    assert 30 < raised < 150
