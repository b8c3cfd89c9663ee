"""``@rule``: a Cloud Config custom rule as one decorated function.

The function receives what it names (``resource``, ``params``, ``ctx``) and returns a
:class:`Compliance`, a ``(Compliance, annotation)`` pair, an :class:`Evaluation`, or returns /
yields several evaluations. Everything declared on the decorator is checked when the module is
imported, so a broken rule fails at load time with its name and ``file:line``.

Example::

    class ImageParams(Params):
        image_ids: list[str]

    @rule(resource_type="ACS::ECS::Instance", params=ImageParams,
          scope={"TagKeyScope": "env", "TagValueScope": "prod"})
    def ecs_instance_image_check(resource, params):
        image = resource["$.ImageId"]
        if image in params.image_ids:
            return Compliance.COMPLIANT
        return Compliance.NON_COMPLIANT, f"image {image} is not approved"
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from . import _rule_checks as checks
from ._errors import EvaluationError, EventError, RuleDefinitionError, RulekitError, ScopeError
from ._evaluation import Evaluation, normalise
from ._loader import register as _register
from ._redact import masked_cause, redact
from ._scope import Scope

if TYPE_CHECKING:
    from ._context import Context
    from ._params import Params
    from ._resource import Resource

__all__ = ["RULE_PARAMETER", "Prepared", "Rule", "rule"]

_PACKAGE_DIR = os.path.dirname(__file__) + os.sep  # frames of rulekit itself
_PREPARED_KEPT = 32  # distinct rule-parameter sets remembered per rule

#: The rule parameter naming the rulekit rule a Config rule runs, so one deployed function can
#: serve many Config rules (``rulekit export`` sets it). Not passed to the rule's Params.
RULE_PARAMETER = "rulekitRule"


def _where(func: Callable[..., Any]) -> str:
    code = getattr(func, "__code__", None)
    if code is None:
        return getattr(func, "__module__", "?")
    return f"{code.co_filename}:{code.co_firstlineno}"


class Prepared(NamedTuple):
    """A rule as one Config rule's parameters set it up (:meth:`Rule.configure`): validated and
    ready to run."""

    rule: Rule
    scope: Scope  # the declared scope with the parameters' scope overrides applied
    params: Any  # the rule's Params instance (the raw dict when it declares no model)
    overridden: tuple[str, ...] = ()  # the scope fields the parameters overrode, by API name


class Rule:
    """A loaded rule: its function and the metadata declared on the decorator.

    Calling a Rule calls the undecorated function, so it stays unit-testable as plain Python.
    """

    def __init__(
        self,
        func: Callable[..., Any] | None,
        *,
        name: str,
        resource_types: Sequence[str],
        params: type[Params] | None = None,
        scope: Scope | Mapping[str, Any] | None = None,
        description: str | None = None,
        risk_level: int = 2,
        triggers: Sequence[str] | str | None = None,
        frequency: str | None = None,
        location: str | None = None,
        module: str | None = None,
        module_level: bool = False,
        evaluate: Callable[..., Any] | None = None,
        reads: Sequence[str] | None = None,
    ) -> None:
        self.func = func
        self.location = location or (_where(func) if func else "?")
        self.name = name
        self.module: str | None = module or getattr(func, "__module__", None)
        #: The pack (plugin) the rule was loaded from; set by rulekit._plugins.
        self.pack: str | None = None
        self.description = description if description is not None else _doc(func)
        where = f"rule {name!r} ({self.location})"
        self.resource_types = checks.resource_types(where, resource_types)
        self.params_model = checks.params_model(where, params)
        # configure()'s results by raw rule parameters: a warm FC instance sees the same ones
        # on every invocation, so they are validated once (Scope and Params are read-only).
        self._prepared: dict[tuple[tuple[str, Any], ...], Prepared] = {}
        self.risk_level = checks.risk_level(where, risk_level)
        self.triggers, self.frequency = checks.triggers(where, triggers, frequency)
        try:
            declared = Scope.coerce(scope)
        except RulekitError as exc:
            raise self._error(f"invalid scope: {exc}") from None
        if not declared.resource_types:
            declared = replace(declared, resource_types=self.resource_types)
        foreign = [t for t in declared.resource_types if t not in self.resource_types]
        if foreign:
            raise self._error(
                f"scope ResourceTypesScope names {', '.join(foreign)}, which the rule does not "
                "declare in resource_type(s)"
            )
        self.scope = declared
        self._evaluate = evaluate or func
        # The names the rule function declares, passed to it by keyword (as pytest passes
        # fixtures): checked here, at definition.
        self._wants = checks.signature_names(where, self._evaluate)
        #: The function declares ``ctx``: the dispatcher builds a Context only for such rules
        #: (and for evaluation hooks).
        self.takes_ctx = "ctx" in self._wants
        #: The declarative condition of a condition_rule (None for a Python rule).
        self.condition: Any = None
        #: The configuration paths the rule reads (a condition rule's featurePaths), or None when
        #: undeclared; a sweep then reads them by advanced search (docs/sweeps.md).
        self.reads = checks.reads(where, reads)
        #: Parameters that must be present when the rule has no Params model.
        self.required_params: tuple[str, ...] = ()
        if not checks.NAME_PATTERN.match(name):
            raise self._error("a rule name is 1-128 letters, digits, '-', '_' or '.'")
        _register(self, module_level)

    # -- definition checks (the rest are in _rule_checks) --------------------------------------
    def _error(self, message: str) -> RuleDefinitionError:
        return RuleDefinitionError(f"rule {self.name!r} ({self.location}): {message}")

    # -- running ----------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.func is None:
            raise TypeError(f"rule {self.name!r} has no Python function to call")
        return self.func(*args, **kwargs)

    def parse_params(self, raw: Mapping[str, Any]) -> Any:
        """The rule's parameters: a validated Params instance, or the raw dict when the rule
        declares no model."""
        if self.params_model is None:
            missing = [n for n in self.required_params if raw.get(n) in (None, "")]
            if missing:
                from ._errors import ParamsError

                detail = "; ".join(
                    f"rule parameter {n!r} is required but was not given" for n in missing
                )
                raise ParamsError(
                    f"invalid rule parameters for {self.name}: {detail}",
                    {n: "is required but was not given" for n in missing},
                )
            return dict(raw)
        from ._params import parse_params

        return parse_params(self.params_model, raw)

    def unknown_parameters(self, rule_parameters: Mapping[str, Any]) -> list[str]:
        """Rule parameters this rule's Params model does not declare (scope overrides and
        ``rulekitRule`` are not the model's): a typo that the deployed handler only warns about,
        since the platform's parameters may serve others too. Empty without a model."""
        if self.params_model is None:
            return []
        from ._params import unknown_parameters

        _, own = Scope.split_parameters(rule_parameters)
        own.pop(RULE_PARAMETER, None)
        return unknown_parameters(self.params_model, own)

    def configure(self, rule_parameters: Mapping[str, Any]) -> Prepared:
        """The rule as a Config rule's parameters set it up: scope overrides (``RegionIdsScope``
        and the other scope fields, docs/scope.md) applied to the declared scope, the rest
        parsed as the rule's Params. Remembered per distinct parameters, so a warm instance
        validates them once; a failure is never remembered.

        Example::

            prepared = rule.configure({"imageIds": "m-1", "RegionIdsScope": "cn-hangzhou"})
            prepared.overridden         # ('RegionIdsScope',)
        """
        try:
            key: tuple[tuple[str, Any], ...] | None = tuple(rule_parameters.items())
            prepared = self._prepared.get(key)  # type: ignore[arg-type]
        except TypeError:  # an unhashable value (a list from a test): configure every time
            key, prepared = None, None
        if prepared is None:
            overrides, own = Scope.split_parameters(rule_parameters)
            own.pop(RULE_PARAMETER, None)
            prepared = Prepared(
                self,
                self._overridden_scope(overrides),
                self.parse_params(own),
                tuple(sorted(overrides)),
            )
            if key is not None:
                if len(self._prepared) >= _PREPARED_KEPT:
                    self._prepared.clear()
                self._prepared[key] = prepared
        return prepared

    def _overridden_scope(self, overrides: Mapping[str, Any]) -> Scope:
        """The declared scope with the rule parameters' scope fields applied. An override may
        narrow or re-aim the scope, but never add a resource type the rule was not written for
        (an ECS instance rule must not run on RAM users)."""
        try:
            scope = self.scope.override(overrides)
        except ScopeError as exc:
            raise ScopeError(f"rule {self.name!r}: rule parameters: {exc}") from None
        foreign = [t for t in scope.resource_types if t not in self.resource_types]
        if foreign:
            raise ScopeError(
                f"rule {self.name!r}: rule parameter ResourceTypesScope names "
                f"{', '.join(foreign)}, which the rule does not evaluate; it is written for "
                f"{', '.join(self.resource_types)}"
            )
        return scope

    def evaluate(
        self, resource: Resource, params: Any, ctx: Context | None, ordering: int | None = None
    ) -> list[Evaluation]:
        """Run the function on ``resource`` and normalise what it returns into evaluations,
        completed with the resource's region and account and the event's ordering timestamp
        (``ctx``'s, else ``ordering``; without either it stays unset).

        Raises :class:`EvaluationError` (chained to the original exception) if the function
        raises or returns something that is not a compliance result.
        """
        evaluate = self._evaluate
        assert evaluate is not None  # checked at definition
        try:
            offered = {"resource": resource, "params": params, "ctx": ctx}
            result = evaluate(**{name: offered[name] for name in self._wants})
            if ctx is not None:
                ordering = ctx.ordering_timestamp
            evaluations = normalise(result, resource, ordering)
        except EvaluationError as exc:
            raise EvaluationError(
                f"rule {self.name!r} on {resource.type} {resource.id}: {exc}"
            ) from None
        except EventError:  # the event's own data is unreadable (tags parsed on first read)
            raise
        except Exception as exc:
            # Chained to a masked stand-in: a traceback prints the cause's own message too.
            raise EvaluationError(
                f"rule {self.name!r} ({self._raised_at(exc)}) raised {type(exc).__name__} "
                f"on {resource.type} {resource.id}: {redact(exc)}"
            ) from masked_cause(exc)
        return evaluations

    def _raised_at(self, exc: BaseException) -> str:
        """``file:line`` in the rule's own code where ``exc`` passed last: the deepest frame in
        the rule function's file, else outside rulekit, else the rule's definition."""
        code = getattr(self.func, "__code__", None)
        own_file = code.co_filename if code is not None else None
        own = outside = None
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename == own_file:
                own = f"{filename}:{tb.tb_lineno}"
            elif not filename.startswith(_PACKAGE_DIR):
                outside = f"{filename}:{tb.tb_lineno}"
            tb = tb.tb_next
        return own or outside or self.location

    def __repr__(self) -> str:
        return f"Rule({self.name!r}, resource_types={list(self.resource_types)!r})"


