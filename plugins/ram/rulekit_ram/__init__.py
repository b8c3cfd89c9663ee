"""RAM user rules for rulekit, modelled on Cloud Config's managed rules.

| rule | kind | check |
| --- | --- | --- |
| ram-user-mfa-check | Python, calls RAM GetUserMFAInfo | console users have an MFA device |
| ram-user-login-mfa-required | condition | console logins must bind MFA |
| ram-user-no-access-key | condition | the user has no AccessKey |

The configuration paths (LoginProfile, AccessKeys) follow the platform's documented sample event
for ACS::RAM::User.
"""

from __future__ import annotations

from typing import Any

from rulekit import ApiError, Compliance, Context, Resource, rule
from rulekit.conditions import any_of, condition_rule, path

__all__ = ["ram_user_login_mfa_required", "ram_user_mfa_check", "ram_user_no_access_key"]

USER = "ACS::RAM::User"
NO_MFA_DEVICE = "EntityNotExist.User.MFADevice"


@rule(resource_type=USER, risk_level=1, description="RAM users who can log in have MFA.")
def ram_user_mfa_check(resource: Resource, ctx: Context) -> Any:
    """Users with a console login profile must have an MFA device bound.

    Needs ``ram:GetUserMFAInfo`` on the function's role.
    """
    if not resource.get("$.LoginProfile"):
        return Compliance.NOT_APPLICABLE, "the user has no console login"
    name = resource.get("$.UserName") or resource.name
    try:
        body = ctx.call("Ram", "GetUserMFAInfo", UserName=name)
    except ApiError as exc:
        if exc.code == NO_MFA_DEVICE:
            return Compliance.NON_COMPLIANT, f"user {name} has no MFA device"
        raise
    if (body.get("MFADevice") or {}).get("SerialNumber"):
        return Compliance.COMPLIANT
    return Compliance.NON_COMPLIANT, f"user {name} has no MFA device"


ram_user_login_mfa_required = condition_rule(
    "ram-user-login-mfa-required",
    USER,
    any_of(
        path("$.LoginProfile").is_empty(),
        path("$.LoginProfile.MFABindRequired").string_equals("true"),
    ),
    risk_level=2,
    description="RAM users with a console login must bind MFA at login.",
)

ram_user_no_access_key = condition_rule(
    "ram-user-no-access-key",
    USER,
    path("$.AccessKeys.AccessKey").is_empty(),
    risk_level=3,
    description="RAM users (people) have no AccessKey; programs use roles.",
)
