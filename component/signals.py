"""Applied authorization events, for apps to subscribe to: the receiver imports no app.

Each signal is sent inside the transaction that marks its ComponentEvent applied, so a
receiver's database writes commit or roll back with the event; a receiver that raises makes
the event "failed" (and a replay of the push retries it). Receivers must stay cheap: heavy
work goes to Celery through `transaction.on_commit`.

Keyword arguments, all signals:
    event_id          ComponentEvent primary key
    authorizer_appid  the Official Account's appid
    create_time       aware datetime of WeChat's CreateTime
A receiver returns ComponentEvent.Status.IGNORED ("ignored") when it recorded the event but
did not apply it (an `unauthorized` older than the authorization it would undo).
`authorized` and `updateauthorized` carry no authorization code: it is stored encrypted on
the event; read it with `services.events.component_event_authorization_code_get(event_id=)`.
"""

from django.dispatch import Signal

authorized = Signal()
updateauthorized = Signal()
unauthorized = Signal()

BY_INFO_TYPE: dict[str, Signal] = {
    "authorized": authorized,
    "updateauthorized": updateauthorized,
    "unauthorized": unauthorized,
}
