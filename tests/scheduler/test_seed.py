"""Public seeds: commitment over the inputs, RFC 3797 key strings, derivation."""

from __future__ import annotations

import hashlib
import json

import pytest

from scheduler.errors import InputError
from scheduler.seed import check_commitment, commitment_document, commitment_hash, derive_seed, key_string


def test_key_string_follows_rfc_3797_sorted_sources():
    assert key_string("31 3 17 22 28 11; 9") == "3.11.17.22.28.31./9./"
    assert key_string("31 3; 9", keep_order=True) == "31.3./9./"
    assert key_string("01,02，03") == "1.2.3./"


def test_bad_beacon_is_refused_with_the_source():
    with pytest.raises(ValueError, match="公开号码 'a b'：应为以空格分隔的整数"):
        key_string("1 2; a b")


def test_seed_is_sha256_of_commitment_and_key_string():
    seed, key = derive_seed("c0ffee", "2 1; 5")
    assert key == "1.2./5./"
    assert seed == hashlib.sha256(b"c0ffee|1.2./5./").hexdigest()


def test_commitment_covers_every_input_byte(tmp_path):
    a = tmp_path / "agencies.csv"
    a.write_text("x\n", encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text("quarter: 2026Q1\n", encoding="utf-8")
    doc = commitment_document({"agencies": a}, plan, "2026Q1", "福彩3D 2026001期", "0.1.0")
    doc["commitment"] = commitment_hash(doc)
    check_commitment(json.loads(json.dumps(doc)), {"agencies": a}, plan)
    a.write_text("y\n", encoding="utf-8")
    plan.write_text("quarter: 2026Q2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        check_commitment(doc, {"agencies": a}, plan)
    assert "agencies.csv：承诺之后被改动" in str(err.value)
    assert "plan.yaml：承诺之后被改动" in str(err.value)
    doc["source"] = "something else"
    with pytest.raises(InputError, match="承诺文件与其自身的承诺哈希不符"):
        check_commitment(doc, {"agencies": a}, plan)
