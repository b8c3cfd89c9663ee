"""The pytest plugin collects fixture files as test items, one per case."""

from __future__ import annotations

import pytest

from rulekit.testing import change_event, invoke

PASSING = """
rule: oss-bucket-public-write-prohibited
cases:
  - name: private
    resource: {id: b1, configuration: {AccessControlList: {Grant: private}}}
    expect: COMPLIANT
  - name: open
    resource: {id: b2, configuration: {AccessControlList: {Grant: public-read-write}}}
    expect: NON_COMPLIANT
"""


@pytest.fixture
def run_pytest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RULEKIT_LOAD_PLUGINS", "oss")

    def go(**files: str) -> pytest.RunResult:
        pytester.makefile(".rulekit.yaml", **files)
        return pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")

    return go


def test_each_case_is_an_item(run_pytest):
    result = run_pytest(buckets=PASSING)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*buckets.rulekit.yaml::oss-bucket-public-write-prohibited::private PASSED*"]
    )


def test_a_failing_case_shows_expected_and_actual(run_pytest):
    result = run_pytest(wrong=PASSING.replace("expect: NON_COMPLIANT", "expect: COMPLIANT"))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*expected: *COMPLIANT*", "*NON_COMPLIANT*"])


def test_a_file_without_cases_fails(run_pytest):
    result = run_pytest(empty="rule: oss-bucket-public-write-prohibited\ncases: []\n")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*has no cases*"])


def test_other_yaml_files_are_left_alone(pytester: pytest.Pytester):
    pytester.makefile(".yaml", config="rule: x\ncases: []\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_invoke_runs_a_rule_in_python_tests():
    [evaluation] = invoke(
        change_event("ACS::OSS::Bucket", "b1", {"AccessControlList": {"Grant": "public-read"}}),
        "oss-bucket-public-read-prohibited",
    )
    assert evaluation.compliance == "NON_COMPLIANT"
    assert evaluation.annotation["configuration"] == "public-read"


def test_invoke_serves_stubbed_api_responses_and_params():
    event = change_event("ACS::ECS::Instance", "i-1", {"ImageId": "m-1"})
    stub = {"Ecs": {"DescribeImages": {"Images": {"Image": [{"ImageOwnerAlias": "self"}]}}}}
    [evaluation] = invoke(event, "ecs-instance-image-owner-system", api=stub)
    assert evaluation.compliance == "NON_COMPLIANT"
    [approved] = invoke(event, "ecs-instance-image-check", params={"imageIds": "m-1"})
    assert approved.compliance == "COMPLIANT"
