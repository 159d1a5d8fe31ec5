"""Celery tasks for the account's info and for codes pushed by WeChat: thin, taking ids."""

from celery import shared_task

from authorizers.services.onboarding.pushes import authorizer_apply_authorization_event
from component.services.token import ComponentTicketMissing
from wechat.errors import retry_later_types

from ..services.sync import authorizer_sync_info

__all__ = ["authorizer_apply_authorization_code_task", "authorizer_sync_info_task"]

# Worth another try later: what wechat.errors.RETRY says, or no ticket pushed yet.
RETRYABLE = (*retry_later_types(), ComponentTicketMissing)
RETRY_POLICY = {
    "autoretry_for": RETRYABLE,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "ignore_result": True,
}


# Names pinned: messages already queued must still route when a module moves.
@shared_task(name="authorizers.tasks.sync.authorizer_sync_info_task", **RETRY_POLICY)
def authorizer_sync_info_task(authorizer_id: int) -> None:
    authorizer_sync_info(authorizer_id=authorizer_id)


@shared_task(name="authorizers.tasks.sync.authorizer_apply_authorization_code_task", **RETRY_POLICY)
def authorizer_apply_authorization_code_task(event_id: int) -> str:
    return authorizer_apply_authorization_event(event_id=event_id)
