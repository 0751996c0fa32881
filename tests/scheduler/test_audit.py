"""全过程记录: the hash-chained audit log names the first bad record for every kind of tampering."""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.audit import KINDS, ZERO_HASH, AuditError, AuditLog, AuditReport, verify_log


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """These tests pin the record checker's messages in English (``--lang en``); the Chinese
    ones are the same catalogue entries (tests/test_messages.py checks both have the same fields
    and that `audit verify` speaks Chinese by default)."""
    monkeypatch.setenv("RANDINSPECT_LANG", "en")

T0 = datetime(2026, 11, 23, 3, 50, tzinfo=UTC)
LINK_BROKEN = "previous-hash link broken (a record before it was removed, reordered or altered)"


def _build(path: Path, n: int = 5) -> list[dict]:
    log = AuditLog(path)
    kinds = ["import", "draw", "recusal", "result", "publication", "note", "commit"]
    return [
        log.append(
            kinds[i % len(kinds)],
            {"task": f"T130102-{i}", "企业": "石家庄美味餐饮有限公司", "n": i, "score": i / 4},
            actor="张三" if i % 2 else "",
            now=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    _build(path)
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def _auditor(path: Path) -> str:
    """The ten-line re-implementation the module docstring gives an auditor."""
    prev = ZERO_HASH
    for i, line in enumerate(path.read_bytes().split(b"\n")[:-1]):
        rec = json.loads(line)
        claimed = rec.pop("hash")
        text = json.dumps(rec, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == claimed
        assert rec["prev"] == prev and rec["seq"] == i
        prev = claimed
    return prev


# --- a good log -------------------------------------------------------------------------------


def test_a_chain_of_five_records_verifies(log_path: Path):
    report = verify_log(log_path)
    records = AuditLog(log_path).records()
    assert report == AuditReport(True, 5, records[-1]["hash"], None, f"ok: 5 records, head {records[-1]['hash']}")
    assert [r["seq"] for r in records] == [0, 1, 2, 3, 4]
    assert records[0]["prev"] == ZERO_HASH
    assert all(b["prev"] == a["hash"] for a, b in zip(records, records[1:], strict=False))
    assert AuditLog(log_path).head() == records[-1]["hash"]
    assert verify_log(log_path, head=records[-1]["hash"]).ok
    assert verify_log(log_path, head=records[-1]["hash"].upper() + "\n").ok  # as copied from a PDF


def test_lines_are_utf8_json_with_keys_in_the_documented_order(log_path: Path):
    first = _lines(log_path)[0].decode("utf-8")
    assert first.startswith('{"seq":0,"time":"2026-11-23T03:50:00Z","kind":"import","actor":"","data":{')
    assert '"企业":"石家庄美味餐饮有限公司"' in first  # not \\u-escaped
    assert list(json.loads(first)) == ["seq", "time", "kind", "actor", "data", "prev", "hash"]
    assert log_path.read_bytes().endswith(b"}\n")


def test_the_docstring_rule_reimplemented_by_an_auditor_agrees(log_path: Path):
    assert _auditor(log_path) == AuditLog(log_path).head()


def test_append_returns_the_record_as_written(tmp_path: Path):
    log = AuditLog(tmp_path / "a.jsonl")
    rec = log.append("draw", {"b": 1, "a": [1, 2]}, actor="李四", now=T0)
    assert list(rec) == ["seq", "time", "kind", "actor", "data", "prev", "hash"]
    assert rec["data"] == {"a": [1, 2], "b": 1} and list(rec["data"]) == ["a", "b"]
    assert rec == log.records()[0]
    assert rec["time"] == "2026-11-23T03:50:00Z"


def test_time_is_stored_in_utc_to_the_second(tmp_path: Path):
    log = AuditLog(tmp_path / "a.jsonl")
    beijing = timezone(timedelta(hours=8))
    rec = log.append("note", {}, now=datetime(2026, 11, 23, 11, 50, 0, 999_999, tzinfo=beijing))
    assert rec["time"] == "2026-11-23T03:50:00Z"
    rec = log.append("note", {})
    assert abs(datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(
        minutes=1
    )


def test_bad_arguments_are_refused_and_nothing_is_written(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    with pytest.raises(ValueError, match="kind 'delete' is not one of commit, import, draw"):
        log.append("delete", {})
    with pytest.raises(ValueError, match="has no time zone"):
        log.append("note", {}, now=datetime(2026, 11, 23, 3, 50))
    with pytest.raises(ValueError, match="cannot be written as UTF-8 JSON"):
        log.append("note", {"x": math.nan})
    with pytest.raises(ValueError, match="cannot be written as UTF-8 JSON"):
        log.append("note", {"x": object()})
    with pytest.raises(ValueError, match="cannot be written as UTF-8 JSON"):
        log.append("note", {"x": "\ud800"})
    with pytest.raises(TypeError, match="data must be a dict"):
        log.append("note", [1, 2])  # type: ignore[arg-type]
    assert not path.exists() or path.read_bytes() == b""
    assert set(KINDS) == {"commit", "import", "draw", "recusal", "result", "publication", "note"}


def test_an_empty_or_missing_file_is_a_valid_log_of_zero_records(tmp_path: Path):
    missing = tmp_path / "missing.jsonl"
    assert verify_log(missing) == AuditReport(True, 0, ZERO_HASH, None, "ok: empty log (0 records)")
    assert verify_log(missing, head=ZERO_HASH).ok
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert verify_log(empty).count == 0 and verify_log(empty).ok
    assert AuditLog(empty).records() == [] and AuditLog(empty).head() == ZERO_HASH
    assert AuditLog(empty).append("note", {"hello": "世界"}, now=T0)["prev"] == ZERO_HASH


# --- tampering --------------------------------------------------------------------------------


def _assert_bad(report: AuditReport, first_bad: int, message: str) -> None:
    assert not report.ok
    assert report.first_bad == first_bad, report.message
    assert message in report.message, report.message
    assert report.count == first_bad or "published head" in report.message


def test_one_byte_changed_inside_data_names_that_record(log_path: Path):
    lines = _lines(log_path)
    assert b'"n":3' in lines[3]
    lines[3] = lines[3].replace(b'"n":3', b'"n":4')
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 3, "record 3 was altered: its hash does not match its content")


def test_a_changed_time_names_that_record(log_path: Path):
    lines = _lines(log_path)
    lines[2] = lines[2].replace(b"03:52:00Z", b"03:42:00Z")
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 2, "record 2 was altered: its hash does not match its content")


def test_an_altered_record_with_a_recomputed_hash_breaks_the_next_link(log_path: Path):
    lines = _lines(log_path)
    rec = json.loads(lines[1])
    rec["actor"] = "王五"
    body = {k: v for k, v in rec.items() if k != "hash"}
    rec["hash"] = hashlib.sha256(
        json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    lines[1] = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 2, f"record 2: {LINK_BROKEN}")


def test_swapped_lines_name_the_first_out_of_place(log_path: Path):
    lines = _lines(log_path)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 1, f"record 1: {LINK_BROKEN}")


def test_a_deleted_middle_line_names_the_record_after_the_gap(log_path: Path):
    lines = _lines(log_path)
    del lines[2]
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 2, f"record 2: {LINK_BROKEN}")


def test_a_deleted_first_line_is_detected(log_path: Path):
    _write_lines(log_path, _lines(log_path)[1:])
    _assert_bad(verify_log(log_path), 0, f"record 0: {LINK_BROKEN}")


def test_a_deleted_last_line_is_found_only_with_the_published_head(log_path: Path):
    published = AuditLog(log_path).head()
    lines = _lines(log_path)
    fourth = json.loads(lines[3])["hash"]
    _write_lines(log_path, lines[:-1])
    without = verify_log(log_path)
    assert without.ok and without.count == 4 and without.head == fourth
    report = verify_log(log_path, head=published)
    _assert_bad(
        report,
        4,
        f"the log ends at record 3 (hash {fourth}) but the published head is {published}, which no record "
        "has: records after record 3 were removed",
    )
    assert report.count == 4


def test_a_record_added_after_publication_is_found_with_the_published_head(log_path: Path):
    published = AuditLog(log_path).head()
    AuditLog(log_path).append("result", {"task": "T130102-4", "outcome": "未发现问题"}, now=T0)
    assert verify_log(log_path).ok
    _assert_bad(
        verify_log(log_path, head=published),
        5,
        f"but the published head is {published}, the hash of record 4: records 5 to 5 were added after publication",
    )
    assert verify_log(log_path, head=AuditLog(log_path).head()).ok


def test_everything_added_to_a_published_empty_log_is_found(log_path: Path):
    _assert_bad(verify_log(log_path, head=ZERO_HASH), 0, "the hash of the empty log: records 0 to 4 were added")


def test_a_published_head_that_is_not_a_hash_is_refused(log_path: Path):
    with pytest.raises(ValueError, match="is not a SHA-256 in hex"):
        verify_log(log_path, head="abc")


def test_a_forged_record_with_the_right_prev_but_a_wrong_hash(log_path: Path):
    lines = _lines(log_path)
    last = json.loads(lines[-1])
    forged = {"seq": 5, "time": "2026-11-23T04:00:00Z", "kind": "result", "actor": "张三",
              "data": {"outcome": "合格"}, "prev": last["hash"], "hash": "ab" * 32}
    _write_lines(log_path, [*lines, json.dumps(forged, ensure_ascii=False, separators=(",", ":")).encode()])
    _assert_bad(verify_log(log_path), 5, "record 5 was altered: its hash does not match its content")


def test_a_line_that_is_not_json(log_path: Path):
    lines = _lines(log_path)
    lines[3] = b"this is not json"
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 3, "record 3: line 4 is not valid JSON")


