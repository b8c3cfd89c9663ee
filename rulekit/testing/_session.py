"""Run a rule on one event in-process and get its evaluations: for unit tests written in Python.

The dispatcher path is the handler's (decode, rule selection, scope, parameters, the rule, plugin
hooks, evaluation assembly); delivery goes to memory instead of PutEvaluations. API calls made by
the rule (``ctx.call``) and OVERSIZE fetches go over the real SDK to a loopback emulator that
serves the stubs you pass; an unstubbed call fails naming it.

Example::

    from rulekit.testing import invoke, change_event

    [ev] = invoke(change_event("ACS::ECS::Instance", "i-1", {"ImageId": "m-9"}),
                  "ecs-instance-image-check", params={"imageIds": "m-1"})
    assert ev.compliance == "NON_COMPLIANT"
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .._api import ApiClient, RetryPolicy
from .._calls import CloudApi
from .._config_api import ConfigApi
from .._delivery import MemorySink
from .._dispatcher import Dispatcher
from .._errors import MissingStubError, ParamsError, RulekitError
from .._evaluation import Evaluation
from .._event import decode_event
from .._loader import RuleSet
from .._plugins import Plugins
from .._resource import Resource
from .._rule import Rule
from ._emulator import TEST_CREDENTIALS, ConfigEmulator
from ._events import change_event

__all__ = ["ApiStubs", "Session", "invoke"]

#: {product: {action: response, or a list of responses served in turn (the last repeats)}}
ApiStubs = Mapping[str, Mapping[str, Any]]


class Session:
    """One loopback emulator (started on first use) and the loaded plugins, shared by many
    invocations: what ``rulekit test`` and the pytest plugin use for a whole run."""

    def __init__(self, plugins: Plugins | None = None) -> None:
        self._plugins = plugins
        self._emulator: ConfigEmulator | None = None
        self._client: ApiClient | None = None
        self._lock = threading.Lock()

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            self._plugins = Plugins.from_env()
        return self._plugins

    def emulator(self) -> ConfigEmulator:
        with self._lock:
            if self._emulator is None:
                self._emulator = ConfigEmulator().start()
                # No retries in tests: a stub answers at once, and a failure should show at once.
                self._client = ApiClient(TEST_CREDENTIALS, retry=RetryPolicy(max_attempts=1))
            return self._emulator

    def close(self) -> None:
        if self._emulator is not None:
            self._emulator.stop()
            self._emulator = None

    def rule(self, rule: Rule | str) -> Rule:
        return rule if isinstance(rule, Rule) else self.plugins.rules[rule]

    def invoke(
        self,
        event: Any,
        rule: Rule | str,
        params: Mapping[str, Any] | None = None,
        api: ApiStubs | None = None,
    ) -> list[Evaluation]:
        """Evaluations of ``rule`` on ``event`` (a platform event, or a Resource)."""
        target = self.rule(rule)
        if isinstance(event, Resource):
            event = change_event(
                event.type,
                event.id,
                event.configuration,
                region=event.region,
                account_id=event.account_id,
                tags=event.tags,
                name=event.name,
                resource_group_id=event.resource_group_id,
            )
        decoded = decode_event(event)
        if params is not None:
            decoded = _with_params(decoded, params)
        _check_parameter_names(target, decoded.rule_parameters)
        emulator = self.emulator()
        emulator.reset()
        for product, actions in (api or {}).items():
            for action, response in actions.items():
                emulator.respond(product, action, response)
        assert self._client is not None
        config = ConfigApi(self._client, endpoint=emulator.url)
        hooks = self.plugins.hook if target.pack is not None else None
        dispatcher = Dispatcher(
            RuleSet([target]),
            config=config,
            hooks=hooks,
            api=CloudApi(self._client, environ=emulator.environ()),
        )
        sink = MemorySink()
        try:
            result = dispatcher.dispatch(decoded, sink=sink)
        except RulekitError as exc:
            missing = _unstubbed(emulator)
            if missing is None:
                raise
            raise missing from exc
        return result.evaluations


def _check_parameter_names(rule: Rule, parameters: Mapping[str, Any]) -> None:
    """Tests are strict where the deployed handler only warns: a misspelt optional parameter
    would otherwise pass with its default and hide the typo."""
    unknown = rule.unknown_parameters(parameters)
    if not unknown:
        return
    import difflib

    assert rule.params_model is not None  # unknown_parameters is empty without a model
    keys = [field.key for field in rule.params_model.param_fields().values()]
    problems = {}
    for name in unknown:
        close = difflib.get_close_matches(name, keys, n=1)
        problems[name] = f"did you mean {close[0]!r}?" if close else f"expected one of {keys}"
    detail = "; ".join(f"{name!r}: {why}" for name, why in problems.items())
    raise ParamsError(f"rule {rule.name!r} declares no parameter {detail}", problems)


def _unstubbed(emulator: ConfigEmulator) -> MissingStubError | None:
    """The first call the emulator had no answer for, as an error that shows the stub to add."""
    from .._endpoints import product

    for call in emulator.calls:
        if call.code == "InvalidAction.NotFound":
            known = product(call.product)
            name = known.name if known else call.product
            return MissingStubError(
                f"the rule called {name}.{call.action}, which is not stubbed; add its recorded "
                f"JSON response to the fixture (file or case), e.g.:\n"
                f"api:\n  {name}:\n    {call.action}: {{...}}   # the response body\n"
                "(`rulekit fixture record` records the responses of a live run)"
            )
    return None


def _with_params(decoded: Any, params: Mapping[str, Any]) -> Any:
    from dataclasses import replace

    return replace(decoded, rule_parameters={k: v for k, v in params.items()})


_default: Session | None = None


def invoke(
    event: Any,
    rule: Rule | str,
    params: Mapping[str, Any] | None = None,
    api: ApiStubs | None = None,
) -> list[Evaluation]:
    """Run ``rule`` (a Rule, or the name of a loaded one) on ``event``; see the module doc.

    ``params`` replaces the event's rule parameters (strings, as the platform sends them);
    ``api`` stubs API responses by product and action.
    """
    global _default
    if _default is None:
        _default = Session()
    return _default.invoke(event, rule, params, api)
