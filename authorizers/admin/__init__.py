"""The operators' admin: each model's page registers on the default site (site.py)."""

from . import api_call, api_key, authorizer, merchant, ownership_conflict

__all__ = ["api_call", "api_key", "authorizer", "merchant", "ownership_conflict"]
