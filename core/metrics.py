"""Prometheus metrics shared by the web, worker and beat processes."""

from prometheus_client import Counter, Gauge, Histogram

WECHAT_CALLS = Counter(
    "wechat_calls_total", "WeChat API calls by endpoint and errcode", ["endpoint", "errcode"]
)
WECHAT_LATENCY = Histogram(
    "wechat_call_seconds",
    "WeChat API call latency (one attempt)",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TOKEN_REFRESHES = Counter(
    "authorizer_token_refreshes_total", "authorizer_access_token refreshes by result", ["result"]
)
TOKEN_EXPIRY_HORIZON = Gauge(
    "authorizer_token_expiry_horizon_seconds",
    "Seconds until the earliest authorizer_access_token of an active authorizer expires",
    multiprocess_mode="livemostrecent",
)
# Per API, never per account (there may be a million): how many accounts WeChat stopped, and
# how many were above 80% of their daily quota at their last reading.
QUOTA_STOPPED_ACCOUNTS = Gauge(
    "wechat_quota_stopped_accounts",
    "Accounts whose daily WeChat quota for an API is used up (45009), refused locally",
    ["api"],
    multiprocess_mode="livemostrecent",
)
QUOTA_ACCOUNTS_ABOVE_80 = Gauge(
    "wechat_quota_accounts_above_80_percent",
    "Accounts above 80% of an API's daily WeChat quota at their last reading",
    ["api"],
    multiprocess_mode="livemostrecent",
)
AUTHORIZERS_NEEDING_REAUTH = Gauge(
    "authorizers_needing_reauthorization",
    "Authorizers whose refresh token WeChat rejected",
    multiprocess_mode="livemostrecent",
)
HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests by route and status", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Per event type and outcome, never per merchant or endpoint.
WEBHOOK_DELIVERIES = Counter(
    "webhook_delivery_attempts_total",
    "Webhook delivery attempts by event type and outcome",
    ["event_type", "outcome"],
)

# The token center (SPEC 12): loans and reports by kind and outcome, never per account or
# per client (outcome is a closed set: the loan's outcomes and the API's error codes).
TOKEN_CENTER_REQUESTS = Counter(
    "token_center_requests_total",
    "Token center loans and reports of refused tokens, by kind and outcome",
    ["kind", "outcome"],
)
