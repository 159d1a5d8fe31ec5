"""API keys: stored as a hash only, compared in constant time, never cached in clear."""

from __future__ import annotations

import hashlib
import hmac
import inspect
from unittest import mock

import pytest
from rest_framework.test import APIClient

from authorizers.models import ApiKey
from authorizers.services import api_keys
from authorizers.services.api_keys import api_key_authenticate, api_key_create

pytestmark = pytest.mark.django_db


def test_the_database_holds_only_the_hash(merchant):
    api_key, raw_key = api_key_create(merchant=merchant, name="backend")
    row = ApiKey.objects.values().get(pk=api_key.pk)
    assert raw_key not in repr(row)
    assert row["key_hash"] == hashlib.sha256(raw_key.encode()).hexdigest()
    assert len(row["prefix"]) < len(raw_key) // 2  # enough to tell keys apart, no more
    assert len(raw_key) >= 40  # 32 random bytes behind the prefix


def test_the_comparison_is_constant_time(merchant):
    _, raw_key = api_key_create(merchant=merchant)
    with mock.patch.object(
        api_keys.hmac, "compare_digest", wraps=hmac.compare_digest
    ) as compare_digest:
        assert api_key_authenticate(raw_key=raw_key) is not None
        assert api_key_authenticate(raw_key=raw_key + "x") is None
    assert compare_digest.call_count >= 1
    # And no plain equality on a key or its hash anywhere in the module.
    source = inspect.getsource(api_keys)
    assert "key_hash ==" not in source and "== digest" not in source


def test_the_api_path_goes_through_the_constant_time_check(merchant):
    _, raw_key = api_key_create(merchant=merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    with mock.patch.object(
        api_keys.hmac, "compare_digest", wraps=hmac.compare_digest
    ) as compare_digest:
        assert client.get("/api/v1/authorizers/").status_code == 200
    assert compare_digest.call_count == 1
