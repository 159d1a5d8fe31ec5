from tests.api.support import (  # noqa: F401
    _call_log_in_request,
    coffee,
    onboard,
    other_tenant,
    tenant,
)
