"""全过程记录: a tamper-evident, append-only log of every import, draw, recusal, result and publication.

The log is a JSON Lines file (UTF-8, one record per line, each line ending in ``\\n``).
A record is a JSON object with exactly these keys, in this order::

    {"seq":3,"time":"2026-11-23T03:50:00Z","kind":"draw","actor":"张三","data":{...},
     "prev":"<64 hex>","hash":"<64 hex>"}

* ``seq``: 0, 1, 2, ... in file order;
* ``time``: UTC, ISO 8601 with seconds and a ``Z``;
* ``kind``: one of ``commit``, ``import``, ``draw``, ``recusal``, ``result``, ``publication``, ``note``;
* ``actor``: who did it (may be empty); ``data``: any JSON object;
* ``prev``: the ``hash`` of the previous record, 64 zeros for record 0;
* ``hash``: lowercase hex SHA-256 of the canonical JSON of the record without ``hash``.

Canonical JSON is ``json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``
encoded as UTF-8: keys sorted (by code point), no whitespace, non-ASCII characters written as
themselves, control characters as ``\\u00XX`` (lowercase hex) or ``\\n``-style escapes. Floats are
written as Python's shortest round-trip form; NaN and infinities are refused.

How an auditor checks a log (any language)::

    prev = "0" * 64
    for i, line in enumerate(file.read_bytes().split(b"\\n")[:-1]):  # last piece must be b""
        rec = json_parse(line)
        claimed = rec.pop("hash")
        assert sha256(canonical_json(rec).encode("utf-8")).hexdigest() == claimed  # not altered
        assert rec["prev"] == prev and rec["seq"] == i                          # none removed/moved
        prev = claimed
    assert prev == published_head       # none removed from, or added to, the end

Only the published head (the last record's hash, printed in the publication and kept
elsewhere) can show that records were removed from or added to the end, so publish it.

:func:`verify_log` also checks that every line is written exactly as this module writes it
(the keys in the order above, every nested object with sorted keys, no whitespace), so that no
byte of the file can change without verification failing. Appends by several processes are
serialised with an exclusive ``flock`` on the log file; each record is written by one ``write``
followed by ``fsync``. An append to a log that does not verify is refused (:class:`AuditError`),
so a tampered log cannot be papered over by new records.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scheduler.messages import t

__all__ = [
    "KINDS",
    "ZERO_HASH",
    "AuditError",
    "AuditLog",
    "AuditReport",
    "canonical_json",
    "make_record",
    "verify_log",
    "verify_records",
]

KINDS = ("commit", "import", "draw", "recusal", "result", "publication", "note")
KEYS = ("seq", "time", "kind", "actor", "data", "prev", "hash")
ZERO_HASH = "0" * 64

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class AuditError(Exception):
    """The audit log does not verify (the message names the first bad record)."""


@dataclass(frozen=True)
class AuditReport:
    """What :func:`verify_log` found.

    ``count`` is the number of records that verified (all of them when ``ok``), ``head`` the
    hash of the last of those (64 zeros if none), ``first_bad`` the seq (= line index, from 0)
    of the first bad, missing or added record, or ``None`` when ``ok``.
    """

    ok: bool
    count: int
    head: str
    first_bad: int | None
    message: str


def canonical_json(obj: Any) -> str:
    """The canonical JSON text of ``obj`` (sorted keys, no whitespace, non-ASCII kept)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _record_hash(record: dict[str, Any]) -> str:
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _line(record: dict[str, Any]) -> bytes:
    """The record as one line of the file: keys in ``KEYS`` order, nested objects sorted."""
    ordered = {key: json.loads(canonical_json(record[key])) for key in KEYS}
    text = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _field_problem(record: dict[str, Any]) -> str | None:
    """Why a record with a matching hash is still not a valid record, or ``None``."""
    seq, time, kind, actor, data, prev = (record[key] for key in KEYS[:-1])
    if type(seq) is not int:
        return t("audit_seq_not_int", seq=seq)
    if not isinstance(time, str) or not _TIME.fullmatch(time):
        return t("audit_time_form", time=time)
    try:
        datetime.strptime(time, _TIME_FORMAT)
    except ValueError:
        return t("audit_time_real", time=time)
    if kind not in KINDS:
        return t("audit_kind", kind=kind, kinds=", ".join(KINDS))
    if not isinstance(actor, str):
        return t("audit_actor", actor=actor)
    if not isinstance(data, dict):
        return t("audit_data")
    if not isinstance(prev, str) or not _HEX64.fullmatch(prev):
        return t("audit_prev")
    return None


def _scan(content: bytes) -> tuple[list[dict[str, Any]], AuditReport]:
    """Verify the bytes of a log; return the records that verified and the report."""
    records: list[dict[str, Any]] = []
    prev = ZERO_HASH
    pieces = content.split(b"\n")
    complete = pieces[:-1]
    tail = pieces[-1]

    def bad(index: int, message: str) -> tuple[list[dict[str, Any]], AuditReport]:
        return records, AuditReport(False, len(records), prev, index, message)

    for index, raw in enumerate(complete + ([tail] if tail else [])):
        truncated = index == len(complete)
        if truncated:
            try:
                json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
                what = t("audit_truncated_complete")
            except ValueError:
                what = t("audit_truncated_middle")
            return bad(index, t("audit_truncated", index=index, what=what))
        try:
            record = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            return bad(index, t("audit_not_utf8", index=index, line=index + 1))
        except ValueError:
            what = t("audit_empty_line") if not raw.strip() else t("audit_not_json")
            return bad(index, t("audit_bad_line", index=index, line=index + 1, what=what))
        if not isinstance(record, dict) or tuple(record) != KEYS:
            found = list(record) if isinstance(record, dict) else type(record).__name__
            return bad(index, t("audit_not_record", index=index, keys=list(KEYS), found=found))
        try:
            canonical = _line(record) == raw + b"\n"
            digest = _record_hash(record)
        except (TypeError, ValueError):  # e.g. a lone surrogate escape that cannot be UTF-8
            canonical, digest = False, ""
        if not canonical:
            return bad(index, t("audit_not_canonical", index=index, line=index + 1))
        if digest != record["hash"]:
            return bad(index, t("audit_hash_mismatch", index=index))
        problem = _field_problem(record)
        if problem is not None:
            return bad(index, t("audit_invalid_record", index=index, problem=problem))
        if record["prev"] != prev:
            return bad(index, t("audit_link_broken", index=index))
        if record["seq"] != index:
            return bad(index, t("audit_bad_seq", index=index, seq=record["seq"]))
        records.append(record)
        prev = record["hash"]
    message = t("audit_ok_records", n=len(records), head=prev) if records else t("audit_ok_empty")
    return records, AuditReport(True, len(records), prev, None, message)


