"""Tag parsing: every form the platform and its APIs use, normalised to key -> list."""

from __future__ import annotations

import pytest

from rulekit import EventError
from rulekit._tags import parse_tags


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('{"env":["prod"],"team":["a","b"]}', {"env": ["prod"], "team": ["a", "b"]}),
        ("", {}),
        ("{}", {}),
        ("  ", {}),
        (None, {}),
        ({"env": ["prod"]}, {"env": ["prod"]}),
        ({"env": "prod"}, {"env": ["prod"]}),
        ({"env": None}, {"env": [""]}),
        ({"n": 1}, {"n": ["1"]}),
        (
            [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "env", "TagValue": "dev"}],
            {"env": ["prod", "dev"]},
        ),
        ([{"Key": "env", "Value": "prod"}], {"env": ["prod"]}),
        (b'{"k":["v"]}', {"k": ["v"]}),
        ('{"环境":["生产"]}', {"环境": ["生产"]}),
    ],
)
def test_forms(raw, expected):
    assert parse_tags(raw) == expected


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{env: prod}", "not valid JSON"),
        ("[1, 2]", "entries must be objects"),
        ('"text"', "must be a JSON object"),
        ({"env": {"nested": 1}}, "value of type dict"),
        ([{"Value": "x"}], "no TagKey"),
    ],
)
def test_unreadable_tags_raise_event_error(raw, message):
    with pytest.raises(EventError, match=message):
        parse_tags(raw)
