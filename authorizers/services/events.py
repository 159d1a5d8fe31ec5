"""The outbox of account changes (SPEC 11): one row per event, in the change's transaction."""

from __future__ import annotations

from typing import Any

from django.db.models import Max

from authorizers import signals
from authorizers.capabilities import capabilities_evaluate
from authorizers.models import AccountEvent, Authorizer


def account_event_record(
    row: Authorizer,
    *,
    type: str,
    merchant_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> AccountEvent:
    """Write one event about `row` as it is now (call inside the transaction holding its lock).

    `merchant_id`: whom it is addressed to; the row's owner unless given (the old owner of a
    moved account). The row lock makes max(sequence) + 1 safe: no other writer of this
    account's events runs meanwhile.
    """
    last = AccountEvent.objects.filter(authorizer_id=row.pk).aggregate(m=Max("sequence"))["m"]
    sequence = (last or 0) + 1
    data: dict[str, Any] = {
        "appid": row.appid,
        "status": row.status,
        "capabilities": {
            name: {"usable": status.usable, "reason": status.reason}
            for name, status in capabilities_evaluate(row).items()
        },
        "permission_sets": sorted(row.permission_sets or []),
        "sequence": sequence,
        **(extra or {}),
    }
    if type == AccountEvent.Type.REMOVED:
        # The account is another merchant's now: its state is none of this one's business.
        data = {"appid": row.appid, "status": "removed", "capabilities": {}, "sequence": sequence}
    event = AccountEvent.objects.create(
        authorizer_id=row.pk,
        merchant_id=merchant_id if merchant_id is not None else row.merchant_id,
        type=type,
        sequence=sequence,
        data=data,
    )
    signals.account_event_recorded.send(sender=AccountEvent, event_id=event.pk)
    return event


def account_owner_changed(row: Authorizer, *, old_merchant_id: int | None) -> None:
    """The account became row.merchant's: `removed` to the old owner, `connected` to the new."""
    if old_merchant_id is not None and old_merchant_id != row.merchant_id:
        account_event_record(row, type=AccountEvent.Type.REMOVED, merchant_id=old_merchant_id)
    account_event_record(row, type=AccountEvent.Type.CONNECTED)
