"""rulekit._fastjson must be json itself, only faster: same values, same errors, same text."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulekit._fastjson import compact_encoder, loads

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
_space = st.sampled_from(["", " ", "\n", "\t ", "\r\n"])


@settings(max_examples=300, deadline=None)
@given(value=_json_values, before=_space, after=_space, ascii_only=st.booleans())
def test_loads_reads_what_json_loads_reads(value, before, after, ascii_only):
    text = before + json.dumps(value, ensure_ascii=ascii_only) + after
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    ["", " ", "{", '{"a": 1}x', '{"a": 1} {}', "[1,]", "\ufeff{}", '{"a": "\\x"}', "nul", "1 2"],
)
def test_loads_fails_exactly_as_json_does(text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        loads(text)
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)


def test_loads_keeps_json_extensions_and_nesting_limits():
    assert math.isnan(loads("NaN")) and loads("-Infinity") == -math.inf
    with pytest.raises(RecursionError):
        loads("[" * 100_000 + "]" * 100_000)


_wire = st.dictionaries(
    st.sampled_from(["accountId", "complianceResourceId", "complianceType", "annotation", "é"]),
    st.integers() | st.text() | st.none() | st.booleans() | st.floats(allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(batch=st.lists(_wire, max_size=5))
def test_compact_encoder_writes_what_json_dumps_writes(batch):
    encode = compact_encoder()
    assert encode(batch) == json.dumps(batch, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(encode(batch)) == batch


def test_compact_encoder_refuses_what_json_refuses():
    encode = compact_encoder()
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        encode([{"a": object()}])
    assert encode([{"a": 1}]) == '[{"a":1}]'  # reusable after a failure


def test_compact_encoder_without_the_c_accelerator_is_json_itself(monkeypatch):
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)
    encode = compact_encoder()
    assert encode([{"a": "é", "b": [1, None]}]) == '[{"a":"é","b":[1,null]}]'
