"""JSONPath access to the configuration, compiled once per path."""

from __future__ import annotations

import sys

import pytest

from rulekit import Resource
from rulekit._paths import PathError, compile_path

CONFIG = {
    "ImageId": "m-1",
    "VpcAttributes": {"VpcId": "vpc-1", "PrivateIpAddress": {"IpAddress": ["10.0.0.1"]}},
    "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team"}]},
    "Disks": [{"Size": 40}, {"Size": 500}],
    "Empty": None,
    "dash-key": 3,
}
R = Resource(id="i-1", type="ACS::ECS::Instance", region="r", account_id="1", configuration=CONFIG)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$.ImageId", "m-1"),
        ("$.VpcAttributes.VpcId", "vpc-1"),
        ("$.VpcAttributes.PrivateIpAddress.IpAddress[0]", "10.0.0.1"),
        ("$.Disks[1].Size", 500),
        ("$['dash-key']", 3),
        ("$.Empty", None),
        ("ImageId", "m-1"),
    ],
)
def test_plain_paths_return_the_value(path, expected):
    assert R[path] == expected


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$.Tags.Tag[*].TagKey", ["env", "team"]),
        ("$.Disks[*].Size", [40, 500]),
        ("$..TagValue", ["prod"]),
        ("$.Disks[?(@.Size > 100)].Size", [500]),
        ("$.Nothing[*]", []),
    ],
)
def test_wildcard_and_filter_paths_return_lists(path, expected):
    assert R[path] == expected


def test_a_missing_plain_path_raises_path_error_naming_it_and_get_returns_default():
    with pytest.raises(
        PathError,
        match=r"\$\.NoSuch is not in the configuration of "
        r"ACS::ECS::Instance i-1",
    ):
        R["$.NoSuch"]
    assert R.get("$.NoSuch", "dflt") == "dflt"
    assert R.get("$.ImageId") == "m-1"
    assert "$.ImageId" in R and "$.NoSuch" not in R


@pytest.mark.parametrize("path", ["$.[", "$.Disks[?(@.Size >)]", "", "$..."])
def test_invalid_paths_raise_path_error(path):
    with pytest.raises(PathError):
        compile_path(path)


def test_a_path_is_compiled_once_not_per_call():
    compile_path.cache_clear()
    for _ in range(100):
        R["$.Tags.Tag[*].TagKey"]
        R.get("$.ImageId")
    info = compile_path.cache_info()
    assert info.misses == 2
    assert info.hits == 198


def test_plain_paths_do_not_need_jsonpath_ng():
    import subprocess

    code = (
        "import sys; from rulekit import Resource; "
        "r = Resource(id='i', type='ACS::ECS::Instance', region='r', account_id='1', "
        "configuration={'A': {'B': [1]}}); assert r['$.A.B[0]'] == 1; "
        "print('jsonpath_ng' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("$.A.B", {"A": {"B": 0}}, 0),
        ("$.A.B", {"A": {"B": None}}, None),  # present but null: the value, not the default
        ("$.A.B", {"A": {}}, "default"),
        ("$.A.B", {"A": ["B"]}, "default"),
        ("$.A[1]", {"A": [1, 2]}, 2),
        ("$.A[2]", {"A": [1, 2]}, "default"),
        ("$.A[0]", {"A": {"0": 1}}, "default"),
        ("$['a b']", {"a b": 3}, 3),
    ],
)
def test_value_reads_what_find_reads(path, data, expected):
    compiled = compile_path(path)
    assert compiled.value(data, "default") == expected
    assert compiled.find(data) == ([] if expected == "default" else [expected])


def test_value_refuses_a_path_that_can_match_several():
    with pytest.raises(PathError, match="can match several values"):
        compile_path("$.Tags.Tag[*].TagKey").value({})
