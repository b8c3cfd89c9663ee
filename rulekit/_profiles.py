"""Credentials for the command line (``rulekit run``, ``rulekit fixture record``): the
environment, or a profile of the Alibaba Cloud CLI's config file.

Order: ``--profile NAME`` if given; else ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET
(/ ALIBABA_CLOUD_SECURITY_TOKEN); else the CLI config's current profile. The config file is
``~/.aliyun/config.json`` (or env ALIBABA_CLOUD_CONFIG_FILE); profiles in mode ``AK`` and
``StsToken`` are supported.

Example::

    creds, region = cli_credentials(profile="prod")
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._credentials import Credentials
from ._errors import CredentialsError

__all__ = ["cli_credentials", "config_file"]


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get("ALIBABA_CLOUD_CONFIG_FILE")
    return Path(configured) if configured else Path.home() / ".aliyun" / "config.json"


def _profile(path: Path, name: str | None) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(
            f"no credentials: ALIBABA_CLOUD_ACCESS_KEY_ID is not set and "
            f"there is no Alibaba Cloud CLI config at {path}"
        ) from None
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"cannot read the Alibaba Cloud CLI config {path}: {exc}") from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, list):
        raise CredentialsError(f"{path} has no 'profiles' list")
    wanted = name or data.get("current") or "default"
    for profile in profiles:
        if isinstance(profile, dict) and profile.get("name") == wanted:
            return profile
    names = ", ".join(str(p.get("name")) for p in profiles if isinstance(p, dict))
    raise CredentialsError(f"profile {wanted!r} is not in {path}; profiles: {names or 'none'}")


def cli_credentials(
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Credentials, str | None]:
    """(credentials, the profile's default region or None). Raises CredentialsError with one
    line saying what was looked at."""
    env = os.environ if environ is None else environ
    if profile is None:
        from_env = Credentials.from_env(env)
        if from_env is not None:
            return from_env, env.get("ALIBABA_CLOUD_REGION_ID") or None
    path = config_file(env)
    chosen = _profile(path, profile)
    mode = chosen.get("mode", "AK")
    if mode not in ("AK", "StsToken"):
        raise CredentialsError(
            f"profile {chosen.get('name')!r} uses mode {mode!r}; rulekit "
            "supports AK and StsToken profiles (or set ALIBABA_CLOUD_* "
            "variables)"
        )
    key_id, secret = chosen.get("access_key_id"), chosen.get("access_key_secret")
    if not key_id or not secret:
        raise CredentialsError(f"profile {chosen.get('name')!r} in {path} has no AccessKey")
    token = chosen.get("sts_token") if mode == "StsToken" else None
    return Credentials(str(key_id), str(secret), str(token) if token else None), chosen.get(
        "region_id"
    ) or None
