"""Helpers for the browser tests."""

from __future__ import annotations

from pathlib import Path

OPERATOR = ("operator", "operator-pass-8e1f5b")  # username, password
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def screenshot(page, name: str) -> Path:
    """Saved for people to look at (artifacts/ is not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_secrets(html: str, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s and s in html]
    assert not leaked, f"secret values rendered: {leaked}"
