"""The operators' admin: registrations on Django's default site, plus /admin/dashboard/."""

from django.contrib import admin

from . import api_call, api_key, authorizer, merchant, ownership_conflict
from .dashboard import install_dashboard

__all__ = ["api_call", "api_key", "authorizer", "merchant", "ownership_conflict"]

admin.site.site_header = "WeChat tag service · operators"
admin.site.site_title = "WeChat tag service"
admin.site.index_title = "Operations"
# The header's links (Dashboard, Accounts, Merchants, Call log, Conflicts) and the index page
# cover the app list; without the sidebar a 1280 px screen has room for the lists' columns.
admin.site.enable_nav_sidebar = False
# No public site to view: the merchant-facing pages need an invite link.
admin.site.site_url = None
install_dashboard(admin.site)
