"""/api/docs/ as a merchant's developer reads it: Swagger UI renders each description as
Markdown, so text that survives in the JSON schema can still vanish on the page."""

from __future__ import annotations

import json

SINGLE_LOOKUP = "/api/v1/authorizers/{appid}/users/{openid}/tags"


def _response_row(page, code: int):
    return page.locator(f"tr.response[data-code='{code}']").first


def _example_body(row) -> dict:
    return json.loads(row.locator(".example, .microlight").first.inner_text())


def test_error_texts_and_examples_read_as_written(new_page):
    page = new_page()
    page.goto("/api/docs/")
    operation = page.locator(f".opblock-get:has([data-path='{SINGLE_LOOKUP}'])")
    operation.locator(".opblock-summary").first.click()

    unauthenticated = _response_row(page, 401)
    description = unauthenticated.locator(".response-col_description").first.inner_text()
    assert "send 'Authorization: Bearer <api key>'." in description
    assert _example_body(unauthenticated)["error"]["code"] == "unauthenticated"
    assert _example_body(_response_row(page, 429))["error"]["code"] == "rate_limited"
