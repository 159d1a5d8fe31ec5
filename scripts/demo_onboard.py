"""The demo's last step: onboard a merchant through the real authorization flow.

Runs under `make run` beside the other processes: waits for the web server and the
sandbox, walks the merchant's browser path (invite page, WeChat's page, callback) over
HTTP, waits for the worker to sync the account, proves a tag lookup works, and prints
how to repeat it. Then it idles, because honcho stops everything when one process exits.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")

import django  # noqa: E402

django.setup()

from authorizers.models import Merchant  # noqa: E402
from authorizers.services.api_keys import api_key_create  # noqa: E402
from authorizers.services.onboarding.invites import invite_create, invite_url  # noqa: E402
from sandbox.demo import COFFEE_APPID, demo_openids  # noqa: E402

WEB = f"http://127.0.0.1:{os.environ.get('DEMO_WEB_PORT', '8000')}"
SANDBOX = f"http://127.0.0.1:{os.environ.get('DEMO_SANDBOX_PORT', '8100')}"
MERCHANT_NAME = "Demo Coffee Co"


def wait_for(url: str, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"demo: {what} did not come up at {url}")


def onboard(invite: str) -> None:
    browser = requests.Session()
    landing = browser.get(invite, timeout=10)
    landing.raise_for_status()
    # The landing page's button leads to /start/, which redirects to WeChat's page (the
    # sandbox), which consents and redirects back to our callback.
    result = browser.get(invite.rstrip("/") + "/start/", timeout=30)
    result.raise_for_status()


def wait_until_usable(api_key: str, timeout: float = 120) -> dict:
    headers = {"Authorization": f"Bearer {api_key}"}
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        response = requests.get(
            f"{WEB}/api/v1/authorizers/{COFFEE_APPID}/", headers=headers, timeout=5
        )
        if response.status_code == 200:
            body = response.json()
            if body.get("capabilities", {}).get("user_tags", {}).get("usable"):
                return body
        time.sleep(1)
    raise SystemExit(f"demo: the account never became usable: {body}")


def register_inbox(api_key: str) -> str:
    """The demo merchant's webhook endpoint: the product's inbox page (once, across runs)."""
    inbox = f"{WEB}/demo/webhook-inbox/"
    headers = {"Authorization": f"Bearer {api_key}"}
    listed = requests.get(f"{WEB}/api/v1/webhooks/", headers=headers, timeout=10).json()
    if not any(hook["url"] == inbox for hook in listed.get("webhooks", [])):
        hooked = requests.post(
            f"{WEB}/api/v1/webhooks/", json={"url": inbox}, headers=headers, timeout=10
        )
        if hooked.status_code != 201:
            raise SystemExit(f"demo: registering the webhook inbox failed: {hooked.text}")
    return inbox


def main() -> None:
    wait_for(f"{WEB}/healthz", "the web server")
    wait_for(f"{SANDBOX}/sandbox/state", "the WeChat sandbox")
    # The sandbox pushed its first ticket while the web server may still have been starting.
    requests.post(
        f"{SANDBOX}/sandbox/push", json={"info_type": "component_verify_ticket"}, timeout=10
    )
    merchant, _ = Merchant.objects.get_or_create(name=MERCHANT_NAME)
    _, api_key = api_key_create(merchant=merchant, name=f"make run {time.strftime('%H:%M:%S')}")
    inbox = register_inbox(api_key)
    invite = invite_url(invite=invite_create(merchant=merchant))
    for attempt in range(5):
        try:
            onboard(invite)
            break
        except requests.HTTPError:
            if attempt == 4:
                raise
            time.sleep(2)
    wait_until_usable(api_key)
    openid = demo_openids(COFFEE_APPID)[0]
    url = f"{WEB}/api/v1/authorizers/{COFFEE_APPID}/users/{openid}/tags?expand=names"
    answer = requests.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=10)
    answer.raise_for_status()
    password = os.environ.get("DEMO_OPERATOR_PASSWORD", "?")
    curl = f"curl -s -H {shlex.quote('Authorization: Bearer ' + api_key)} {shlex.quote(url)}"
    print(
        "\n".join(
            [
                "",
                "=" * 72,
                "The demo is up. WeChat is the local sandbox; nothing leaves this machine.",
                f"  Admin:      {WEB}/admin/  (operator / {password})",
                f"  API docs:   {WEB}/api/docs/",
                f"  Merchant:   {MERCHANT_NAME}, onboarded {COFFEE_APPID} through WeChat's page",
                f"  API key:    {api_key}   (shown once)",
                f"  Invite:     {invite}",
                "  Tags of a follower:",
                f"  {curl}",
                f"  -> {answer.text}",
                f"  Webhooks:   {inbox}  (authorizer.connected is there already)",
                "  Revoke the account in the sandbox and watch authorizer.revoked arrive:",
                f"  curl -s -X POST {SANDBOX}/sandbox/push -H 'Content-Type: application/json' "
                f'-d \'{{"info_type": "unauthorized", "authorizer_appid": "{COFFEE_APPID}"}}\'',
                "Tokens refresh on schedule (Celery beat). Ctrl-C stops everything.",
                "=" * 72,
            ]
        ),
        flush=True,
    )
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
