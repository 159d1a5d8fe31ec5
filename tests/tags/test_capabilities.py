"""The capability registry: rules in order, reasons in a merchant's words."""

import pytest

from authorizers.capabilities import (
    AccountIneligible,
    AuthorizerInactive,
    Capability,
    PermissionSetMissing,
    capabilities_evaluate,
    capability_register,
    capability_require,
    capability_status,
)
from authorizers.models import Authorizer
from tags.capabilities import API_PERMISSION_SETS, USER_TAGS


def _account(**fields) -> Authorizer:
    values = {"service_type": 2, "verify_type": 0, "permission_sets": [2], "status": "active"}
    return Authorizer(appid="wx1", **(values | fields))


def test_user_tags_is_registered_by_the_tags_app():
    assert "user_tags" in capabilities_evaluate(_account())
    assert API_PERMISSION_SETS["/cgi-bin/tags/getidlist"] == frozenset({2, 100})
    assert USER_TAGS.permission_sets == frozenset({2, 100})


@pytest.mark.parametrize(
    ("fields", "usable", "refusal", "words"),
    [
        ({}, True, "", ""),
        ({"permission_sets": [100]}, True, "", ""),
        ({"permission_sets": [1, 3]}, False, "permission_not_granted", "(2 or 100)"),
        ({"service_type": 0}, False, "account_not_eligible", "Subscription Account"),
        ({"service_type": 1}, False, "account_not_eligible", "Subscription Account"),
        ({"service_type": None}, False, "account_not_eligible", "not received"),
        ({"verify_type": -1}, False, "account_not_eligible", "verification"),
        ({"verify_type": 3}, True, "", ""),
        ({"status": "revoked"}, False, "authorizer_revoked", "withdrew"),
        ({"status": "reauth_required"}, False, "authorizer_revoked", "authorize the account"),
        # The first failing rule is the reason: authorization, sets, type, verification.
        ({"status": "revoked", "permission_sets": []}, False, "authorizer_revoked", "withdrew"),
        ({"permission_sets": [], "service_type": 0}, False, "permission_not_granted", "2 or"),
        ({"service_type": 0, "verify_type": -1}, False, "account_not_eligible", "Subscription"),
    ],
)
def test_status(fields, usable, refusal, words):
    status = capability_status(_account(**fields), USER_TAGS)
    assert (status.usable, status.refusal) == (usable, refusal)
    assert words in status.reason
    assert (status.reason == "") == usable


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"permission_sets": []}, PermissionSetMissing),
        ({"verify_type": -1}, AccountIneligible),
        ({"status": "revoked"}, AuthorizerInactive),
    ],
)
def test_require_raises_the_kind(fields, error):
    with pytest.raises(error):
        capability_require(_account(**fields), "user_tags")


def test_a_second_capability_is_one_registration():
    extra = capability_register(
        Capability("menus", "Custom menu", frozenset({15}), requires_verified=False)
    )
    try:
        statuses = capabilities_evaluate(_account(verify_type=-1, permission_sets=[15]))
        assert statuses["menus"].usable and not statuses["user_tags"].usable
    finally:
        from authorizers import capabilities

        capabilities._registry.pop(extra.name)
