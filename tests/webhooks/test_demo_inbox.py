"""The demo's inbox page (make run): a delivery from the product lands there verified over
real HTTP; a forged one is shown as not verified; outside DEBUG the page does not exist."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.support import make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_delivery_lands_verified_in_the_demo_inbox(live_server, settings, tmp_path):
    from webhooks.demo_inbox import INBOX_PATH
    from webhooks.services.delivery import webhook_delivery_attempt
    from webhooks.services.endpoints import webhook_endpoint_create, webhook_test_send

    settings.DEBUG = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_DEMO_INBOX_FILE = str(tmp_path / "inbox.jsonl")
    tenant = make_tenant("Demo")
    endpoint = webhook_endpoint_create(
        merchant_id=tenant.merchant.pk, url=live_server.url + INBOX_PATH
    )
    delivery = webhook_test_send(endpoint=endpoint)
    assert webhook_delivery_attempt(delivery_id=delivery.pk).result == "succeeded"

    forged = Client().post(
        INBOX_PATH,
        b'{"type": "authorizer.revoked", "data": {}}',
        content_type="application/json",
        HTTP_WEBHOOK_ID="msg_forged",
        HTTP_WEBHOOK_TIMESTAMP="1",
        HTTP_WEBHOOK_SIGNATURE="v1,AAAA",
    )
    assert forged.status_code == 400
    page = Client().get(INBOX_PATH).content.decode()
    assert delivery.msg_id in page and "webhook.test" in page
    assert page.count(">verified") == 1 and "NOT verified" in page

    settings.DEBUG = False
    assert Client().get(INBOX_PATH).status_code == 404
