"""Scope: the API's field names, comma strings, tag logic, overrides, folders."""

from __future__ import annotations

import pytest

from rulekit import Resource, Scope, ScopeError, ScopeWarning
from rulekit._api import ApiClient
from rulekit._directory import DirectoryFolders
from rulekit.handler import run
from rulekit.testing import TEST_CREDENTIALS, change_event

CONTRACT = "sample_rules.contract"


def _resource(**kwargs) -> Resource:
    base = dict(
        id="i-1",
        type="ACS::ECS::Instance",
        region="cn-hangzhou",
        account_id="111",
        name="web-1",
        resource_group_id="rg-a",
        tags={"env": ["prod"], "team": ["pay"]},
    )
    return Resource(**{**base, **kwargs})


def _in(scope: dict, resource: Resource | None = None) -> bool:
    return Scope.from_api(scope).why_out_of_scope(resource or _resource()) is None


class TestFields:
    def test_empty_scope_matches_everything(self):
        assert _in({})

    @pytest.mark.parametrize(
        "field, inside, outside",
        [
            ("ResourceTypesScope", "ACS::ECS::Instance,ACS::ECS::Disk", "ACS::ECS::Disk"),
            ("RegionIdsScope", "cn-shanghai, cn-hangzhou", "cn-shanghai"),
            ("ResourceGroupIdsScope", "rg-a", "rg-b"),
            ("ResourceIdsScope", "i-1,i-2", "i-2"),
            ("ResourceNameScope", "web-1", "web-2"),
            ("AccountIdsScope", "111,222", "222"),
        ],
    )
    def test_include_fields(self, field, inside, outside):
        assert _in({field: inside})
        assert not _in({field: outside})

    @pytest.mark.parametrize(
        "field, value",
        [
            ("ExcludeRegionIdsScope", "cn-hangzhou"),
            ("ExcludeResourceGroupIdsScope", "rg-x,rg-a"),
            ("ExcludeResourceIdsScope", "i-1"),
            ("ExcludeAccountIdsScope", "111"),
        ],
    )
    def test_exclude_fields(self, field, value):
        assert not _in({field: value})
        assert _in({field: "something-else"})

    def test_lists_are_accepted_as_well_as_comma_strings(self):
        assert _in({"RegionIdsScope": ["cn-hangzhou", "cn-beijing"]})

    def test_a_resource_without_a_group_is_outside_a_group_scope(self):
        # "" is the platform's "no group"; None (unknown) is never guessed: see why_undecided.
        assert not _in({"ResourceGroupIdsScope": "rg-a"}, _resource(resource_group_id=""))
        unknown = _resource(resource_group_id=None)
        assert _in({"ResourceGroupIdsScope": "rg-a"}, unknown)
        assert Scope.from_api({"ResourceGroupIdsScope": "rg-a"}).why_undecided(unknown)

    def test_the_reason_names_the_scope_field(self):
        reason = Scope.from_api({"ExcludeRegionIdsScope": "cn-hangzhou"}).why_out_of_scope(
            _resource()
        )
        assert reason == "cn-hangzhou is excluded by ExcludeRegionIdsScope"

    @pytest.mark.parametrize(
        "bad, message",
        [
            ({"RegionScope": "x"}, "unknown scope field 'RegionScope'"),
            ({"TagKeyLogicScope": "XOR"}, "AND or OR"),
            ({"TagsScope": "env=prod"}, "TagsScope must be a list"),
            ({"TagsScope": [{"TagValue": "x"}]}, "has no TagKey"),
            ({"RegionIdsScope": 5}, "comma-separated string or a list"),
        ],
    )
    def test_invalid_scopes_are_rejected(self, bad, message):
        with pytest.raises(ScopeError, match=message):
            Scope.from_api(bad)


