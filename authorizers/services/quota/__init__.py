"""An account's WeChat quota, which is the merchant's money (SPEC section 10).

- readings.py: quota/get readings, clear_quota/v2 resets (10 a month), rid/get;
- stops.py: the local stop after a 45009, checked before every call;
- gauges.py: the per-API quota gauges.
"""
