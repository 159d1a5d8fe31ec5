"""How an account's authorizer_access_token is kept: everything about it is in this folder.

- refresh.py: the token on the request path, and the single-flight refresh (row lock,
  RefreshIntent, commit retry);
- exchange.py: one api_authorizer_token call for a locked row, and what a refusal does;
- state.py: the one writer of token state (compare-and-set on state_version);
- call.py: RequestToken and authorizer_call, the rule for calling WeChat with the token
  (quota stop, refresh once and retry once);
- sweep.py: what the beat sweep finds due and the bounded pool that refreshes it;
- errors.py: refresh results and errors; gauges.py: the token gauges' one writer.
"""
