"""Admin test data written straight to the models, with secrets the pages must never show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone


@dataclass
class AdminWorld:
    merchant: object
    authorizers: dict
    api_key: object
    raw_key: str
    secrets: list[str]


def _authorizer(merchant, appid, nickname, *, sets, service_type=2, verify_type=0, **extra):
    from authorizers.models import Authorizer

    now = timezone.now()
    return Authorizer.objects.create(
        merchant=merchant,
        appid=appid,
        nickname=nickname,
        service_type=service_type,
        verify_type=verify_type,
        permission_sets=sets,
        access_token=f"ACCESS-TOKEN-SECRET-{appid}",
        access_token_expires_at=now + timedelta(minutes=90),
        refresh_token=f"REFRESH-TOKEN-SECRET-{appid}",
        authorized_at=now,
        info_synced_at=now,
        **extra,
    )


@pytest.fixture
def admin_world(db) -> AdminWorld:
    from authorizers.models import ApiCall, Authorizer, Merchant
    from authorizers.services.api_keys import api_key_create
    from component.models import ComponentEvent, ComponentState

    merchant = Merchant.objects.create(name="Acme Coffee")
    accounts = {
        "usable": _authorizer(merchant, "wx1000000000000002", "Demo Coffee", sets=[1, 2, 3]),
        "books": _authorizer(merchant, "wx1000000000000100", "Demo Books", sets=[1, 100]),
        "permission": _authorizer(merchant, "wx1000000000000000", "Demo Bakery", sets=[1, 3, 7]),
        "unverified": _authorizer(
            merchant, "wx10000000000000a1", "Demo Unverified", sets=[1, 2], verify_type=-1
        ),
        "not_service": _authorizer(
            merchant, "wx10000000000000b0", "Demo Subscription", sets=[1, 2], service_type=0
        ),
        "type_unknown": _authorizer(
            merchant, "wx10000000000000c0", "", sets=[2], service_type=None, verify_type=None
        ),
        "inactive": _authorizer(
            merchant,
            "wx10000000000000d0",
            "Demo Gone",
            sets=[2],
            status=Authorizer.Status.REAUTH_REQUIRED,
            last_refresh_error="61023 refresh_token is invalid",
        ),
    }
    api_key, raw_key = api_key_create(merchant=merchant, name="backend")
    now = timezone.now()
    usable = accounts["usable"]
    for i, result in enumerate(["ok", "ok", "invalid_openid", "upstream_unavailable"]):
        call = ApiCall.objects.create(
            merchant=merchant,
            api_key=api_key,
            authorizer=usable,
            authorizer_appid=usable.appid,
            endpoint="users.tags",
            result=result,
            status_code=200 if result == "ok" else 422,
            wechat_errcode=None if result == "ok" else 40003,
            rid="" if result == "ok" else "0a1b2c3d-4e5f6a7b-8c9d0e1f",
            latency_ms=12 + i,
            openid_masked="oAbC…xYz9",
        )
        ApiCall.objects.filter(pk=call.pk).update(created_at=now - timedelta(hours=i * 5))
    state = ComponentState.objects.create(
        component_appid=settings.WECHAT_COMPONENT_APPID,
        verify_ticket="TICKET-SECRET-VALUE-0001",
        ticket_received_at=now - timedelta(minutes=4),
        access_token="COMPONENT-TOKEN-SECRET-0001",
        access_token_expires_at=now + timedelta(minutes=100),
        access_token_fetched_at=now - timedelta(minutes=20),
    )
    ComponentEvent.objects.create(
        dedup_key="a" * 64,
        info_type="authorized",
        authorizer_appid=usable.appid,
        status=ComponentEvent.Status.APPLIED,
        applied_at=now,
        payload={"InfoType": "authorized", "AuthorizerAppid": usable.appid},
    )
    ComponentEvent.objects.create(
        dedup_key="b" * 64, info_type="component_verify_ticket", status="applied", payload={}
    )
    secrets = [state.verify_ticket, state.access_token, raw_key, api_key.key_hash]
    for a in accounts.values():
        secrets += [a.access_token, a.refresh_token]
    return AdminWorld(merchant, accounts, api_key, raw_key, secrets)
