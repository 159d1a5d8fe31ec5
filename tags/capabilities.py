"""The tag APIs' requirements, declared here and registered with authorizers in apps.ready()."""

from authorizers.capabilities import Capability

from .client import TAGS_GET, TAGS_GETIDLIST

# WeChat API -> permission sets, any one of which allows the call (protocol sections 1.11 and
# 3.2: "2,100", ANY). One row per API; a new API is a new row.
API_PERMISSION_SETS: dict[str, frozenset[int]] = {
    TAGS_GETIDLIST: frozenset({2, 100}),
    TAGS_GET: frozenset({2, 100}),
}

USER_TAGS = Capability(
    name="user_tags",
    title="User tags",
    # The lookup needs getidlist, and tags/get for names; both are "2,100" today.
    permission_sets=API_PERMISSION_SETS[TAGS_GETIDLIST] & API_PERMISSION_SETS[TAGS_GET],
    # getidlist: "Service Account, verified only" (SPEC section 5).
    requires_service_account=True,
    requires_verified=True,
    action="look up user tags",
)
