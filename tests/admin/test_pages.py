"""Every admin page renders for staff, sends anonymous users to the login, and shows no secret."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from .support import assert_no_secrets

CHANGELISTS = [
    "authorizers_merchant",
    "authorizers_authorizer",
    "authorizers_apikey",
    "authorizers_apicall",
    "component_componentstate",
    "component_componentevent",
]


def _page_urls(world) -> list[str]:
    from authorizers.models import ApiCall
    from component.models import ComponentEvent, ComponentState

    urls = [reverse("admin:index"), reverse("admin:dashboard")]
    urls += [reverse(f"admin:{name}_changelist") for name in CHANGELISTS]
    urls += [
        reverse("admin:authorizers_merchant_change", args=[world.merchant.pk]),
        reverse("admin:authorizers_merchant_add"),
        reverse("admin:authorizers_apikey_change", args=[world.api_key.pk]),
        reverse("admin:authorizers_apicall_change", args=[ApiCall.objects.first().pk]),
        reverse("admin:component_componentstate_change", args=[ComponentState.objects.get().pk]),
        reverse("admin:component_componentevent_change", args=[ComponentEvent.objects.first().pk]),
        reverse("admin:authorizers_merchant_api_key_create", args=[world.merchant.pk]),
        reverse(
            "admin:authorizers_merchant_api_key_created", args=[world.merchant.pk, world.api_key.pk]
        ),
        reverse(
            "admin:authorizers_merchant_api_key_revoke", args=[world.merchant.pk, world.api_key.pk]
        ),
    ]
    urls += [
        reverse("admin:authorizers_authorizer_change", args=[a.pk])
        for a in world.authorizers.values()
    ]
    authorizers = reverse("admin:authorizers_authorizer_changelist")
    urls += [
        f"{authorizers}?q=Coffee",
        f"{authorizers}?status=reauth_required",
        f"{authorizers}?merchant__id__exact={world.merchant.pk}",
        f"{reverse('admin:authorizers_apicall_changelist')}?result=ok",
    ]
    urls += [
        f"{authorizers}?eligibility=user_tags:{kind}"
        for kind in world.authorizers
        if kind != "books"
    ]
    return urls


def test_every_page_renders_for_staff_without_secrets(admin_client, admin_world):
    for url in _page_urls(admin_world):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_no_secrets(response.content.decode(), admin_world.secrets)


def test_anonymous_is_sent_to_login(client, admin_world):
    for url in _page_urls(admin_world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_non_staff_user_is_sent_to_login(client, admin_world, django_user_model):
    user = django_user_model.objects.create_user("merchant-person", password="pw-123456789")
    client.force_login(user)
    response = client.get(reverse("admin:dashboard"))
    assert response.status_code == 302


def test_authorizer_list_reads_like_the_spec(admin_client, admin_world):
    html = admin_client.get(reverse("admin:authorizers_authorizer_changelist")).content.decode()
    for text in [
        "Demo Coffee",
        "wx1000000000000002",
        "Acme Coffee",
        "Service Account",
        "Subscription Account",
        "Not verified",
        "Verified",
        "Not synced yet",
        "2 · User management",
        "Can look up user tags",
        "did not grant the &#x27;User management&#x27; permission set",
        "has not completed WeChat verification",
        "Needs re-authorization",
    ]:
        assert text in html, text
    assert re.search(r"in 1 h 2\d min", html)  # 90 minutes from the fixture, minus the run
    # 2 and 100 stand out, named; other sets are a number, named on hover (a 1280 px list).
    assert 'wxt-badge wxt-badge--key" title="permission set 2 · User management">2 · ' in html
    assert 'wxt-badge wxt-badge--key" title="permission set 100 · ' in html
    assert re.search(r'wxt-badge" title="permission set 3 · [^"]+">3</span>', html)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("usable", {"Demo Coffee", "Demo Books"}),
        ("permission", {"Demo Bakery"}),
        ("unverified", {"Demo Unverified"}),
        ("not_service", {"Demo Subscription"}),
        ("type_unknown", {"wx10000000000000c0"}),
        ("inactive", {"Demo Gone"}),
    ],
)
def test_eligibility_filter(admin_client, admin_world, kind, expected):
    url = reverse("admin:authorizers_authorizer_changelist") + f"?eligibility=user_tags:{kind}"
    response = admin_client.get(url)
    shown = {a.nickname or a.appid for a in response.context["cl"].result_list}
    assert shown == expected


def test_eligibility_kinds_agree_with_the_capability_rules(admin_world):
    from authorizers.capabilities import capability_get, capability_status
    from authorizers.models import Authorizer
    from authorizers.selectors.dashboard import authorizer_count_by_eligibility

    capability = capability_get("user_tags")
    counts = authorizer_count_by_eligibility(capability=capability)
    assert sum(counts.values()) == Authorizer.objects.count()
    usable = sum(capability_status(a, capability).usable for a in Authorizer.objects.all())
    assert counts["usable"] == usable == 2


def test_dashboard_shows_health(admin_client, admin_world):
    response = admin_client.get(reverse("admin:dashboard"))
    html = response.content.decode()
    assert re.search(r"received [45] min ago", html)
    assert re.search(r"Access token: <span class=\"wxt-yes\">in 1 h 3\d min", html)
    assert "authorized (wx1000000000000002)" in html or "component_verify_ticket" in html
    assert "Demo Gone" in html  # needs re-authorization
    assert "upstream_unavailable" in html and "invalid_openid" in html
    chart = response.context["chart"]
    assert chart["total_calls"] == 4 and chart["total_errors"] == 2
    assert html.count('class="calls"') >= 24
    assert "<script src=" not in html.split("</header>")[-1] or "cdn" not in html.lower()
    statuses = {s["value"]: s["count"] for s in response.context["statuses"]}
    assert statuses == {"active": 6, "revoked": 0, "reauth_required": 1}


def test_dashboard_with_an_empty_database(admin_client, db):
    response = admin_client.get(reverse("admin:dashboard"))
    assert response.status_code == 200
    assert "no ticket received yet" in response.content.decode()


def test_index_links_the_dashboard(admin_client, admin_world):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:dashboard") in html


def test_authorizer_page_shows_its_calls_and_events_not_its_tokens(admin_client, admin_world):
    usable = admin_world.authorizers["usable"]
    response = admin_client.get(reverse("admin:authorizers_authorizer_change", args=[usable.pk]))
    html = response.content.decode()
    assert 'id="recent-calls"' in html and "0a1b2c3d-4e5f6a7b-8c9d0e1f" in html
    assert 'id="recent-events"' in html and "authorized" in html
    assert 'name="access_token"' not in html and 'name="refresh_token"' not in html
    assert 'name="_save"' not in html  # nothing to save: everything is read-only
    assert "Refresh token now" in html


def test_component_state_shows_ages_not_values(admin_client, admin_world):
    from component.models import ComponentState

    state = ComponentState.objects.get()
    url = reverse("admin:component_componentstate_change", args=[state.pk])
    html = admin_client.get(url).content.decode()
    assert re.search("received [45]\xa0minutes ago \\(valid\\)", html)
    assert "expires in 1\xa0hour" in html


def test_api_key_admin_never_shows_the_hash_and_cannot_add(admin_client, admin_world):
    response = admin_client.get(reverse("admin:authorizers_apikey_add"))
    assert response.status_code == 403
    url = reverse("admin:authorizers_apikey_change", args=[admin_world.api_key.pk])
    html = admin_client.get(url).content.decode()
    assert admin_world.api_key.prefix in html
    assert "key_hash" not in html


def test_merchant_delete_is_offered_only_where_it_can_succeed(admin_client, admin_world):
    from authorizers.models import ApiCall, ApiKey, Merchant
    from authorizers.services.api_keys import api_key_create

    owner = Merchant.objects.filter(authorizers__isnull=False).first()
    page = admin_client.get(reverse("admin:authorizers_merchant_change", args=[owner.pk]))
    html = page.content.decode()
    assert "deletelink" not in html and 'id="not-deletable"' in html  # and it says why

    # Without accounts, its keys and call log go with it: no "Cannot delete" dead end.
    spare = Merchant.objects.create(name="Never Onboarded")
    key, _raw = api_key_create(merchant=spare, name="test")
    ApiCall.objects.create(merchant=spare, api_key=key, endpoint="users.tags", result="ok",
                           status_code=200, latency_ms=1)  # fmt: skip
    url = reverse("admin:authorizers_merchant_delete", args=[spare.pk])
    asked = admin_client.get(url).content.decode()
    assert "Cannot delete" not in asked and "Yes, I’m sure" in asked
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Merchant.objects.filter(pk=spare.pk).exists()
    assert not ApiKey.objects.filter(merchant_id=spare.pk).exists()


def test_authorizer_page_shows_its_pending_ownership_claims(admin_client, admin_world):
    from django.utils import timezone

    from authorizers.models import Merchant, OwnershipConflict

    usable, books = admin_world.authorizers["usable"], admin_world.authorizers["books"]
    claimant = Merchant.objects.create(name="Claiming Bakery")
    settled = Merchant.objects.create(name="Settled Claimant")
    claim = OwnershipConflict.objects.create(authorizer=usable, claimant=claimant)
    OwnershipConflict.objects.create(
        authorizer=usable, claimant=settled, resolved_at=timezone.now(), resolution="dismissed"
    )

    html = admin_client.get(
        reverse("admin:authorizers_authorizer_change", args=[usable.pk])
    ).content.decode()
    assert 'id="pending-claims"' in html
    box = html[
        html.index('id="pending-claims"') : html.index(
            "</fieldset>", html.index('id="pending-claims"')
        )
    ]
    assert "Claiming Bakery" in box and "Acme Coffee" in box
    assert reverse("admin:authorizers_ownershipconflict_change", args=[claim.pk]) in box
    assert "Settled Claimant" not in html  # decided claims are not pending

    other = admin_client.get(reverse("admin:authorizers_authorizer_change", args=[books.pk]))
    assert 'id="pending-claims"' not in other.content.decode()
