"""What the accounts app tells its own receivers about, so services never import tasks.

authorizer_granted(authorizer_id): a grant was stored (sent inside its transaction); the
receiver schedules the info sync for after the commit.
"""

from django.dispatch import Signal

authorizer_granted = Signal()
