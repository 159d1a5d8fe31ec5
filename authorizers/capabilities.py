"""What an authorizer can be used for, decided from our own record, before any WeChat call.

A capability is a group of WeChat APIs a sibling app (tags/, later others) calls on an
authorizer's behalf. That app declares it and registers it here; authorizers/ only knows
the rules of SPEC section 5, never the APIs themselves.

Rules are checked in a fixed order and the first failure is the reason: the authorization
itself (revoked / must be redone: nothing else we recorded matters then), then the permission
sets (any one of the capability's sets suffices: protocol section 3.2), then the account type,
then verification.
"""

from __future__ import annotations

from dataclasses import dataclass

from .account_type import authorizer_is_verified
from .models import Authorizer
from .permission_sets import OFFICIAL_ACCOUNT_PERMISSION_SETS

# Machine-readable refusal kinds; the API layer turns them into its error codes.
REFUSED_PERMISSION = "permission_not_granted"
REFUSED_ACCOUNT = "account_not_eligible"
REFUSED_REVOKED = "authorizer_revoked"


@dataclass(frozen=True)
class Capability:
    name: str
    title: str
    permission_sets: frozenset[int]
    requires_service_account: bool = True
    requires_verified: bool = True
    # Completes "Only Service Accounts can ..." in a reason.
    action: str = ""
    # The WeChat API paths it calls on the account's behalf: whose daily quota it spends.
    apis: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapabilityStatus:
    usable: bool
    reason: str = ""
    refusal: str = ""  # one of REFUSED_*; empty when usable


USABLE = CapabilityStatus(usable=True)


class CapabilityRefused(Exception):
    """An authorizer may not use a capability. `wechat_error` is set when WeChat said so."""

    refusal = ""

    def __init__(self, reason: str, *, wechat_error: Exception | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wechat_error = wechat_error


class PermissionSetMissing(CapabilityRefused):
    refusal = REFUSED_PERMISSION


class AccountIneligible(CapabilityRefused):
    refusal = REFUSED_ACCOUNT


class AuthorizerInactive(CapabilityRefused):
    refusal = REFUSED_REVOKED


_REFUSAL_TYPES: dict[str, type[CapabilityRefused]] = {
    REFUSED_PERMISSION: PermissionSetMissing,
    REFUSED_ACCOUNT: AccountIneligible,
    REFUSED_REVOKED: AuthorizerInactive,
}

_registry: dict[str, Capability] = {}


def capability_register(capability: Capability) -> Capability:
    """Idempotent: apps register in ready(), which test runners may call more than once."""
    _registry[capability.name] = capability
    return capability


def capability_get(name: str) -> Capability:
    return _registry[name]


def capabilities_registered() -> list[Capability]:
    return list(_registry.values())


def permission_reason(capability: Capability) -> str:
    """Why a capability is refused for want of a permission set, in the merchant's words."""
    known = OFFICIAL_ACCOUNT_PERMISSION_SETS
    named = [known[s] for s in sorted(capability.permission_sets) if s in known]
    title = named[0] if named else "required"
    ids = " or ".join(str(s) for s in sorted(capability.permission_sets))
    return (
        f"The account did not grant the '{title}' permission set ({ids}) to our platform. "
        f"Re-authorize and tick {title}."
    )


def revocation_reason(status: str) -> str:
    """Why an authorizer in this (non-active) status cannot be used, said to the merchant
    (the API's reasons are read by the merchant's developers; the admin words its own)."""
    if status == Authorizer.Status.REAUTH_REQUIRED:
        return (
            "WeChat no longer accepts this account's authorization: "
            "authorize the account again through your invite link."
        )
    return "You withdrew this account's authorization in WeChat."


def capability_status(authorizer: Authorizer, capability: Capability) -> CapabilityStatus:
    if authorizer.status != Authorizer.Status.ACTIVE:
        return CapabilityStatus(False, revocation_reason(authorizer.status), REFUSED_REVOKED)
    if not capability.permission_sets.intersection(authorizer.permission_sets or ()):
        return CapabilityStatus(False, permission_reason(capability), REFUSED_PERMISSION)
    action = capability.action or f"use {capability.title}"
    if capability.requires_service_account:
        if authorizer.service_type is None:
            return CapabilityStatus(
                False,
                "We have not received this account's type from WeChat yet. Try again in a minute.",
                REFUSED_ACCOUNT,
            )
        if authorizer.service_type != Authorizer.ServiceType.SERVICE:
            return CapabilityStatus(
                False,
                f"Only Service Accounts can {action}; this is a Subscription Account.",
                REFUSED_ACCOUNT,
            )
    if capability.requires_verified and not authorizer_is_verified(authorizer):
        return CapabilityStatus(
            False, "The account has not completed WeChat verification.", REFUSED_ACCOUNT
        )
    return USABLE


def capabilities_evaluate(authorizer: Authorizer) -> dict[str, CapabilityStatus]:
    return {cap.name: capability_status(authorizer, cap) for cap in _registry.values()}


def capability_require(authorizer: Authorizer, name: str) -> None:
    """Raises the CapabilityRefused subclass that says why, or returns when usable."""
    status = capability_status(authorizer, _registry[name])
    if not status.usable:
        raise _REFUSAL_TYPES[status.refusal](status.reason)


def authorizer_inactive_refusal(
    status: str, *, wechat_error: Exception | None = None
) -> AuthorizerInactive:
    """The refusal of an account in a stopped `status`, the one capability_status gives it;
    `wechat_error` when it was WeChat's answer that stopped it."""
    return AuthorizerInactive(revocation_reason(status), wechat_error=wechat_error)


def capability_apis() -> list[str]:
    """Every WeChat API the registered capabilities call, once each, in registration order."""
    return list(dict.fromkeys(api for c in _registry.values() for api in c.apis))
