"""Validate exported templates against reference data nobody on the team wrote
(tests/data/deploy-schemas/README.md): the alicloud Terraform provider's documented arguments
(and the release that added each), the ROS resource types' properties and GetAtt names, and the
Config API's request parameters from the official SDK. Each function returns the problems found,
so a test asserts ``== []`` and a failure lists every one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2

DATA = Path(__file__).parent / "data"
TERRAFORM = json.loads((DATA / "deploy-schemas" / "terraform-alicloud.json").read_text())[
    "resources"
]
ROS = json.loads((DATA / "deploy-schemas" / "ros.json").read_text())["resource_types"]
ROS_NESTED = json.loads((DATA / "deploy-schemas" / "ros-nested.json").read_text())
API = json.loads((DATA / "config-api-requests.json").read_text())["actions"]
#: Provider CHANGELOG 1.260.0: "alicloud_fcv3_function ... Supported runtime set to python3.12".
PYTHON312_SINCE = "1.260.0"
_META = {"provider", "depends_on", "count", "for_each", "lifecycle", "__is_block__"}


def _unquote(value: Any) -> Any:
    return value[1:-1] if isinstance(value, str) and value[:1] == value[-1:] == '"' else value


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def terraform_resources(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    parsed = hcl2.loads(text)
    out = {}
    for entry in parsed.get("resource", []):
        for kind, named in entry.items():
            if kind == "__is_block__":
                continue
            for name, body in named.items():
                if name != "__is_block__":
                    out[(_unquote(kind), _unquote(name))] = body
    return out


def validate_terraform(text: str) -> list[str]:
    """Unknown, deprecated or missing required arguments and nested-block fields, references to
    attributes a resource does not export, and a provider constraint older than an argument (or
    the python3.12 runtime) used."""
    problems: list[str] = []
    parsed = hcl2.loads(text)
    constraint = _unquote(parsed["terraform"][0]["required_providers"][0]["alicloud"]["version"])
    minimum = _version(constraint.removeprefix(">=").strip())
    resources = terraform_resources(text)
    for (kind, name), body in resources.items():
        where = f"{kind}.{name}"
        schema = TERRAFORM.get(kind)
        if schema is None:
            problems.append(f"{where}: resource type not in the reference")
            continue
        arguments, blocks = schema["arguments"], schema["blocks"]
        for key, value in body.items():
            if key in _META:
                continue
            spec = arguments.get(key)
            if spec is None:
                problems.append(f"{where}: unknown argument {key}")
                continue
            if spec["deprecated"]:
                problems.append(f"{where}: deprecated argument {key}")
            if spec["since"] and _version(spec["since"]) > minimum:
                problems.append(f"{where}: {key} needs provider {spec['since']}, not {constraint}")
            if key in blocks:
                items = value if isinstance(value, list) else [value]
                for item in items:
                    if not isinstance(item, dict):
                        continue  # an attribute form (a map) rather than a block
                    for sub in item:
                        if sub not in _META and sub not in blocks[key]:
                            problems.append(f"{where}: {key} has no field {sub}")
        for key, spec in arguments.items():
            if spec["required"] and key not in body:
                problems.append(f"{where}: missing required argument {key}")
        runtime = _unquote(body.get("runtime"))
        if (
            kind == "alicloud_fcv3_function"
            and runtime == "python3.12"
            and (_version(PYTHON312_SINCE) > minimum)
        ):
            problems.append(f"{where}: python3.12 needs provider {PYTHON312_SINCE}")
    for ref_kind, ref_name, attr in re.findall(
        r"\b(alicloud_[a-z0-9_]+)\.([A-Za-z0-9_]+)\.([a-z_]+)", text
    ):
        if (ref_kind, ref_name) not in resources:
            problems.append(f"reference to undeclared {ref_kind}.{ref_name}")
            continue
        schema = TERRAFORM[ref_kind]
        if attr not in schema["attributes"] and attr not in schema["arguments"]:
            problems.append(f"{ref_kind} exports no attribute {attr}")
    return problems


def _walk(value: Any, found: list[Any]) -> None:
    if isinstance(value, dict):
        if "Fn::GetAtt" in value or "Ref" in value:
            found.append(value)
        for item in value.values():
            _walk(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found)


def validate_ros(template: dict[str, Any]) -> list[str]:
    """Unknown or missing required properties, GetAtt attributes a type does not have, Refs to
    nothing, compliance-pack rule items, and the FC3 runtime."""
    problems: list[str] = []
    resources = template.get("Resources", {})
    parameters = template.get("Parameters", {})
    for name, resource in resources.items():
        kind = resource["Type"]
        schema = ROS.get(kind)
        if schema is None:
            problems.append(f"{name}: type {kind} not in the reference")
            continue
        props = resource.get("Properties", {})
        for key in props:
            if key not in schema["properties"]:
                problems.append(f"{name} ({kind}): unknown property {key}")
        for key in schema["required"]:
            if key not in props:
                problems.append(f"{name} ({kind}): missing required property {key}")
        nested = ROS_NESTED.get(f"{kind}.ConfigRules")
        for item in props.get("ConfigRules", []) if nested else []:
            for key in item:
                if key not in nested["properties"]:
                    problems.append(f"{name} ({kind}): ConfigRules item has no {key}")
            for key in nested["required"]:
                if key not in item:
                    problems.append(f"{name} ({kind}): ConfigRules item misses {key}")
        if kind == "ALIYUN::FC3::Function":
            runtime = props.get("Runtime")
            if runtime not in ROS_NESTED["ALIYUN::FC3::Function.Runtime"]:
                problems.append(f"{name}: ROS documents no FC3 runtime {runtime}")
    found: list[Any] = []
    _walk(template, found)
    for ref in found:
        if "Fn::GetAtt" in ref:
            target, attr = ref["Fn::GetAtt"]
            if target not in resources:
                problems.append(f"GetAtt of undeclared resource {target}")
            elif attr not in ROS[resources[target]["Type"]]["get_att"]:
                problems.append(f"{resources[target]['Type']} has no GetAtt attribute {attr}")
        elif (
            isinstance(ref["Ref"], str)
            and not ref["Ref"].startswith("ALIYUN::")
            and ref["Ref"] not in parameters
            and ref["Ref"] not in resources
        ):
            problems.append(f"Ref to undeclared {ref['Ref']}")
    return problems


def validate_api(document: dict[str, Any]) -> list[str]:
    """Unknown actions, unknown request parameters (and ConfigRules / TagsScope item fields)."""
    problems: list[str] = []
    for index, request in enumerate(document["requests"]):
        action = request["Action"]
        schema = API.get(action)
        if schema is None:
            problems.append(f"request {index}: unknown action {action}")
            continue
        for key, value in request["Parameters"].items():
            if key not in schema["parameters"]:
                problems.append(f"request {index} ({action}): unknown parameter {key}")
            if key == "ConfigRules":
                for item in value:
                    problems += [
                        f"request {index} ({action}): ConfigRules item has no {k}"
                        for k in item
                        if k not in schema["ConfigRules"]
                    ]
            if key in ("TagsScope", "ExcludeTagsScope"):
                for item in value:
                    problems += [
                        f"request {index} ({action}): {key} item has no {k}"
                        for k in item
                        if k not in schema["TagsScope"]
                    ]
    return problems


def fmt_problems(text: str) -> list[str]:
    """Lines ``terraform fmt`` would change: indentation not two spaces per level, and runs of
    one-line attributes whose ``=`` is not aligned one space after the longest name."""
    problems: list[str] = []
    depth = 0
    run: list[tuple[int, str]] = []

    def close() -> None:
        if run:
            names = [re.match(r"\s*(\S+)", line).group(1) for _, line in run]  # type: ignore[union-attr]
            width = max(map(len, names))
            for (number, line), name in zip(run, names, strict=True):
                expected = f"{name.ljust(width)} = "
                if not line.strip().startswith(expected):
                    problems.append(f"line {number}: '=' not aligned: {line.strip()}")
        run.clear()

    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("}"):
            depth -= 1
        if stripped and line[: len(line) - len(line.lstrip())] != "  " * depth:
            problems.append(
                f"line {number}: indent {len(line) - len(line.lstrip())}, not {2 * depth}"
            )
        one_line_attribute = re.match(r"\s*[\w\"-]+\s+=\s", line) and not stripped.endswith(
            ("{", "[")
        )
        if one_line_attribute:
            run.append((number, line))
        else:
            close()
        if stripped.endswith("{"):
            depth += 1
    close()
    return problems