class TestTags:
    def test_legacy_key_and_value(self):
        assert _in({"TagKeyScope": "env", "TagValueScope": "prod"})
        assert not _in({"TagKeyScope": "env", "TagValueScope": "dev"})

    def test_legacy_key_alone_matches_any_value(self):
        assert _in({"TagKeyScope": "team"})
        assert not _in({"TagKeyScope": "owner"})

    def test_legacy_several_keys_or_by_default(self):
        assert _in({"TagKeyScope": "owner,env"})

    def test_legacy_several_keys_with_and_need_all(self):
        assert _in({"TagKeyScope": "env,team", "TagKeyLogicScope": "AND"})
        assert not _in({"TagKeyScope": "env,owner", "TagKeyLogicScope": "AND"})

    def test_tags_scope_pairs_or(self):
        scope = {
            "TagsScope": [
                {"TagKey": "env", "TagValue": "dev"},
                {"TagKey": "team", "TagValue": "pay"},
            ]
        }
        assert _in(scope)
        assert not _in({**scope, "TagKeyLogicScope": "AND"})

    def test_tags_scope_pairs_and(self):
        scope = {
            "TagsScope": [
                {"TagKey": "env", "TagValue": "prod"},
                {"TagKey": "team", "TagValue": "pay"},
            ],
            "TagKeyLogicScope": "and",
        }
        assert _in(scope)

    def test_tags_scope_entry_without_value_matches_the_key(self):
        assert _in({"TagsScope": [{"TagKey": "env"}]})
        assert _in({"TagsScope": '[{"TagKey": "env", "TagValue": ""}]'})

    def test_exclude_tags_scope_wins(self):
        assert not _in(
            {"TagKeyScope": "env", "ExcludeTagsScope": [{"TagKey": "team", "TagValue": "pay"}]}
        )
        assert _in({"ExcludeTagsScope": [{"TagKey": "team", "TagValue": "other"}]})

    def test_untagged_resource_is_outside_any_tag_scope(self):
        assert not _in({"TagKeyScope": "env"}, _resource(tags={}))

    def test_tag_values_are_case_sensitive(self):
        assert not _in({"TagKeyScope": "env", "TagValueScope": "Prod"})


class TestOverrides:
    def test_rule_parameters_split_into_scope_and_params(self):
        scope, rest = Scope.split_parameters(
            {"imageIds": "m-1", "RegionIdsScope": "cn-x", "excludeResourceIdsScope": "i-9"}
        )
        assert scope == {"RegionIdsScope": "cn-x", "ExcludeResourceIdsScope": "i-9"}
        assert rest == {"imageIds": "m-1"}

    def test_override_replaces_only_the_named_fields(self):
        declared = Scope.from_api({"RegionIdsScope": "cn-a", "TagKeyScope": "env"})
        merged = declared.override({"RegionIdsScope": "cn-b"})
        assert merged.region_ids == ("cn-b",) and merged.tag_keys == ("env",)

    def test_to_api_round_trips(self):
        api = {
            "RegionIdsScope": "cn-a,cn-b",
            "TagsScope": [{"TagKey": "k", "TagValue": "v"}],
            "TagKeyLogicScope": "AND",
            "ExcludeResourceIdsScope": "i-1",
        }
        assert Scope.from_api(Scope.from_api(api).to_api()) == Scope.from_api(api)


class TestFolders:
    def test_folder_scope_without_a_resolver_is_an_error(self):
        with pytest.raises(ScopeError, match="resource-directory lookup"):
            Scope.from_api({"FolderIdsScope": "fd-1"}).why_out_of_scope(_resource())

    def test_folders_resolved_through_resource_manager_over_http(self, emulator):
        emulator.add_account("111", "fd-child", ["r-root", "fd-parent"])
        folders = DirectoryFolders(ApiClient(TEST_CREDENTIALS), endpoint=emulator.url)
        assert folders("111") == {"fd-child", "fd-parent", "r-root"}
        folders("111")
        assert len(emulator.calls_of("GetAccount")) == 1  # cached per account
        scope = Scope.from_api({"FolderIdsScope": "fd-parent"})
        assert scope.why_out_of_scope(_resource(), folders) is None
        excluded = Scope.from_api({"ExcludeFolderIdsScope": "fd-child"})
        assert "excluded folder fd-child" in excluded.why_out_of_scope(_resource(), folders)

    def test_handler_applies_account_and_folder_scope_end_to_end(self, emulator, fc_context):
        emulator.add_account("1000000000001234", "fd-dev", ["r-root"])
        event = change_event(
            "ACS::ECS::Instance",
            "i-1",
            {"ImageId": "m-1"},
            tags={"env": ["prod"]},
            rule_parameters={"imageIds": "m-1", "FolderIdsScope": "fd-prod"},
        )
        run(event, fc_context, environ=emulator.environ(RULEKIT_RULES="sample_rules.contract"))
        [evaluation] = emulator.evaluations
        assert evaluation["complianceType"] == "NOT_APPLICABLE"
        assert "FolderIdsScope" in evaluation["annotation"]

    def test_a_warm_instance_looks_an_account_up_once_across_invocations(
        self, emulator, fc_context
    ):
        emulator.add_account("1000000000001234", "fd-prod", ["r-root"])
        env = emulator.environ(RULEKIT_RULES="sample_rules.contract")
        for image in ("m-1", "m-9", "m-1"):
            event = change_event(
                "ACS::ECS::Instance",
                "i-1",
                {"ImageId": image},
                tags={"env": ["prod"]},
                rule_parameters={"imageIds": "m-1", "FolderIdsScope": "fd-prod"},
            )
            run(event, fc_context, environ=env)
        assert [e["complianceType"] for e in emulator.evaluations] == [
            "COMPLIANT",
            "NON_COMPLIANT",
            "COMPLIANT",
        ]
        assert len(emulator.calls_of("GetAccount")) == 1
        assert len(emulator.calls_of("ListAncestors")) == 1


