"""The loan log: one TokenLoan row per loan or report (client, account, outcome, time), written
by the call log's buffered writer (no SQL on a warm loan's own path), and the counter."""

from __future__ import annotations

from core.metrics import TOKEN_CENTER_REQUESTS
from merchant_api.call_log import log_row_add

from .models import TokenLoan


def token_loan_record(
    *,
    client_id: int,
    kind: str,
    appid: str,
    authorizer_id: int | None,
    outcome: str,
    status_code: int,
) -> None:
    TOKEN_CENTER_REQUESTS.labels(kind, outcome).inc()
    log_row_add(
        TokenLoan(
            client_id=client_id,
            kind=kind,
            authorizer_appid=appid[:64].replace("\x00", "\ufffd"),
            authorizer_id=authorizer_id,
            outcome=outcome[:40],
            status_code=status_code,
        )
    )