def test_an_inserted_empty_line(log_path: Path):
    lines = _lines(log_path)
    _write_lines(log_path, [*lines[:2], b"", *lines[2:]])
    _assert_bad(verify_log(log_path), 2, "record 2: line 3 is an empty line")


def test_a_file_truncated_mid_line(log_path: Path):
    content = log_path.read_bytes()
    start_of_last = content.rstrip(b"\n").rfind(b"\n") + 1
    log_path.write_bytes(content[: start_of_last + 40])
    _assert_bad(
        verify_log(log_path),
        4,
        "record 4: the last line is truncated (it stops in the middle of a record and has no newline at its end)",
    )


def test_a_missing_final_newline_is_a_truncated_line(log_path: Path):
    log_path.write_bytes(log_path.read_bytes()[:-1])
    _assert_bad(verify_log(log_path), 4, "record 4: the last line is truncated (it is complete JSON but has no newline")


def test_insignificant_whitespace_or_escapes_are_still_detected(log_path: Path):
    lines = _lines(log_path)
    original = lines[1]
    lines[1] = original.replace(b'"n":1', b'"n": 1')
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 1, "record 1 was altered: line 2 is not written in canonical form")
    lines[1] = original.replace("企".encode(), b"\\u4f01")  # the same string, escaped
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 1, "record 1 was altered: line 2 is not written in canonical form")


