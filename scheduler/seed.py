"""Public seeds (RFC 3797 style): commit to the inputs first, then let public randomness decide.

1. ``commit``: before anyone can know the seed, the bureau publishes the commitment —
   SHA-256 of the canonical commitment document (the SHA-256 of every input file, the plan file,
   the software version and the public randomness source named in advance, e.g. "福彩双色球
   2026012期开奖号码"). Canonical JSON: ``json.dumps(doc, ensure_ascii=False, sort_keys=True,
   separators=(",", ":"))`` in UTF-8.
2. The source's numbers become public after the commitment. Their canonical key string follows
   RFC 3797 §4: each source's numbers as decimal integers, sorted ascending (a lottery draws a
   set), each followed by ``.``, each source followed by ``/`` — e.g. ``3.11.17.22.28.31./9./``
   for the red balls and the blue ball given as ``3 11 17 22 28 31; 9``.
3. seed = hex SHA-256 of ``<commitment>|<key string>``.

Nobody controls both halves: the inputs were fixed before the numbers existed, and the numbers
come from a draw the bureau does not run. A run with a seed typed on the command line is
marked ``test``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from scheduler.audit import canonical_json
from scheduler.errors import InputError, Problem
from scheduler.hashing import sha256_file
from scheduler.messages import t

FORMAT = "randinspect-commitment/1"


def canonical(doc: dict) -> bytes:
    return canonical_json(doc).encode("utf-8")


def commitment_document(files: dict[str, Path], plan_file: Path, quarter: str, source: str, version: str) -> dict:
    """What the commitment hash covers (file names, not paths: a copy elsewhere verifies too)."""
    return {
        "format": FORMAT,
        "quarter": quarter,
        "inputs": {t: {"file": Path(p).name, "sha256": sha256_file(Path(p))} for t, p in sorted(files.items())},
        "plan": {"file": plan_file.name, "sha256": sha256_file(plan_file)},
        "randinspect": version,
        "source": source,
    }


def commitment_hash(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "commitment"}
    return hashlib.sha256(canonical(body)).hexdigest()


def key_string(beacon: str, keep_order: bool = False) -> str:
    """RFC 3797 key string from numbers like ``"3 11 17 22 28 31; 9"`` (sources split by ``;``)."""
    sources = [s for s in beacon.split(";") if s.strip()]
    if not sources:
        raise ValueError(t("beacon_empty"))
    parts = []
    for s in sources:
        tokens = [t for t in re.split(r"[\s,，、+]+", s.strip()) if t]
        if not tokens or not all(t.isdigit() for t in tokens):
            raise ValueError(t("beacon_not_numbers", source=s.strip()))
        nums = [int(t) for t in tokens]
        if not keep_order:
            nums.sort()
        parts.append("".join(f"{n}." for n in nums) + "/")
    return "".join(parts)


def derive_seed(commitment: str, beacon: str, keep_order: bool = False) -> tuple[str, str]:
    """(seed, key string) from the published commitment and the public numbers."""
    key = key_string(beacon, keep_order)
    return hashlib.sha256(f"{commitment}|{key}".encode()).hexdigest(), key


def check_commitment(doc: dict, files: dict[str, Path], plan_file: Path, name: str = "commitment.json") -> None:
    """The inputs must be the ones committed to, byte for byte (else exit 2, naming them)."""
    problems = []
    if doc.get("format") != FORMAT:
        problems.append(Problem(name, None, "format", t("commit_bad_format", format=doc.get("format"))))
    elif commitment_hash(doc) != doc.get("commitment"):
        problems.append(Problem(name, None, "commitment", t("commit_bad_hash")))
    committed = doc.get("inputs", {})
    for table, path in sorted(files.items()):
        want = committed.get(table, {}).get("sha256")
        if want is None:
            problems.append(Problem(Path(path).name, None, None, t("commit_table_extra", table=table)))
        elif sha256_file(Path(path)) != want:
            problems.append(Problem(Path(path).name, None, None, t("commit_changed")))
    for table in sorted(set(committed) - set(files)):
        problems.append(Problem(committed[table]["file"], None, None, t("commit_table_missing", table=table)))
    if doc.get("plan", {}).get("sha256") != sha256_file(plan_file):
        problems.append(Problem(plan_file.name, None, None, t("commit_changed")))
    if problems:
        raise InputError(problems)