#: A GetConfigRule response as a user copies it from the console or the CLI (2020-09-07 fields).
GET_CONFIG_RULE = {
    "RequestId": "3D5B4F8E-0000-4C3A-A1B2-000000000000",
    "ConfigRule": {
        "AccountId": 1000000000001234,
        "ConfigRuleArn": "acs:config::1000000000001234:rule/cr-1",
        "ConfigRuleId": "cr-1",
        "ConfigRuleName": "ecs-image-approved",
        "ConfigRuleState": "ACTIVE",
        "ConfigRuleTriggerTypes": "ConfigurationItemChangeNotification",
        "CreateBy": {"CreatorType": "ACCOUNT", "CreatorId": "1000000000001234"},
        "CreateTimestamp": 1700000000000,
        "Description": "",
        "InputParameters": {"imageIds": "m-1"},
        "RiskLevel": 1,
        "Source": {"Owner": "CUSTOM_FC", "Identifier": "acs:fc:cn-hangzhou:1:functions/f"},
        "Scope": {"ComplianceResourceTypes": ["ACS::ECS::Instance"]},
        "RegionIdsScope": "cn-hangzhou",
        "ExcludeResourceIdsScope": "i-skip",
        "TagsScope": [{"TagKey": "env", "TagValue": "prod"}],
    },
}


class TestPastedRules:
    """Scope.from_api takes what a user pastes: a whole GetConfigRule / GetAggregateConfigRule
    response, its ConfigRule object, or just the scope fields."""

    def test_a_whole_get_config_rule_response(self):
        scope = Scope.from_api(GET_CONFIG_RULE)
        assert scope.resource_types == ("ACS::ECS::Instance",)  # the legacy Scope field
        assert scope.region_ids == ("cn-hangzhou",)
        assert scope.exclude_resource_ids == ("i-skip",)
        assert scope.tags == (("env", "prod"),)

    def test_the_config_rule_object_alone(self):
        assert Scope.from_api(GET_CONFIG_RULE["ConfigRule"]) == Scope.from_api(GET_CONFIG_RULE)

    def test_resource_types_scope_wins_over_the_legacy_field(self):
        rule = {**GET_CONFIG_RULE["ConfigRule"], "ResourceTypesScope": "ACS::ECS::Disk"}
        assert Scope.from_api(rule).resource_types == ("ACS::ECS::Disk",)

    def test_an_aggregate_rule_with_account_and_folder_scopes(self):
        rule = {
            "ConfigRuleName": "x",
            "AccountIdsScope": "111,222",
            "ExcludeFolderIdsScope": "fd-sandbox",
            "Source": {"Owner": "CUSTOM_FC"},
        }
        scope = Scope.from_api({"RequestId": "r", "ConfigRule": rule})
        assert scope.account_ids == ("111", "222")
        assert scope.exclude_folder_ids == ("fd-sandbox",)

    def test_a_misspelt_scope_field_is_still_an_error(self):
        with pytest.raises(
            ScopeError, match="unknown scope field 'RegionIdScope'; did you mean 'RegionIdsScope'"
        ):
            Scope.from_api({"ConfigRuleName": "x", "RegionIdScope": "cn-hangzhou"})

    def test_json_text_as_copied_from_the_console(self):
        import json

        assert Scope.from_api(json.dumps(GET_CONFIG_RULE)) == Scope.from_api(GET_CONFIG_RULE)
        with pytest.raises(ScopeError, match="must be a JSON object"):
            Scope.from_api('{"RegionIdsScope": ')

    def test_a_generated_sdk_response_as_to_map_gives_it(self):
        # alibabacloud_config20200907's GetConfigRuleResponse().to_map(): headers, status, body
        response = {
            "headers": {"x-acs-request-id": "r"},
            "statusCode": 200,
            "body": GET_CONFIG_RULE,
        }
        assert Scope.from_api(response) == Scope.from_api(GET_CONFIG_RULE)

    def test_a_malformed_legacy_scope_is_an_error(self):
        with pytest.raises(ScopeError, match="legacy Scope"):
            Scope.from_api({"Scope": "ACS::ECS::Instance"})

    def test_several_tags_without_logic_warn_that_they_match_any(self):
        rule = {
            "ConfigRuleName": "x",
            "TagsScope": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team"}],
        }
        with pytest.warns(ScopeWarning, match="no TagKeyLogicScope: matching any of them"):
            scope = Scope.from_api(rule)
        assert scope.tag_logic == "OR"
        assert scope.why_out_of_scope(_resource(tags={"team": ["x"]})) is None  # OR: one is enough

    def test_an_explicit_logic_does_not_warn(self, recwarn):
        rule = {
            "TagsScope": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team"}],
            "TagKeyLogicScope": "AND",
        }
        assert Scope.from_api(rule).tag_logic == "AND"
        assert not [w for w in recwarn if issubclass(w.category, ScopeWarning)]