def test_a_self_consistent_record_with_a_wrong_seq(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    _build(path, 3)
    lines = _lines(path)
    rec = json.loads(lines[2])
    rec["seq"] = 7
    body = {k: v for k, v in rec.items() if k != "hash"}
    rec["hash"] = hashlib.sha256(
        json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    lines[2] = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode()
    _write_lines(path, lines)
    _assert_bad(verify_log(path), 2, "record 2: sequence number is 7, expected 2")


def test_bad_utf8_is_named(log_path: Path):
    lines = _lines(log_path)
    lines[2] = lines[2].replace("企".encode(), b"\xff\xfe\xfd")
    _write_lines(log_path, lines)
    _assert_bad(verify_log(log_path), 2, "record 2: line 3 is not valid UTF-8")


def test_append_refuses_a_tampered_log_and_leaves_it_as_it_was(log_path: Path):
    lines = _lines(log_path)
    lines[3] = lines[3].replace(b'"n":3', b'"n":9')
    _write_lines(log_path, lines)
    before = log_path.read_bytes()
    log = AuditLog(log_path)
    with pytest.raises(AuditError, match="refusing to append to a log that does not verify: record 3 was altered"):
        log.append("note", {"cover": "up"})
    assert log_path.read_bytes() == before
    with pytest.raises(AuditError, match="record 3 was altered"):
        log.records()
    with pytest.raises(AuditError, match="record 3 was altered"):
        log.head()


def test_append_refuses_a_truncated_log(log_path: Path):
    log_path.write_bytes(log_path.read_bytes()[:-10])
    with pytest.raises(AuditError, match="record 4: the last line is truncated"):
        AuditLog(log_path).append("note", {})


# --- concurrency ------------------------------------------------------------------------------


def _append_many(path: str, worker: int, count: int, start) -> None:
    """Worker process: wait for the start signal, then append ``count`` records."""
    start.wait()
    log = AuditLog(path)
    for i in range(count):
        log.append("note", {"worker": worker, "i": i, "padding": "x" * (i * 37 % 500)}, actor=f"w{worker}")


def test_two_processes_appending_at_once_give_one_chain(tmp_path: Path):
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [ctx.Process(target=_append_many, args=(str(path), w, 50, start)) for w in (1, 2)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    report = verify_log(path)
    assert report.ok and report.count == 100, report.message
    records = AuditLog(path).records()
    for w in (1, 2):
        assert [r["data"]["i"] for r in records if r["data"]["worker"] == w] == list(range(50))
    assert _auditor(path) == report.head


# --- any single-byte change is detected -------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
_record = st.tuples(
    st.sampled_from(KINDS),
    st.dictionaries(st.text(max_size=6), _json, max_size=4),
    st.text(max_size=6),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_record, min_size=1, max_size=4), edit=st.data())
def test_any_single_byte_change_is_detected_and_names_its_line(records, edit):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.jsonl"
        log = AuditLog(path)
        for kind, data, actor, now in records:
            log.append(kind, data, actor=actor, now=now)
        content = path.read_bytes()
        assert verify_log(path).ok and _auditor(path) == log.head()

        how = edit.draw(st.sampled_from(["replace", "insert", "delete"]), label="how")
        if how == "insert":
            at = edit.draw(st.integers(0, len(content)), label="at")
            byte = edit.draw(st.integers(0, 255), label="byte")
            changed = content[:at] + bytes([byte]) + content[at:]
        else:
            at = edit.draw(st.integers(0, len(content) - 1), label="at")
            if how == "delete":
                changed = content[:at] + content[at + 1 :]
            else:
                byte = edit.draw(st.integers(0, 255).filter(lambda b: b != content[at]), label="byte")
                changed = content[:at] + bytes([byte]) + content[at + 1 :]
        path.write_bytes(changed)

        report = verify_log(path)
        assert not report.ok, (how, at, changed)
        assert report.first_bad == content[:at].count(b"\n"), report.message
        with pytest.raises(AuditError):
            log.append("note", {})
