"""Signal receivers of the accounts app (connected in AuthorizersConfig.ready): like views,
they parse what arrived, call one service or enqueue one task, and return.

`unauthorized` is applied in the receiving request: every call and refresh for the account
must stop at once. `authorized`/`updateauthorized` need api_query_auth, so they go to Celery
a little later: the merchant's browser usually reaches our callback at the same moment with
the same single-use code, and the callback knows the merchant.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from component import signals as component_signals
from component.models import ComponentEvent

from . import signals
from .models import Authorizer
from .selectors.tenant import authorizer_cache_forget
from .services.status import authorizer_apply_unauthorized
from .tasks.sync import authorizer_apply_authorization_code_task, authorizer_sync_info_task

# Head start for the browser callback before the push's own exchange (seconds).
AUTHORIZATION_EVENT_DELAY = 15


def on_authorized(sender: object, *, event_id: int, **kwargs: object) -> None:
    transaction.on_commit(
        lambda: authorizer_apply_authorization_code_task.apply_async(
            args=[event_id], countdown=AUTHORIZATION_EVENT_DELAY
        )
    )


def on_unauthorized(
    sender: object, *, authorizer_appid: str, create_time: datetime | None = None, **kwargs: object
) -> str:
    row = authorizer_apply_unauthorized(appid=authorizer_appid, revoked_at=create_time)
    if row is not None and row.status != Authorizer.Status.REVOKED:
        return ComponentEvent.Status.IGNORED  # older than the authorization it would undo
    return ComponentEvent.Status.APPLIED


def on_granted(sender: object, *, authorizer_id: int, **kwargs: object) -> None:
    transaction.on_commit(lambda: authorizer_sync_info_task.delay(authorizer_id))


def on_authorizer_change(sender: object, instance: Authorizer, **kwargs: object) -> None:
    # Every process that can change a row (web, worker, beat, commands) drops the merchant
    # API's cached copy on save and delete.
    authorizer_cache_forget(appid=instance.appid)


def connect() -> None:
    uid = "authorizers.receivers"
    component_signals.authorized.connect(on_authorized, dispatch_uid=f"{uid}.authorized")
    component_signals.updateauthorized.connect(
        on_authorized, dispatch_uid=f"{uid}.updateauthorized"
    )
    component_signals.unauthorized.connect(on_unauthorized, dispatch_uid=f"{uid}.unauthorized")
    signals.authorizer_granted.connect(on_granted, dispatch_uid=f"{uid}.granted")
    post_save.connect(on_authorizer_change, sender=Authorizer, dispatch_uid=f"{uid}.save")
    post_delete.connect(on_authorizer_change, sender=Authorizer, dispatch_uid=f"{uid}.delete")