def _doc(func: Callable[..., Any] | None) -> str | None:
    doc = inspect.getdoc(func) if func is not None else None
    return doc.strip().splitlines()[0] if doc else None


def rule(
    *,
    resource_type: str | None = None,
    resource_types: Sequence[str] | None = None,
    params: type[Params] | None = None,
    scope: Scope | Mapping[str, Any] | None = None,
    name: str | None = None,
    description: str | None = None,
    risk_level: int = 2,
    triggers: Sequence[str] | str | None = None,
    frequency: str | None = None,
    reads: Sequence[str] | None = None,
) -> Callable[[Callable[..., Any]], Rule]:
    """Declare a Cloud Config custom rule. See the module docstring for an example.

    ``reads``: the configuration paths the function reads (``["$.ImageId"]``), so a periodic
    sweep can fetch just those for many resources at once by advanced search; a read outside
    them makes the sweep fetch that resource's whole configuration (docs/sweeps.md).

    ``name`` defaults to the function name with ``_`` replaced by ``-``. ``triggers`` defaults to
    change notifications (scheduled when only ``frequency`` is given); a scheduled rule without a
    frequency runs every ``TwentyFour_Hours``.
    """
    types: list[str] = []
    if resource_type is not None:
        types.append(resource_type)
    if resource_types is not None:
        if isinstance(resource_types, str):
            resource_types = [resource_types]
        types.extend(resource_types)

    def decorate(func: Callable[..., Any]) -> Rule:
        if isinstance(func, Rule):
            raise RuleDefinitionError(f"rule {func.name!r} is decorated with @rule twice")
        return Rule(
            func,
            # A rule decorated inside a function (a test, a factory) is not its module's rule.
            module_level="<locals>" not in func.__qualname__,
            name=name or func.__name__.replace("_", "-"),
            resource_types=types,
            params=params,
            scope=scope,
            description=description,
            risk_level=risk_level,
            triggers=triggers,
            frequency=frequency,
            reads=reads,
        )

    return decorate
