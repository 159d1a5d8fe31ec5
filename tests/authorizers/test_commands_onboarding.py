"""create_merchant and sync_authorizers, as an operator runs them."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from authorizers.models import ApiKey, Authorizer, Merchant
from authorizers.services.api_keys import api_key_authenticate
from authorizers.services.onboarding.invites import UNASSIGNED_MERCHANT_NAME, invite_merchant_get

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_merchant_json(settings):
    out, _ = _run("create_merchant", "Acme Coffee", "--json")

    data = json.loads(out)
    merchant = Merchant.objects.get(pk=data["merchant_id"])
    assert merchant.name == data["name"] == "Acme Coffee"
    assert api_key_authenticate(raw_key=data["api_key"]).merchant == merchant
    assert data["api_key"].startswith(data["api_key_prefix"])
    prefix = f"{settings.PUBLIC_BASE_URL}/authorize/"
    assert data["invite_url"].startswith(prefix) and data["invite_url"].endswith("/")
    invite = data["invite_url"][len(prefix) : -1]
    assert invite_merchant_get(invite=invite) == merchant
    assert data["invite_expires_at"]
    # Shown once: only the hash is stored.
    assert ApiKey.objects.get().key_hash != data["api_key"]


def test_create_merchant_text(settings):
    out, _ = _run("create_merchant", "Acme Tea")
    assert 'Merchant "Acme Tea" created' in out
    assert "wxt_" in out
    assert f"{settings.PUBLIC_BASE_URL}/authorize/" in out


@pytest.mark.parametrize("name", ["", "   ", UNASSIGNED_MERCHANT_NAME, "x" * 201])
def test_create_merchant_refuses_bad_names(name):
    with pytest.raises(CommandError):
        _run("create_merchant", name)
    assert Merchant.objects.count() == 0


def test_sync_authorizers_imports_and_summarises(component_ready, authorizer_factory):
    authorizer_factory()
    component_ready.state.authorize("wx1000000000000100")
    component_ready.state.add_synthetic(3)

    out, err = _run("sync_authorizers")

    assert "WeChat lists 5 authorizer(s); processed 5." in out
    assert "created: 4, updated: 0, unchanged: 1" in out
    assert f'"{UNASSIGNED_MERCHANT_NAME}"' in out and "wx1000000000000100" in out
    assert err == ""  # no progress bar when not on a terminal
    assert Authorizer.objects.get(appid="wx1000000000000100").nickname == "Demo Books"


def test_sync_authorizers_without_ticket_fails_clearly(wechat_api):
    with pytest.raises(CommandError, match="component_verify_ticket"):
        _run("sync_authorizers")
