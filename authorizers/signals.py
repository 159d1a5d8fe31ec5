"""What the accounts app tells its own receivers about, so services never import tasks.

authorizer_granted(authorizer_id): a grant was stored (sent inside its transaction); the
receiver schedules the info sync for after the commit.
"""

from django.dispatch import Signal

authorizer_granted = Signal()

# account_event_recorded(event_id): an AccountEvent row was written (inside the change's
# transaction). Apps above subscribe (webhooks/ fans it out after the commit); nothing here
# knows who listens.
account_event_recorded = Signal()
