"""SIGKILL in the middle of work: a Celery worker during a refresh sweep, the web process
during lookups and around event pushes. After a restart every authorizer is still
refreshable with the refresh token we hold, lookups work, and no event is recorded twice."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests
from django.conf import settings
from django.db import connection

from authorizers.models import Authorizer
from authorizers.selectors.tokens import authorizer_list_expiring
from authorizers.services.tokens.refresh import authorizer_refresh_access_token
from authorizers.services.tokens.sweep import (
    authorizer_refresh_margin,
    authorizer_token_busy_unmark,
)
from authorizers.tasks.refresh import authorizer_tokens_sweep
from component.models import ComponentEvent
from sandbox.demo import (
    DEMO_AUTHORIZERS,
    build_synthetic_authorizer,
    demo_openids,
    synthetic_appid,
)
from sandbox.pusher import event_xml
from tests.authorizers.refresh_support import (
    AUTHORIZER_TOKEN_PATH,
    give_ticket,
    onboard,
    refresh_calls,
    sandbox_refresh_token,
)
from tests.plugins.celery_worker import wait_until
from wechat.crypto import MessageCrypto

from .web_process import WebProcess

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_REFRESH_MS = 1000


def _wechat_accepts(sandbox, appid: str, refresh_token: str) -> bool:
    """WeChat would take this refresh token now (the latest, or the previous one in grace)."""
    with sandbox.state.lock:
        return sandbox.state.authorizers[appid].refresh.accepts(refresh_token, sandbox.state.now())


def _token_valid(sandbox, appid: str, access_token: str) -> bool:
    """WeChat takes this access token for this account (whatever APIs the account may call)."""
    try:
        return sandbox.state.authorizer_for_token(access_token).appid == appid
    except Exception:
        return False


@pytest.mark.celery
def test_worker_killed_mid_sweep_loses_no_refresh_token(
    celery_worker, wechat_api, profile, resilience_figures
):
    give_ticket(wechat_api)
    # The harsher reading: every refresh rotates the refresh token (old one: 5-minute grace).
    wechat_api.state.settings.rotate_refresh_token = True
    extra = 5 if profile.name == "short" else 95
    for index in range(extra):
        wechat_api.state.add_authorizer(build_synthetic_authorizer(index))
    appids = [*DEMO_AUTHORIZERS, *(synthetic_appid(i) for i in range(extra))]
    rows = [onboard(wechat_api, appid, expires_in=300) for appid in appids]
    worker = celery_worker(concurrency=2)
    # Every refresh call is slow: the kill lands while WeChat is acting on some of them.
    wechat_api.set_faults(latency_ms=SLOW_REFRESH_MS, path_prefix=AUTHORIZER_TOKEN_PATH)

    authorizer_tokens_sweep.delay()
    wait_until(lambda: refresh_calls(wechat_api) >= 2, timeout=20)
    os.killpg(worker.process.pid, signal.SIGKILL)  # the whole worker, main process and pool
    worker.process.wait(10)
    in_flight = refresh_calls(wechat_api)
    # WeChat finishes the calls nobody listens to any more (they rotate refresh tokens).
    time.sleep(SLOW_REFRESH_MS / 1000 + 0.5)

    # Right after the crash, what we hold is still accepted by WeChat for every account.
    for row in Authorizer.objects.filter(pk__in=[r.pk for r in rows]):
        assert _wechat_accepts(wechat_api, row.appid, row.refresh_token), row.appid
        assert row.status == Authorizer.Status.ACTIVE

    # Restart. The dead worker's in-flight marks expire (75 s in production): drop them.
    wechat_api.clear_faults()
    for row in rows:
        authorizer_token_busy_unmark(authorizer_id=row.pk)
    celery_worker(concurrency=2)
    authorizer_tokens_sweep.delay()
    wait_until(
        lambda: not authorizer_list_expiring(within=authorizer_refresh_margin()).exists(),
        timeout=60,
    )

    lost = []
    for row in Authorizer.objects.filter(pk__in=[r.pk for r in rows]).order_by("appid"):
        assert row.status == Authorizer.Status.ACTIVE, (row.appid, row.last_refresh_error)
        if row.refresh_token != sandbox_refresh_token(wechat_api, row.appid):
            lost.append(row.appid)
        assert _token_valid(wechat_api, row.appid, row.access_token), row.appid
    assert lost == []
    # Past the grace period only the latest refresh token works: every account refreshes.
    wechat_api.state.advance_clock(wechat_api.state.settings.refresh_token_grace_seconds + 1)
    refreshed = 0
    for row in rows:
        token = authorizer_refresh_access_token(authorizer_id=row.pk, force=True)
        assert _token_valid(wechat_api, row.appid, token.token)
        refreshed += 1
    connection.close()
    resilience_figures.record(
        f"crash worker SIGKILL mid-sweep ({profile.name})",
        kind="crash",
        authorizers=len(rows),
        refresh_calls_sent_before_kill=in_flight,
        refresh_tokens_lost=len(lost),
        refreshable_after_restart=refreshed,
        reauth_required=Authorizer.objects.exclude(status=Authorizer.Status.ACTIVE).count(),
    )
    assert refreshed == len(rows)


# -- the web process ----------------------------------------------------------------------------


def _push(sandbox, xml: str) -> tuple[dict[str, str], bytes]:
    """A push as WeChat sends it; each call encrypts afresh, as WeChat's retries do."""
    world = sandbox.state
    crypto = MessageCrypto(world.component_token, world.encoding_aes_key, world.component_appid)
    return crypto.encrypt_push(xml)


