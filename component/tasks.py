"""Celery beat keeps the component_access_token fresh, so requests never wait for a fetch."""

import logging

from celery import shared_task

from .services.token import ComponentTicketMissing, component_access_token_refresh_if_expiring

logger = logging.getLogger(__name__)


@shared_task(name="platform_app.component.tasks.component_token_refresh", ignore_result=True)
def component_token_refresh() -> bool:
    """Beat runs this every few minutes; a failed run is simply retried by the next one."""
    try:
        return component_access_token_refresh_if_expiring()
    except ComponentTicketMissing:
        logger.warning("component token not refreshed: no valid component_verify_ticket yet")
        return False
