from .api_call import ApiCall
from .api_key import ApiKey
from .authorizer import Authorizer
from .merchant import Merchant

__all__ = ["ApiCall", "ApiKey", "Authorizer", "Merchant"]
