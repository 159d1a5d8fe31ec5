import pytest


@pytest.fixture(autouse=True)
def _api_call_log_in_request(settings):
    """Write API call rows in the request: no background writer outliving the test's data."""
    settings.API_CALL_LOG_FLUSH_SECONDS = 0
