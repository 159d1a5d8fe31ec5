"""SPEC 11 end to end: account changes reach the owning merchant's endpoint over HTTP, signed
so that standardwebhooks' own verifier accepts them, and reach no other merchant."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from sandbox.demo import COFFEE_APPID
from tests.api.support import make_tenant

from .conftest import deliver_all

pytestmark = pytest.mark.usefixtures("private_targets")


def register(tenant, url: str, **extra) -> dict:
    response = tenant.client.post("/api/v1/webhooks/", {"url": url, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def verified(receiver, path: str, secret: str) -> list[dict]:
    """Every body that arrived at `path`, each verified with the merchant's secret."""
    return [Webhook(secret).verify(r.body, r.headers) for r in receiver.at(path)]


@pytest.mark.django_db
def test_each_event_type_reaches_its_owner_only(
    receiver, authorizer_factory, component_ready, django_capture_on_commit_callbacks
):
    from authorizers.services.onboarding.authorization import authorization_complete
    from authorizers.services.quota.readings import authorizer_quota_clear
    from authorizers.services.quota.stops import authorizer_quota_stop
    from authorizers.services.status import (
        authorizer_mark_reauth_required,
        authorizer_mark_revoked,
    )
    from wechat.errors import WeChatQuotaExceeded

    owner, other = make_tenant("Owner"), make_tenant("Other")
    hook_owner = register(owner, receiver.url("/owner"))
    hook_other = register(other, receiver.url("/other"))

    coffee = authorizer_factory(COFFEE_APPID, merchant=owner.merchant)  # connected
    authorizer_factory(COFFEE_APPID, merchant=owner.merchant, func_info=[1, 2])  # updated
    authorizer_quota_stop(
        authorizer=coffee,
        api="/cgi-bin/tags/getidlist",
        error=WeChatQuotaExceeded("quota", errcode=45009),
    )
    authorizer_quota_clear(authorizer_id=coffee.pk)  # quota_restored
    authorizer_mark_reauth_required(authorizer_id=coffee.pk)
    authorizer_mark_revoked(authorizer_id=coffee.pk)
    deliver_all()
    assert verified(receiver, "/other", hook_other["secret"]) == []  # nothing of Owner's

    # Revoked, then authorized through Other's invite: it moves (SPEC 9).
    consent = component_ready.state.consent(COFFEE_APPID)
    with django_capture_on_commit_callbacks(execute=True):
        authorization_complete(merchant=other.merchant, authorization_code=consent.auth_code)
    deliver_all()

    got = verified(receiver, "/owner", hook_owner["secret"])
    assert [e["type"] for e in got] == [
        "authorizer.connected",
        "authorizer.updated",
        "authorizer.quota_exhausted",
        "authorizer.quota_restored",
        "authorizer.reauthorization_required",
        "authorizer.revoked",
        "authorizer.removed",
    ]
    assert all(e["data"]["appid"] == COFFEE_APPID for e in got)
    sequences = [e["data"]["sequence"] for e in got]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert got[1]["data"]["permission_sets"] == [1, 2]
    assert got[2]["data"]["api"] == "/cgi-bin/tags/getidlist"
    assert got[5]["data"]["status"] == "revoked"
    assert "capabilities" in got[0]["data"] and got[0]["timestamp"].endswith("Z")
    # Removed says nothing about the merchant that has the account now.
    assert set(got[6]["data"]) == {"appid", "status", "capabilities", "sequence"}
    assert other.merchant.name not in json.dumps(got[6])

    theirs = verified(receiver, "/other", hook_other["secret"])
    assert [e["type"] for e in theirs] == ["authorizer.connected"]
    assert theirs[0]["data"]["sequence"] > got[6]["data"]["sequence"]
    # A signature made with another merchant's secret does not verify.
    with pytest.raises(Exception, match="signature"):
        Webhook(hook_other["secret"]).verify(
            receiver.at("/owner")[0].body, receiver.at("/owner")[0].headers
        )


@pytest.mark.django_db
def test_event_filter_sends_only_the_chosen_types(receiver, authorizer_factory):
    from authorizers.services.status import authorizer_mark_revoked

    owner = make_tenant("Owner")
    hook = register(owner, receiver.url("/revoked-only"), events=["authorizer.revoked"])
    coffee = authorizer_factory(COFFEE_APPID, merchant=owner.merchant)
    authorizer_mark_revoked(authorizer_id=coffee.pk)
    deliver_all()
    assert [e["type"] for e in verified(receiver, "/revoked-only", hook["secret"])] == [
        "authorizer.revoked"
    ]


@pytest.mark.django_db
def test_a_change_that_rolls_back_sends_nothing(receiver, authorizer_factory):
    from authorizers.models import AccountEvent
    from authorizers.services.status import authorizer_mark_revoked

    owner = make_tenant("Owner")
    register(owner, receiver.url("/owner"))
    coffee = authorizer_factory(COFFEE_APPID, merchant=owner.merchant)
    deliver_all()
    before = len(receiver.at("/owner"))
    events = AccountEvent.objects.count()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        authorizer_mark_revoked(authorizer_id=coffee.pk)
        raise Abort

    deliver_all()
    assert AccountEvent.objects.count() == events
    assert len(receiver.at("/owner")) == before
    coffee.refresh_from_db()
    assert coffee.status == "active"


@pytest.mark.django_db
def test_a_change_of_verification_found_by_the_info_sync_is_an_update(
    receiver, authorizer_factory, component_ready
):
    from authorizers.services.sync import authorizer_sync_info

    owner = make_tenant("Owner")
    hook = register(owner, receiver.url("/owner"))
    coffee = authorizer_factory(COFFEE_APPID, merchant=owner.merchant)
    deliver_all()
    authorizer_sync_info(authorizer_id=coffee.pk)  # nothing changed at WeChat: no event
    deliver_all()
    assert [e["type"] for e in verified(receiver, "/owner", hook["secret"])] == [
        "authorizer.connected"
    ]
    component_ready.state.update_authorizer(COFFEE_APPID, {"verify_type": -1})  # unverified
    authorizer_sync_info(authorizer_id=coffee.pk)
    deliver_all()
    got = verified(receiver, "/owner", hook["secret"])
    assert [e["type"] for e in got] == ["authorizer.connected", "authorizer.updated"]
    assert got[1]["data"]["capabilities"]["user_tags"]["usable"] is False