class TestResourceGroupUnknown:
    def test_a_group_scope_cannot_be_decided_without_the_group(self):
        scope = Scope.from_api({"ResourceGroupIdsScope": "rg-a"})
        why = scope.why_undecided(_resource(resource_group_id=None))
        assert why is not None and "ResourceGroupIdsScope cannot be decided" in why
        assert scope.why_undecided(_resource()) is None
        assert Scope().why_undecided(_resource(resource_group_id=None)) is None

    def test_a_change_event_without_the_group_is_insufficient_data(self, emulator, fc_context):
        event = change_event(
            "ACS::ECS::Instance",
            "i-1",
            {"ImageId": "m-1"},
            tags={"env": ["prod"]},
            rule_parameters={"imageIds": "m-1", "ResourceGroupIdsScope": "rg-a"},
        )
        summary = run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
        [ev] = emulator.evaluations
        assert ev["complianceType"] == "INSUFFICIENT_DATA"
        assert ev["annotation"].startswith("resource group unknown")
        assert summary["scopeUndecided"] == 1

    def test_a_change_event_takes_the_group_from_the_configuration(self, emulator, fc_context):
        event = change_event(
            "ACS::ECS::Instance",
            "i-1",
            {"ImageId": "m-1", "ResourceGroupId": "rg-a"},
            tags={"env": ["prod"]},
            rule_parameters={"imageIds": "m-1", "ResourceGroupIdsScope": "rg-a"},
        )
        run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
        assert emulator.evaluations[0]["complianceType"] == "COMPLIANT"


class TestOverridesStayWithinTheRule:
    def test_rule_parameters_cannot_add_a_resource_type(self, emulator, fc_context):
        event = change_event(
            "ACS::RAM::User",
            "u-1",
            {},
            rule_parameters={"imageIds": "m-1", "ResourceTypesScope": "ACS::RAM::User"},
        )
        with pytest.raises(ScopeError, match="ACS::RAM::User, which the rule does not evaluate"):
            run(event, fc_context, environ=emulator.environ(RULEKIT_RULES=CONTRACT))
        assert emulator.put_calls == []  # refused before anything was sent

    def test_rule_parameters_may_narrow_the_resource_types(self):
        from rulekit import Compliance, rule

        @rule(resource_types=["ACS::ECS::Instance", "ACS::ECS::Disk"], name="two-types")
        def two_types(resource):
            return Compliance.COMPLIANT

        prepared = two_types.configure({"ResourceTypesScope": "ACS::ECS::Disk"})
        assert prepared.scope.resource_types == ("ACS::ECS::Disk",)

    def test_a_declared_scope_cannot_name_an_undeclared_type(self):
        from rulekit import Compliance, RuleDefinitionError, rule

        with pytest.raises(RuleDefinitionError, match="ACS::RAM::User"):

            @rule(
                resource_type="ACS::ECS::Instance",
                name="mismatch",
                scope={"ResourceTypesScope": "ACS::RAM::User"},
            )
            def mismatch(resource):
                return Compliance.COMPLIANT
