"""The demo's webhook receiver (DEBUG only: 404 otherwise): what a merchant
would write, verifying each delivery with standardwebhooks, and a page listing what arrived.

`make run` registers it as the demo merchant's endpoint, so revoking the demo account in the
sandbox shows `authorizer.revoked` landing here. Arrivals go to WEBHOOK_DEMO_INBOX_FILE (one
JSON line each); a secret never does.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .models import WebhookEndpoint

INBOX_PATH = "/demo/webhook-inbox/"
SHOWN = 50

_PAGE = engines["django"].from_string(
    """<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Webhook inbox (demo)</title><style>body{font:14px system-ui;margin:2em}
td,th{padding:4px 10px;text-align:left}.ok{color:#137333}.bad{color:#c5221f}</style></head>
<body><h1>Webhook inbox (demo)</h1>
<p>The demo merchant's endpoint. Each delivery is verified with <code>standardwebhooks</code>
and the endpoint's secret. Revoke the demo account in the sandbox to see
<code>authorizer.revoked</code> arrive. This page refreshes every 5 seconds.</p>
<table><tr><th>Received</th><th>Signature</th><th>Type</th><th>appid</th><th>sequence</th>
<th>webhook-id</th></tr>{% for a in arrivals %}<tr><td>{{ a.received_at }}</td>
<td class="{% if a.verified %}ok{% else %}bad{% endif %}">{% if a.verified %}verified{% else %}
NOT verified{% endif %}</td><td>{{ a.type }}</td><td>{{ a.appid }}</td><td>{{ a.sequence }}</td>
<td><code>{{ a.webhook_id }}</code></td></tr>{% empty %}<tr><td colspan="6">Nothing yet.</td>
</tr>{% endfor %}</table></body></html>"""
)


def _inbox_file() -> Path:
    return Path(settings.WEBHOOK_DEMO_INBOX_FILE)


def _verify(body: bytes, headers: dict[str, str]) -> dict | None:
    """The payload if any endpoint pointing here signed it, else None."""
    now = timezone.now()
    for endpoint in WebhookEndpoint.objects.filter(url__endswith=INBOX_PATH):
        secrets = [endpoint.secret]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires and expires > now:
            secrets.append(endpoint.previous_secret)
        for secret in secrets:
            try:
                return Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
    return None


@csrf_exempt
def demo_inbox(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404
    if request.method == "POST":
        body = request.body
        payload = _verify(body, dict(request.headers))
        try:
            shown = payload or json.loads(body)
        except ValueError:
            shown = {}
        data = shown.get("data") or {} if isinstance(shown, dict) else {}
        arrival = {
            "received_at": timezone.now().isoformat(timespec="seconds"),
            "verified": payload is not None,
            "webhook_id": request.headers.get("webhook-id", "")[:64],
            "type": str(shown.get("type", ""))[:64] if isinstance(shown, dict) else "",
            "appid": str(data.get("appid", ""))[:64],
            "sequence": data.get("sequence"),
        }
        path = _inbox_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as inbox:
            inbox.write(json.dumps(arrival) + "\n")
        return HttpResponse(status=204 if payload is not None else 400)
    lines = _inbox_file().read_text().splitlines() if _inbox_file().exists() else []
    arrivals = [json.loads(line) for line in reversed(lines[-SHOWN:])]
    return HttpResponse(_PAGE.render({"arrivals": arrivals}))