def _deliver(web: WebProcess, push: tuple[dict[str, str], bytes]) -> requests.Response:
    params, body = push
    return requests.post(
        f"{web.url}/wechat/component/events/",
        params=params,
        data=body,
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )


def _half_delivered(web: WebProcess, push: tuple[dict[str, str], bytes]) -> socket.socket:
    """Headers and half the body of a push: the connection the kill will cut."""
    params, body = push
    sock = socket.create_connection(("127.0.0.1", web.port), timeout=5)
    head = (
        f"POST /wechat/component/events/?{urlencode(params)} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body[: len(body) // 2])
    return sock


def _lookups_in_flight(web: WebProcess, target, outcomes: list) -> list[threading.Thread]:
    def lookup(openid: str) -> None:
        try:
            response = requests.get(
                f"{web.url}/api/v1/authorizers/{target.appid}/users/{openid}/tags",
                headers={"Authorization": f"Bearer {target.raw_key}"},
                timeout=20,
            )
            outcomes.append(response.status_code)
        except requests.RequestException:
            outcomes.append("cut")

    threads = [threading.Thread(target=lookup, args=(o,)) for o in target.openids]
    for thread in threads:
        thread.start()
    return threads


def _lookups_work(web: WebProcess, target) -> int:
    ok = 0
    for openid in target.openids:
        response = requests.get(
            f"{web.url}/api/v1/authorizers/{target.appid}/users/{openid}/tags",
            headers={"Authorization": f"Bearer {target.raw_key}"},
            timeout=20,
        )
        assert response.status_code == 200, response.text
        assert response.json()["tagid_list"] == target.expected[openid]
        ok += 1
    return ok


class _Target:
    def __init__(self, appid: str, raw_key: str, expected: dict[str, list[int]]) -> None:
        self.appid, self.raw_key, self.expected = appid, raw_key, expected
        self.openids = list(expected)


def test_web_process_killed_mid_lookup_and_mid_push(
    wechat_api, authorizer_factory, tmp_path, profile, resilience_figures
):
    from authorizers.services.api_keys import api_key_create

    coffee = authorizer_factory()
    _, raw_key = api_key_create(merchant=coffee.merchant, name="crash")
    world = wechat_api.state
    web = WebProcess(wechat_api, tmp_path).start()
    expected = {}
    for openid in demo_openids(coffee.appid):
        response = requests.get(
            f"{web.url}/api/v1/authorizers/{coffee.appid}/users/{openid}/tags",
            headers={"Authorization": f"Bearer {raw_key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        expected[openid] = response.json()["tagid_list"]
    target = _Target(coffee.appid, raw_key, expected)
    cycles = 1 if profile.name == "short" else 10
    appid = settings.WECHAT_COMPONENT_APPID
    pushes = cut = restarts = lookups_ok = 0
    events_before = ComponentEvent.objects.count()
    try:
        for cycle in range(cycles):
            now = int(time.time()) + cycle
            delivered = event_xml(
                appid,
                "component_verify_ticket",
                now,
                {"ComponentVerifyTicket": world.issue_ticket()},
            )
            interrupted = event_xml(
                appid, "unauthorized", now, {"AuthorizerAppid": f"wx8{cycle:015d}"}
            )
            # A push WeChat got our "success" for, and one whose connection the kill cuts.
            response = _deliver(web, _push(wechat_api, delivered))
            assert (response.status_code, response.text) == (200, "success")
            half = _half_delivered(web, _push(wechat_api, interrupted))
            pushes += 2

            # Lookups waiting on a slow WeChat when the process dies.
            wechat_api.set_faults(latency_ms=2000, path_prefix="/cgi-bin/tags/getidlist")
            before = world.calls("/cgi-bin/tags/getidlist")
            outcomes: list = []
            threads = _lookups_in_flight(web, target, outcomes)
            wait_until(lambda: world.calls("/cgi-bin/tags/getidlist") >= before + len(threads))
            if cycle % 2 == 0:
                web.kill_all()  # master and worker: nothing left until we start it again
            else:
                # Only the worker: gunicorn's master starts a new one.
                os.kill(web.worker_pids()[0], signal.SIGKILL)
            for thread in threads:
                thread.join(30)
            half.close()
            cut += outcomes.count("cut")
            assert set(outcomes) <= {"cut"}, outcomes  # none answered: none was a 500 either
            wechat_api.clear_faults()
            if web.process.poll() is not None:
                web.start()
            else:
                wait_until(lambda: len(web.worker_pids()) == 1 and web._ready(), timeout=30)
            restarts += 1

            # WeChat retries both pushes (fresh encryption, same message): each recorded once.
            for xml in (delivered, interrupted):
                response = _deliver(web, _push(wechat_api, xml))
                assert (response.status_code, response.text) == (200, "success")
                pushes += 1
            lookups_ok += _lookups_work(web, target)
    finally:
        web.stop()

    events = ComponentEvent.objects.count() - events_before
    duplicates = events - 2 * cycles
    row = Authorizer.objects.get(pk=coffee.pk)
    assert row.status == Authorizer.Status.ACTIVE
    assert row.refresh_token == sandbox_refresh_token(wechat_api, coffee.appid)
    resilience_figures.record(
        f"crash web SIGKILL mid-lookup/push ({profile.name})",
        kind="crash",
        kill_cycles=cycles,
        pushes_sent=pushes,
        events_recorded=events,
        duplicate_events=duplicates,
        lookups_cut_by_kill=cut,
        lookups_ok_after_restart=lookups_ok,
        restarts=restarts,
    )
    assert duplicates == 0
    assert "Traceback" not in web.log, web.log[-3000:]
