"""The operators' admin site: Django's, with a dashboard at /admin/dashboard/ linked from the
index. The project makes it the default site (platform_app.admin_config), so every
`@admin.register` lands on it."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.urls import URLPattern, URLResolver, path

from .dashboard import dashboard_view


class OperatorsAdminSite(AdminSite):
    site_header = "WeChat tag service · operators"
    site_title = "WeChat tag service"
    index_title = "Operations"
    index_template = "admin/index_with_dashboard.html"
    # The header's links (Dashboard, Accounts, Merchants, Call log, Conflicts) and the index
    # page cover the app list; without the sidebar a 1280 px screen has room for the columns.
    enable_nav_sidebar = False
    # No public site to view: the merchant-facing pages need an invite link.
    site_url = None

    def get_urls(self) -> list[URLPattern | URLResolver]:
        # Staff-only like every admin page (admin_view); name admin:dashboard.
        dashboard = self.admin_view(lambda request: dashboard_view(request, self))
        return [path("dashboard/", dashboard, name="dashboard"), *super().get_urls()]
