"""POST /wechat/component/events/: WeChat's "authorization event receive URL" (SPEC 4.1)."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wechat.crypto import MAX_BODY_LEN

from .services.events import PushRejected, component_push_receive

logger = logging.getLogger(__name__)


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # WeChat signs the push; there is no browser session to protect
@require_POST
def component_events(request: HttpRequest) -> HttpResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _text("bad request", 400)
    if declared > MAX_BODY_LEN:
        return _text("payload too large", 413)
    encrypt_type = request.GET.get("encrypt_type")
    if encrypt_type not in (None, "aes"):
        return _text("bad request", 400)
    try:
        body = request.body
    except RequestDataTooBig:
        return _text("payload too large", 413)
    try:
        event = component_push_receive(
            body=body,
            msg_signature=request.GET.get("msg_signature", ""),
            timestamp=request.GET.get("timestamp", ""),
            nonce=request.GET.get("nonce", ""),
        )
    except PushRejected as exc:
        logger.warning("component push rejected: %s", exc.reason)
        return _text("forbidden", 403) if exc.forbidden else _text("bad request", 400)
    logger.info("component push %s: event %s %s", event.info_type, event.pk, event.status)
    # WeChat wants the literal "success" once the event is recorded, whatever applying did.
    return _text("success")
