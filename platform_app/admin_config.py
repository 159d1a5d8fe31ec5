from django.contrib.admin.apps import AdminConfig


class OperatorsAdminConfig(AdminConfig):
    """Django's admin with the operators' site (and its dashboard) as the default site."""

    default_site = "authorizers.operators_site.site.OperatorsAdminSite"
