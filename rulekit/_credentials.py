"""The function's credentials: from the FC context (Python 3.6-3.10 runtimes) or the environment
(Python 3.12 / FC 3.0, which has no ``context.credentials``).

Example::

    creds = resolve_credentials(context)       # context.credentials first, then env
    creds.access_key_id                        # the secret and token never show in repr()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _redact
from ._errors import CredentialsError

__all__ = [
    "ENV_ACCESS_KEY_ID",
    "ENV_ACCESS_KEY_SECRET",
    "ENV_SECURITY_TOKEN",
    "Credentials",
    "resolve_credentials",
]

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"


@dataclass(frozen=True)
class Credentials:
    """An AccessKey pair, with the STS security token when it is temporary."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _redact.register_secret(self.access_key_secret)
        _redact.register_secret(self.security_token)

    @classmethod
    def from_context(cls, context: Any) -> Credentials | None:
        """``context.credentials`` of an FC Python 3.6-3.10 runtime, or None."""
        creds = getattr(context, "credentials", None)
        if creds is None:
            return None
        key_id = getattr(creds, "access_key_id", None) or getattr(creds, "accessKeyId", None)
        secret = getattr(creds, "access_key_secret", None) or getattr(
            creds, "accessKeySecret", None
        )
        token = getattr(creds, "security_token", None) or getattr(creds, "securityToken", None)
        if not key_id or not secret:
            return None
        return cls(str(key_id), str(secret), str(token) if token else None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials | None:
        """ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ ALIBABA_CLOUD_SECURITY_TOKEN), or None."""
        env = os.environ if environ is None else environ
        key_id, secret = env.get(ENV_ACCESS_KEY_ID), env.get(ENV_ACCESS_KEY_SECRET)
        if not key_id or not secret:
            return None
        return cls(key_id, secret, env.get(ENV_SECURITY_TOKEN) or None)


def resolve_credentials(
    context: Any = None, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials from ``context.credentials``, else the environment.

    Raises :class:`CredentialsError` when neither has any.
    """
    found = Credentials.from_context(context) or Credentials.from_env(environ)
    if found is None:
        raise CredentialsError(
            "no credentials: the FC context has no credentials (Python 3.12 runtimes do not pass "
            f"them) and {ENV_ACCESS_KEY_ID} / {ENV_ACCESS_KEY_SECRET} are not set; give the "
            "function a role with config:PutEvaluations"
        )
    return found
