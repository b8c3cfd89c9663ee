"""The typed errors rulekit raises.

Every error derives from :class:`RulekitError`, says what was wrong and where, and never
carries a credential, security token or result token in its message: the base class masks its
message when the error is built (``_redact``), so no raise site can forget to.

Example::

    try:
        handler(event, context)
    except RulekitError as exc:
        print(type(exc).__name__, exc)
"""

from __future__ import annotations

from collections.abc import Sequence

from ._redact import redact

__all__ = [
    "ApiError",
    "ConfigurationError",
    "CredentialsError",
    "DeliveryError",
    "EvaluationError",
    "EventError",
    "InventoryError",
    "MissingStubError",
    "ParamsError",
    "PluginError",
    "RuleDefinitionError",
    "RuleNotFoundError",
    "RulekitError",
    "ScopeError",
    "ScopeWarning",
]


class RulekitError(Exception):
    """Base class of every error rulekit raises on purpose. Its message is masked (secrets
    registered while the invocation runs, secret-named parameters) as it is built."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if arg.__class__ is str else arg for arg in args))


class EventError(RulekitError):
    """The event Cloud Config sent (or a test supplied) is malformed; nothing was sent."""


class ParamsError(RulekitError):
    """A rule parameter is missing or cannot be coerced to the declared type; nothing was sent.

    ``problems`` maps each offending parameter key (as the platform spells it) to a message.
    """

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems: dict[str, str] = dict(problems or {})


class ScopeError(RulekitError):
    """A declared or operator-supplied scope is invalid (unknown key, bad tag logic...)."""


class ScopeWarning(UserWarning):
    """A scope that is valid but may not mean what its author meant (e.g. a pasted TagsScope rule
    whose AND logic GetConfigRule did not return)."""


class RuleDefinitionError(RulekitError):
    """A rule was declared wrongly: caught when the module defining it is imported."""


class RuleNotFoundError(RulekitError):
    """The dispatcher cannot tell which rule to run; the message lists the loaded rules."""


class ConfigurationError(RulekitError):
    """The deployment is misconfigured: an env variable names a module that cannot load..."""


class PluginError(ConfigurationError):
    """A plugin (rule pack) failed to load: the message names the plugin and the cause."""


class CredentialsError(RulekitError):
    """No usable credentials were found in the FC context or the environment."""


class EvaluationError(RulekitError):
    """A rule function raised or returned something that is not a compliance result."""


class ApiError(RulekitError):
    """An Alibaba Cloud API call failed for good (after the retries it was allowed).

    ``code`` is the platform's error code (``Throttling.User``, ``NoPermission``...) or
    ``SDK.HttpError`` for a transport failure; ``status`` the HTTP status when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        action: str,
        code: str,
        status: int | None = None,
        request_id: str | None = None,
        attempts: int = 1,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.action = action
        self.code = code
        self.status = status
        self.request_id = request_id
        self.attempts = attempts
        self.retryable = retryable


class DeliveryError(RulekitError):
    """Some evaluations could not be delivered to Cloud Config: raised after every other batch
    was sent, so the invocation fails loudly and FC's retry can deliver them again.

    ``undelivered`` lists ``(resource_type, resource_id)`` of each evaluation that was not sent;
    ``not_evaluated`` how many resources a sweep that also stopped early never evaluated (None:
    not known, or nothing left out: the message says which).
    """

    def __init__(
        self,
        message: str,
        *,
        undelivered: Sequence[tuple[str, str]] = (),
        delivered: int = 0,
        errors: Sequence[ApiError] = (),
        not_evaluated: int | None = None,
    ) -> None:
        super().__init__(message)
        self.undelivered = list(undelivered)
        self.delivered = delivered
        self.errors = list(errors)
        self.not_evaluated = not_evaluated

    def also(self, what: str, not_evaluated: int | None = None) -> DeliveryError:
        """This error, its message extended with ``what`` else was lost.

        Example::

            raise error.also("the sweep stopped early: 2301 of 2500 resources not evaluated")
        """
        return DeliveryError(
            f"{self}; {what}",
            undelivered=self.undelivered,
            delivered=self.delivered,
            errors=self.errors,
            not_evaluated=not_evaluated,
        )


class InventoryError(RulekitError):
    """A resource inventory given to ``rulekit emulator`` is malformed: the message names the
    file, the line or item, and what is wrong."""


class MissingStubError(RulekitError):
    """A rule under test called an API its fixture (or ``invoke(api=...)``) does not stub: the
    message names the product and action and shows the YAML to add."""
