"""The tag APIs' requirements, declared here and registered with authorizers in apps.ready()."""

from authorizers.capabilities import Capability

from .client import TAGS_GET, TAGS_GETIDLIST, USER_INFO_BATCHGET

# WeChat API -> permission sets, any one of which allows the call (protocol sections 1.11 and
# 3.2: "2,100", ANY). One row per API; a new API is a new row.
API_PERMISSION_SETS: dict[str, frozenset[int]] = {
    TAGS_GETIDLIST: frozenset({2, 100}),
    TAGS_GET: frozenset({2, 100}),
    USER_INFO_BATCHGET: frozenset({2, 100}),  # bulk lookups (protocol 1.12)
}

USER_TAGS = Capability(
    name="user_tags",
    title="User tags",
    # The lookup needs getidlist (one), batchget (bulk) and tags/get (names): all "2,100".
    permission_sets=frozenset.intersection(*API_PERMISSION_SETS.values()),
    # getidlist: "Service Account, verified only" (SPEC section 5).
    requires_service_account=True,
    requires_verified=True,
    action="look up user tags",
    apis=tuple(API_PERMISSION_SETS),
)
