"""The deployment's settings, read once from the function's environment variables.

| variable | default | meaning |
| --- | --- | --- |
| RULEKIT_RULES | | comma-separated rule modules |
| RULEKIT_RULE | | the rule to run when several are loaded |
| RULEKIT_API_TIMEOUT | 10 | read timeout of one API call (seconds) |
| RULEKIT_MAX_ATTEMPTS | 5 | attempts per API call, the first included |
| RULEKIT_RETRY_BASE_DELAY / RULEKIT_RETRY_MAX_DELAY | 0.2 / 5 | backoff (seconds) |
| RULEKIT_SWEEP_CONCURRENCY | 16 | at most this many configurations fetched at once in a sweep |
| RULEKIT_<PRODUCT>_RATE_LIMIT | | requests per second for each action of the product |
| RULEKIT_SWEEP_RESERVE | 5 | seconds a sweep keeps for its final flush |
| RULEKIT_AGGREGATOR_ID | | sweep an account group (aggregator) instead of the account |
| RULEKIT_DELETE_MODE | false | send DeleteMode on a sweep that evaluated everything |
| RULEKIT_CONTINUE | false | hand an unfinished sweep to a new async invocation (docs/sweeps.md) |
| RULEKIT_CONTINUE_MAX_LINKS | 50 | invocations one chained sweep may take, the first included |
| RULEKIT_ADVANCED_SEARCH | true | sweep rules with declared reads by advanced search |
| RULEKIT_ASSUME_ROLE_NAME | ResourceDirectoryAccountAccessRole | role assumed in member accounts |

Example::

    settings = Settings.from_env({"RULEKIT_RULES": "rulekit_ecs", "RULEKIT_MAX_ATTEMPTS": "3"})
    settings.retry.max_attempts        # 3
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from ._api import RetryPolicy
from ._endpoints import PRODUCTS
from ._errors import ConfigurationError

__all__ = ["SettingError", "Settings", "SweepOptions"]


#: ListDiscoveredResources takes an update-time window of at most 30 days.
MAX_DELETED_LOOKBACK_DAYS = 30


class SweepOptions(NamedTuple):
    """``concurrency``: at most this many configurations fetched (and rules run) at once, the
    API's pace permitting (rulekit._pacing); ``reserve``: seconds kept
    for the final flush; ``delete_mode``: send DeleteMode on a sweep that evaluated everything;
    ``deleted_lookback_days``: without DeleteMode, resources deleted in this many days before the
    sweep are listed and reported NOT_APPLICABLE (0: not listed; at most 30, the API's window)."""

    concurrency: int = 16
    aggregator_id: str | None = None
    reserve: float = 5.0
    delete_mode: bool = False
    deleted_lookback_days: int = 7
    #: Hand what is left at the deadline to a new asynchronous invocation (needs
    #: fc:InvokeFunction on the function itself), at most ``max_links`` invocations in all.
    continue_sweep: bool = False
    max_links: int = 50
    #: List and read rules with declared reads by advanced search (docs/sweeps.md).
    advanced_search: bool = True


class SettingError(ConfigurationError):
    """An environment variable of the deployment has a value rulekit cannot use; the message
    names the variable."""


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    integer: bool = False,
    zero_means_off: bool = False,
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingError(f"{name} must be {kind}, got {raw!r}") from None
    # float() takes "inf" and "nan"; nan compares false with everything, so it is named here.
    if zero_means_off and value == 0:
        return 0
    if not math.isfinite(value) or value <= 0:
        raise SettingError(f"{name} must be a finite number above 0, got {raw!r}")
    if value < minimum:
        raise SettingError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = (env.get(name) or ("true" if default else "false")).strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise SettingError(f"{name} must be true or false, got {raw!r}")


class Settings(NamedTuple):
    """Everything the handler reads from the environment, validated."""

    rules: tuple[str, ...]
    rule: str | None
    api_timeout: float
    retry: RetryPolicy
    sweep: SweepOptions
    assume_role_name: str | None
    #: Requests per second for each action, by lower-case product name.
    rate_limits: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check the variables; a bad value is a ConfigurationError naming it."""
        env = os.environ if environ is None else environ
        default = RetryPolicy()
        retry = RetryPolicy(
            max_attempts=int(
                _number(env, "RULEKIT_MAX_ATTEMPTS", default.max_attempts, minimum=1, integer=True)
            ),
            base_delay=_number(env, "RULEKIT_RETRY_BASE_DELAY", default.base_delay, minimum=0),
            max_delay=_number(env, "RULEKIT_RETRY_MAX_DELAY", default.max_delay, minimum=0),
        )
        sweep = SweepOptions(
            concurrency=int(_number(env, "RULEKIT_SWEEP_CONCURRENCY", 16, minimum=1, integer=True)),
            reserve=_number(env, "RULEKIT_SWEEP_RESERVE", 5.0, minimum=0),
            aggregator_id=(env.get("RULEKIT_AGGREGATOR_ID") or "").strip() or None,
            delete_mode=_flag(env, "RULEKIT_DELETE_MODE"),
            advanced_search=_flag(env, "RULEKIT_ADVANCED_SEARCH", default=True),
            deleted_lookback_days=int(
                _number(
                    env,
                    "RULEKIT_DELETED_LOOKBACK_DAYS",
                    7,
                    minimum=1,
                    integer=True,
                    zero_means_off=True,
                )
            ),
            continue_sweep=_flag(env, "RULEKIT_CONTINUE"),
            max_links=int(_number(env, "RULEKIT_CONTINUE_MAX_LINKS", 50, minimum=2, integer=True)),
        )
        if sweep.deleted_lookback_days > MAX_DELETED_LOOKBACK_DAYS:
            raise SettingError(
                f"RULEKIT_DELETED_LOOKBACK_DAYS must be at most {MAX_DELETED_LOOKBACK_DAYS} "
                "(ListDiscoveredResources' update-time window), "
                f"got {sweep.deleted_lookback_days}"
            )
        timeout = _number(env, "RULEKIT_API_TIMEOUT", 10.0, minimum=0.001)
        return cls(
            rules=tuple(n.strip() for n in env.get("RULEKIT_RULES", "").split(",") if n.strip()),
            rule=(env.get("RULEKIT_RULE") or "").strip() or None,
            api_timeout=timeout,
            retry=retry,
            sweep=sweep,
            assume_role_name=(env.get("RULEKIT_ASSUME_ROLE_NAME") or "").strip() or None,
            rate_limits=_rate_limits(env),
        )


_RATE_LIMIT = re.compile(r"RULEKIT_(\w+)_RATE_LIMIT")


def _rate_limits(env: Mapping[str, str]) -> tuple[tuple[str, float], ...]:
    """``RULEKIT_<PRODUCT>_RATE_LIMIT``: requests per second for each action of a known product
    (a misspelt product would otherwise be a limit silently not applied)."""
    limits: dict[str, float] = {}
    for name in sorted(env):
        match = _RATE_LIMIT.fullmatch(name)
        if match is None:
            continue
        key = match.group(1).replace("_", "").lower()
        if key not in PRODUCTS:
            known = ", ".join(p.name.upper() for p in PRODUCTS.values())
            raise SettingError(f"{name} names no product rulekit knows (known: {known})")
        value = _number(env, name, 0.0, minimum=0.001)
        if value:
            limits[key] = value
    return tuple(sorted(limits.items()))
