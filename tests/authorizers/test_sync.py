"""Syncing one account's info, and importing every account WeChat lists."""

import pytest

from authorizers.models import Authorizer
from authorizers.services.onboarding.invites import UNASSIGNED_MERCHANT_NAME
from authorizers.services.sync import authorizer_sync_info, authorizers_import_all
from sandbox.demo import BOOKS_APPID, COFFEE_APPID, UNVERIFIED_APPID

pytestmark = pytest.mark.django_db


def test_info_sync_reads_profile_type_and_grant(authorizer_factory, component_ready):
    account = authorizer_factory()
    component_ready.state.update_authorizer(
        COFFEE_APPID,
        {"nick_name": "Coffee Two", "service_type": 0, "verify_type": -1, "func_info": [1, 100]},
    )

    synced = authorizer_sync_info(authorizer_id=account.pk)

    assert synced.nickname == "Coffee Two"
    assert (synced.service_type, synced.verify_type) == (0, -1)
    assert synced.permission_sets == [1, 100]
    assert synced.alias == "democoffee"
    assert synced.user_name.startswith("gh_")
    assert synced.head_img.startswith("http://wx.qlogo.cn/")
    assert synced.refresh_token == account.refresh_token
    assert synced.info_synced_at > account.info_synced_at


def test_import_pages_through_every_authorizer(component_ready, merchant):
    component_ready.state.add_synthetic(620)
    progress = []

    summary = authorizers_import_all(
        sync_info=False, on_progress=lambda done, total: progress.append((done, total))
    )

    assert component_ready.state.calls("api_get_authorizer_list") == 2  # 500 + 120
    assert (summary.total, summary.seen, summary.created) == (620, 620, 620)
    assert progress[-1] == (620, 620)
    assert Authorizer.objects.filter(merchant__name=UNASSIGNED_MERCHANT_NAME).count() == 620
    one = Authorizer.objects.order_by("appid").first()
    assert one.refresh_token == component_ready.state.authorizers[one.appid].refresh.current
    assert one.authorized_at is not None


def test_import_updates_known_accounts_and_reports_unusable_ones(
    authorizer_factory, component_ready, celery_eager
):
    known = authorizer_factory()
    untouched = authorizer_factory(appid=UNVERIFIED_APPID)
    component_ready.state.authorize(COFFEE_APPID)  # a re-authorization we never heard of
    component_ready.state.consent(BOOKS_APPID)  # consented, code never exchanged

    summary = authorizers_import_all()

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    assert summary.without_refresh_token == [BOOKS_APPID]
    assert summary.unassigned == []
    coffee = Authorizer.objects.get(pk=known.pk)
    assert coffee.merchant_id == known.merchant_id
    assert coffee.refresh_token == component_ready.state.authorizers[COFFEE_APPID].refresh.current
    assert Authorizer.objects.get(pk=untouched.pk).refresh_token == untouched.refresh_token
    assert not Authorizer.objects.filter(appid=BOOKS_APPID).exists()


def test_import_syncs_info_of_new_accounts(component_ready):
    component_ready.state.authorize(BOOKS_APPID)

    summary = authorizers_import_all()

    assert summary.unassigned == [BOOKS_APPID]
    books = Authorizer.objects.get(appid=BOOKS_APPID)
    assert (books.nickname, books.service_type, books.permission_sets) == (
        "Demo Books",
        2,
        [1, 100],
    )
