"""The public surface: names pinned, typed, lazy where it matters for FC cold starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import rulekit
import rulekit.testing


def test_exported_names_are_pinned():
    assert sorted(rulekit.__all__) == sorted(
        [
            "ApiError",
            "Compliance",
            "ConfigurationError",
            "Context",
            "CredentialsError",
            "DeliveryError",
            "EvaluationError",
            "EventError",
            "Evaluation",
            "Params",
            "ParamsError",
            "PluginError",
            "Resource",
            "Rule",
            "RuleDefinitionError",
            "RuleNotFoundError",
            "RulekitError",
            "Scope",
            "ScopeError",
            "ScopeWarning",
            "__version__",
            "all_of",
            "any_of",
            "condition_rule",
            "hookimpl",
            "param",
            "path",
            "rule",
        ]
    )
    for name in rulekit.__all__:
        assert getattr(rulekit, name) is not None


def test_condition_rules_are_built_from_rulekit_itself():
    from rulekit import all_of, condition_rule, param, path

    built = condition_rule(
        "ecs-vpc-and-type",
        "ACS::ECS::Instance",
        all_of(
            path("$.InstanceNetworkType").string_equals("vpc"),
            path("$.InstanceType").string_equals(param("instanceType")),
        ),
    )
    assert isinstance(built, rulekit.Rule) and built.condition is not None
    assert rulekit.condition_rule is rulekit.conditions.condition_rule


def test_the_condition_engine_is_imported_only_when_used():
    assert "rulekit.conditions" not in _modules_after("import rulekit\nimport rulekit.handler")
    assert "rulekit.conditions" in _modules_after("from rulekit import condition_rule")


def test_every_error_is_a_rulekit_error():
    for name in rulekit.__all__:
        value = getattr(rulekit, name)
        if isinstance(value, type) and name.endswith("Error"):
            assert issubclass(value, rulekit.RulekitError), name


def test_testing_exports_resolve():
    for name in rulekit.testing.__all__:
        assert getattr(rulekit.testing, name) is not None


def test_package_is_typed():
    assert (Path(rulekit.__file__).parent / "py.typed").exists()


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_a_rule_without_params_does_not_import_pydantic_or_the_cli():
    loaded = _modules_after("from rulekit import rule, Compliance\nimport rulekit.handler")
    assert "pydantic" not in loaded
    assert "rulekit._cli" not in loaded and "argparse" not in loaded
    assert "jsonpath_ng" not in loaded


def test_the_sdk_is_imported_only_when_an_api_call_is_made():
    assert "aliyunsdkcore.client" not in _modules_after("import rulekit.handler")


def test_a_code_package_loads_its_packs_without_importlib_metadata(tmp_path):
    # ~25 ms of an FC cold start (it imports email, zipfile, csv...): `rulekit package` writes
    # the packs' entry points into the zip, and the function imports what they name.
    listed = tmp_path / "entry_points.json"
    listed.write_text('[["ecs", "rulekit_ecs", "rulekit-ecs"]]')
    loaded = _modules_after(
        "import rulekit._plugins as p\n"
        f"p.PACKAGED_ENTRY_POINTS = {str(listed)!r}\n"
        "assert set(p.Plugins.from_env({}).packs) == {'ecs'}"
    )
    assert "rulekit_ecs" in loaded
    assert "importlib.metadata" not in loaded


def test_an_invocation_delivering_its_evaluations_never_imports_the_sdk():
    # rulekit signs and sends API calls itself; the SDK (~200 ms to import) is the tests'
    # reference only, and not in the FC zip.
    loaded = _modules_after(
        "from rulekit.handler import run\n"
        "from rulekit.testing import ConfigEmulator, FCContext, sample_event\n"
        "with ConfigEmulator() as emulator:\n"
        "    env = emulator.environ(RULEKIT_RULES='rulekit.testing.example')\n"
        "    assert run(sample_event(), FCContext(), environ=env)['delivered'] == 1\n"
    )
    assert "rulekit._http" in loaded  # the call went out
    assert not [name for name in loaded if name.startswith("aliyunsdkcore")]


def test_outside_a_code_package_installed_packs_are_found_with_importlib_metadata():
    loaded = _modules_after("from rulekit._plugins import Plugins\nPlugins.from_env({})")
    assert {"rulekit_ecs", "rulekit_oss", "rulekit_ram"} <= loaded


# The modules a user may import by name: the package, the documented submodules and the entry
# points the platform and the tools name (FC's handler, pytest's plugin, the demo's rule module).
# Everything else is private by name (httpx's convention) and may change without notice.
PUBLIC_MODULES = {
    "rulekit",
    "rulekit.__main__",
    "rulekit.conditions",
    "rulekit.handler",
    "rulekit.pytest_plugin",
    "rulekit.testing",
    "rulekit.testing.example",
}


def _modules_of(package: Any) -> set[str]:
    import pkgutil

    found = {package.__name__}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        found.add(info.name)
    return found


def test_every_module_not_named_private_is_a_documented_one():
    public = {
        name
        for name in _modules_of(rulekit)
        if not any(part.startswith("_") and part != "__main__" for part in name.split("."))
    }
    assert public == PUBLIC_MODULES


def test_the_testing_surface_is_pinned():
    assert sorted(rulekit.testing.__all__) == sorted(
        [
            "DEFAULT_ACCOUNT_ID",
            "TEST_CREDENTIALS",
            "TEST_RESULT_TOKEN",
            "ApiCallError",
            "ApiFailure",
            "Call",
            "ConfigEmulator",
            "Delay",
            "Drop",
            "FCContext",
            "Fault",
            "Pass",
            "Plugins",
            "ResourceStore",
            "ServerError",
            "Session",
            "StoredResource",
            "Throttle",
            "change_event",
            "invoke",
            "sample_event",
            "scheduled_event",
        ]
    )


def test_docs_readme_and_packs_import_only_public_modules():
    import re

    root = Path(__file__).resolve().parent.parent
    texts = [*root.glob("docs/*.md"), root / "README.md", *root.glob("plugins/*/rulekit_*/*.py")]
    imported = set()
    for path in texts:
        text = path.read_text(encoding="utf-8")
        imported |= set(re.findall(r"(?:from|import) (rulekit(?:\.\w+)*)", text))
    assert imported and imported <= PUBLIC_MODULES, imported - PUBLIC_MODULES
