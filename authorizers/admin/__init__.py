"""The operators' admin: registrations on Django's default site, plus /admin/dashboard/."""

from django.contrib import admin

from . import api_call, api_key, authorizer, merchant, ownership_conflict
from .dashboard import install_dashboard

__all__ = ["api_call", "api_key", "authorizer", "merchant", "ownership_conflict"]

admin.site.site_header = "WeChat tag service · operators"
admin.site.site_title = "WeChat tag service"
admin.site.index_title = "Operations"
install_dashboard(admin.site)
