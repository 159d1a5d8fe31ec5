"""Helpers for the admin tests."""


def assert_no_secrets(html: str, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s and s in html]
    assert not leaked, f"secret values rendered: {leaked}"
