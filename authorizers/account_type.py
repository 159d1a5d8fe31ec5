"""What WeChat told us about an account's verification, in one place.

verify_type_info.id is -1 for an account that never completed WeChat verification and
another id (0 to 5: the verification channel) for one that did; null until the info sync
ran. The Python predicate and the SQL filter below are the only definitions of "verified":
the capability check, the onboarding page, the admin, the API and the dashboard counts all
use them, so an account cannot be verified on one page and not on another.
"""

from __future__ import annotations

from django.db.models import Q

from .models import Authorizer

NOT_VERIFIED = -1

# The database's form of authorizer_verified(...) is True, for filters and counts.
VERIFIED_Q = Q(verify_type__isnull=False) & ~Q(verify_type=NOT_VERIFIED)


def authorizer_verified(authorizer: Authorizer) -> bool | None:
    """True or False once WeChat told us; None before the info sync (we do not know yet)."""
    if authorizer.verify_type is None:
        return None
    return authorizer.verify_type != NOT_VERIFIED


def authorizer_is_verified(authorizer: Authorizer) -> bool:
    """Verified as far as we know: an account whose verification we have not heard of is not."""
    return authorizer_verified(authorizer) is True
