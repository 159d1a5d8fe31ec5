from .api_call import ApiCall
from .api_key import ApiKey
from .authorizer import Authorizer
from .merchant import Merchant
from .onboarding import AuthorizationAttempt, OwnershipConflict, RefreshIntent

__all__ = [
    "ApiCall",
    "ApiKey",
    "AuthorizationAttempt",
    "Authorizer",
    "Merchant",
    "OwnershipConflict",
    "RefreshIntent",
]
