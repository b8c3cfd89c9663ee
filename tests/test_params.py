"""Params: camelCase keys, platform strings coerced, clear ParamsError naming key and value."""

from __future__ import annotations

import logging
from typing import Annotated

import pytest
from pydantic import Field

from rulekit import Params, ParamsError
from rulekit._params import parse_params


class AllKinds(Params):
    image_ids: list[str]
    cpu_count: int = 2
    memory_size: float = 1.5
    deletion_protection: bool = False
    vpc_ids: list[str] | None = None
    ports: set[int] = set()
    limits: dict[str, int] = {}
    bandwidth: Annotated[int, Field(ge=1)] = 10


def test_snake_case_fields_read_camel_case_keys():
    p = parse_params(
        AllKinds,
        {"imageIds": "m-1", "cpuCount": "4", "memorySize": "8.5", "deletionProtection": "true"},
    )
    assert (p.image_ids, p.cpu_count, p.memory_size, p.deletion_protection) == (
        ["m-1"],
        4,
        8.5,
        True,
    )


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("m-1,m-2", ["m-1", "m-2"]),
        (" m-1 , m-2 ,", ["m-1", "m-2"]),
        ('["m-1", "m,2"]', ["m-1", "m,2"]),
        ("m-1", ["m-1"]),
    ],
)
def test_comma_separated_or_json_array_strings_become_lists(raw, expected):
    assert parse_params(AllKinds, {"imageIds": raw}).image_ids == expected


@pytest.mark.parametrize(
    "raw, expected", [("true", True), ("false", False), ("True", True), ("1", True), ("0", False)]
)
def test_boolean_strings(raw, expected):
    assert (
        parse_params(AllKinds, {"imageIds": "m", "deletionProtection": raw}).deletion_protection
        is expected
    )


def test_sets_of_ints_and_json_object_strings():
    p = parse_params(AllKinds, {"imageIds": "m", "ports": "22,3389,22", "limits": '{"a": "3"}'})
    assert p.ports == {22, 3389}
    assert p.limits == {"a": 3}


def test_empty_string_means_not_set():
    p = parse_params(AllKinds, {"imageIds": "m", "vpcIds": "", "cpuCount": ""})
    assert p.vpc_ids is None and p.cpu_count == 2


def test_values_already_typed_pass_through():
    assert parse_params(AllKinds, {"image_ids": ["a"], "cpuCount": 3}).cpu_count == 3


def test_missing_required_parameter_names_the_platform_key():
    with pytest.raises(ParamsError) as caught:
        parse_params(AllKinds, {})
    assert "'imageIds' is required" in str(caught.value)
    assert caught.value.problems == {"imageIds": "is required but was not given"}


@pytest.mark.parametrize(
    "params, key, shown",
    [
        ({"cpuCount": "four"}, "cpuCount", "'four'"),
        ({"memorySize": "lots"}, "memorySize", "'lots'"),
        ({"deletionProtection": "maybe"}, "deletionProtection", "'maybe'"),
        ({"bandwidth": "0"}, "bandwidth", "'0'"),
        ({"ports": "22,ssh"}, "ports", "'22,ssh'"),
        ({"limits": "{not json"}, "limits", "'{not json'"),
    ],
)
def test_invalid_value_names_the_key_and_the_value(params, key, shown):
    with pytest.raises(ParamsError) as caught:
        parse_params(AllKinds, {"imageIds": "m", **params})
    message = str(caught.value)
    assert f"'{key}" in message and shown in message
    assert any(k.startswith(key) for k in caught.value.problems)


def test_unknown_parameters_are_logged_not_silently_dropped(caplog):
    with caplog.at_level(logging.WARNING, logger="rulekit.params"):
        parse_params(AllKinds, {"imageIds": "m", "imageId": "typo"})
    assert "'imageId'" in caplog.text


def test_params_are_immutable():
    p = parse_params(AllKinds, {"imageIds": "m"})
    with pytest.raises(Exception, match="frozen"):
        p.cpu_count = 3
