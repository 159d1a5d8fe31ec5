from .api_call import ApiCall
from .api_key import ApiKey
from .authorizer import Authorizer
from .events import AccountEvent
from .merchant import Merchant
from .onboarding import AuthorizationAttempt, OwnershipConflict, RefreshIntent
from .quota import QuotaReading

__all__ = [
    "AccountEvent",
    "ApiCall",
    "ApiKey",
    "AuthorizationAttempt",
    "Authorizer",
    "Merchant",
    "OwnershipConflict",
    "QuotaReading",
    "RefreshIntent",
]
