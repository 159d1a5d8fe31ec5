from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Merchant webhooks"

    def ready(self) -> None:
        from django.urls import reverse

        from authorizers.operators_site.dashboard import DashboardLine, dashboard_line_register

        from . import receivers
        from .selectors import webhook_endpoints_failing_count

        receivers.connect()

        def failing() -> tuple[str, bool, str]:
            count = webhook_endpoints_failing_count()
            url = reverse("admin:webhooks_webhookdelivery_changelist") + "?status__exact=pending"
            return f"{count} endpoint(s) failing now (deliveries waiting to retry)", not count, url

        dashboard_line_register(
            DashboardLine("Merchant webhooks", "webhooks.view_webhookdelivery", failing)
        )
