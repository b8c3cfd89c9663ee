"""Endpoint resolution and the invocation deadline."""

from __future__ import annotations

import pytest

from rulekit._deadline import Deadline
from rulekit._endpoints import resolve_endpoint
from rulekit.handler import run
from rulekit.testing import FCContext, change_event


@pytest.mark.parametrize(
    "region, host",
    [
        ("cn-hangzhou", "config.cn-shanghai.aliyuncs.com"),
        ("cn-beijing", "config.cn-shanghai.aliyuncs.com"),
        ("cn-hongkong", "config.ap-southeast-1.aliyuncs.com"),
        ("ap-southeast-1", "config.ap-southeast-1.aliyuncs.com"),
        ("eu-central-1", "config.ap-southeast-1.aliyuncs.com"),
    ],
)
def test_config_endpoint_by_site(region, host):
    assert resolve_endpoint("Config", region, environ={}) == host


def test_product_override_beats_the_global_override():
    env = {
        "RULEKIT_ENDPOINT": "http://127.0.0.1:1",
        "RULEKIT_CONFIG_ENDPOINT": "config-vpc.cn-shanghai.aliyuncs.com/",
    }
    assert resolve_endpoint("Config", "cn-hangzhou", env) == "config-vpc.cn-shanghai.aliyuncs.com"
    assert resolve_endpoint("ResourceManager", "cn-hangzhou", env) == "http://127.0.0.1:1"
    assert resolve_endpoint("ResourceManager", "cn-hangzhou", {}) == "resourcemanager.aliyuncs.com"


def test_handler_delivers_to_rulekit_config_endpoint(emulator, fc_context):
    env = emulator.environ(RULEKIT_RULES="sample_rules.contract")
    env["RULEKIT_CONFIG_ENDPOINT"] = env.pop("RULEKIT_ENDPOINT")
    event = change_event(
        "ACS::ECS::Instance",
        "i-1",
        {"ImageId": "m-1"},
        tags={"env": ["prod"]},
        rule_parameters={"imageIds": "m-1"},
    )
    run(event, fc_context, environ=env)
    assert len(emulator.put_calls) == 1


def test_deadline_from_the_fc_function_timeout_keeps_a_safety_margin():
    now = [100.0]
    deadline = Deadline(60, clock=lambda: now[0], margin=3)
    assert deadline.remaining() == 57
    now[0] += 57
    assert deadline.expired()
    assert Deadline.from_context(FCContext(timeout=60)).remaining() == pytest.approx(57, abs=1)
    assert Deadline.from_context(FCContext(timeout=8)).remaining() == pytest.approx(6, abs=1)
    assert Deadline.from_context(object()).remaining() == float("inf")


@pytest.mark.parametrize(
    "name, value",
    [
        ("RULEKIT_MAX_ATTEMPTS", "0"),
        ("RULEKIT_RETRY_BASE_DELAY", "fast"),
        ("RULEKIT_API_TIMEOUT", "-1"),
    ],
)
def test_bad_tuning_variables_are_configuration_errors(emulator, fc_context, name, value):
    from rulekit import ConfigurationError

    env = emulator.environ(RULEKIT_RULES="sample_rules.contract", **{name: value})
    event = change_event(
        "ACS::ECS::Instance", "i-1", {"ImageId": "m-1"}, rule_parameters={"imageIds": "m-1"}
    )
    with pytest.raises(ConfigurationError, match=name):
        run(event, fc_context, environ=env)
    assert emulator.calls == []


@pytest.mark.parametrize("bad", ["ftp://x", "http://host name", "config.aliyuncs.com?x=1"])
def test_a_malformed_endpoint_override_names_its_variable(bad):
    from rulekit import ConfigurationError
    from rulekit._endpoints import resolve_endpoint

    with pytest.raises(ConfigurationError, match="RULEKIT_CONFIG_ENDPOINT must be a host"):
        resolve_endpoint("Config", "cn-hangzhou", {"RULEKIT_CONFIG_ENDPOINT": bad})
    with pytest.raises(ConfigurationError, match="RULEKIT_ENDPOINT must be a host"):
        resolve_endpoint("Ecs", "cn-hangzhou", {"RULEKIT_ENDPOINT": bad})


@pytest.mark.parametrize(
    "good", ["config-vpc.cn-shanghai.aliyuncs.com", "http://127.0.0.1:8080/ecs", "https://h:1/"]
)
def test_hosts_and_http_urls_are_accepted_as_overrides(good):
    from rulekit._endpoints import resolve_endpoint

    assert resolve_endpoint("Config", "x", {"RULEKIT_CONFIG_ENDPOINT": good}) == good.rstrip("/")