def _check_head(report: AuditReport, records: list[dict[str, Any]], head: str) -> AuditReport:
    """Compare the end of a verified log with the published head."""
    if not _HEX64.fullmatch(head):
        raise ValueError(f"published head {head!r} is not a SHA-256 in hex (64 hex digits)")
    if head == report.head:
        return report
    ends = t("audit_ends_at", last=report.count - 1, head=report.head) if records else t("audit_ends_empty")
    hashes = [ZERO_HASH] + [record["hash"] for record in records]
    if head in hashes:
        first_added = hashes.index(head)
        which = t("audit_record_n", n=first_added - 1) if first_added else t("audit_the_empty_log")
        message = t("audit_added", ends=ends, head=head, which=which, first=first_added, last=report.count - 1)
        return AuditReport(False, report.count, report.head, first_added, message)
    after = t("audit_record_n", n=report.count - 1) if records else t("audit_the_start")
    message = t("audit_removed", ends=ends, head=head, after=after)
    return AuditReport(False, report.count, report.head, report.count, message)


def _read_locked(path: Path) -> bytes | None:
    """The bytes of the log under a shared lock, or ``None`` if there is no file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        return _read_all(fd)
    finally:
        os.close(fd)  # closing releases the lock


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def verify_log(path: str | Path, head: str | None = None) -> AuditReport:
    """Verify the hash chain of the log at ``path``; name the first bad record.

    With ``head`` (the published hash of the last record), also detect records removed
    from or added to the end. An empty or missing file is a valid log of 0 records.
    """
    content = _read_locked(Path(path))
    records, report = _scan(content or b"")
    if report.ok and head is not None:
        report = _check_head(report, records, head.strip().lower())
    return report


def _format_time(now: datetime | None) -> str:
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"time {now!r} has no time zone; give an aware datetime (e.g. UTC)")
    return now.astimezone(UTC).strftime(_TIME_FORMAT)


def make_record(seq: int, prev: str, kind: str, data: dict, actor: str = "", now: datetime | None = None) -> dict:
    """A record chained after ``prev`` (for stores other than a file, e.g. the service's database)."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    record: dict[str, Any] = {
        "seq": seq,
        "time": _format_time(now),
        "kind": kind,
        "actor": actor,
        "data": json.loads(canonical_json(data)),
        "prev": prev,
    }
    record["hash"] = _record_hash(record)
    return record


def verify_records(records: list[dict], head: str | None = None) -> AuditReport:
    """Verify records held elsewhere exactly as :func:`verify_log` verifies a file of them."""
    content = b"".join(_line(r) for r in records)
    checked, report = _scan(content)
    if report.ok and head is not None:
        report = _check_head(report, checked, head.strip().lower())
    return report


class AuditLog:
    """An append-only, hash-chained JSON Lines log (全过程记录) at ``path``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, kind: str, data: dict, actor: str = "", now: datetime | None = None) -> dict:
        """Chain a new record after the last one and return it as written.

        Raises ``ValueError`` for an unknown kind, a naive ``now`` or data that is not JSON,
        and :class:`AuditError` if the log as it stands does not verify.
        """
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict (a JSON object), not {type(data).__name__}")
        if not isinstance(actor, str):
            raise TypeError(f"actor must be a string, not {type(actor).__name__}")
        time = _format_time(now)
        try:
            data = json.loads(canonical_json(data))
            canonical_json(data).encode("utf-8")
            actor.encode("utf-8")
        except (TypeError, ValueError) as err:
            raise ValueError(f"data or actor cannot be written as UTF-8 JSON: {err}") from err

        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records, report = _scan(_read_all(fd))
            if not report.ok:
                raise AuditError(f"{self.path}: refusing to append to a log that does not verify: {report.message}")
            record: dict[str, Any] = {
                "seq": len(records),
                "time": time,
                "kind": kind,
                "actor": actor,
                "data": data,
                "prev": report.head,
            }
            record["hash"] = _record_hash(record)
            line = memoryview(_line(record))
            while line:  # one write in practice; a short write is finished under the lock
                line = line[os.write(fd, line) :]
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock
        if created:
            _fsync_dir(self.path.parent)
        return json.loads(_line(record))

    def records(self) -> list[dict]:
        """All records, in order; raises :class:`AuditError` if the log does not verify."""
        records, report = _scan(_read_locked(self.path) or b"")
        if not report.ok:
            raise AuditError(f"{self.path}: {report.message}")
        return records

    def head(self) -> str:
        """The hash of the last record (64 zeros for an empty log); the value to publish."""
        records = self.records()
        return records[-1]["hash"] if records else ZERO_HASH


def _fsync_dir(directory: Path) -> None:
    """Make a newly created log's directory entry durable (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
