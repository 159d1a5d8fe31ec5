"""SPEC section 9: one module owns every write of an authorizer's token state.

Reads the product's source (not the running code): an assignment to a token-state field, or a
keyword setting one in a query (`.update(status=...)`, `Authorizer(refresh_token=...)`), is
allowed only in authorizers/services/tokens/state.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OWNER = ROOT / "authorizers" / "services" / "tokens" / "state.py"
TOKEN_STATE = frozenset(
    {
        "access_token",
        "access_token_expires_at",
        "token_version",
        "refresh_token",
        "status",
        "permission_sets",
        "authorized_at",
        "revoked_at",
        "state_version",
    }
)
# The component (component/) keeps its own access token and is not scanned.
SCANNED = ("authorizers", "tags", "merchant_api", "platform_app", "core/management")
# Fields of the same names on other objects: API errors have an HTTP status, API keys a
# revoked_at.
NOT_AUTHORIZER = {
    ROOT / "merchant_api" / "errors.py",
    ROOT / "authorizers" / "services" / "api_keys.py",
}
# Re-encrypts stored values under the newest key; the plaintext (the state) is unchanged.
KEY_ROTATION = ROOT / "core" / "management" / "commands" / "rotate_field_keys.py"
_QUERY_CALLS = {"update", "create", "get_or_create", "update_or_create", "Authorizer"}


def token_state_writes(source: str) -> list[tuple[int, str]]:
    """(line, field) for each write of a token-state field in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if (
                    isinstance(leaf, ast.Attribute)
                    and leaf.attr in TOKEN_STATE
                    and not (isinstance(leaf.value, ast.Name) and leaf.value.id == "self")
                ):
                    found.append((leaf.lineno, leaf.attr))
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _QUERY_CALLS:
                found += [(node.lineno, k.arg) for k in node.keywords if k.arg in TOKEN_STATE]
    return found


def _product_modules() -> list[Path]:
    paths = []
    for package in SCANNED:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path in (OWNER, KEY_ROTATION):
                continue
            if path not in NOT_AUTHORIZER:
                paths.append(path)
    return sorted(paths)


def test_only_token_state_writes_token_state() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} writes {field}"
        for path in _product_modules()
        for line, field in token_state_writes(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "source",
    [
        "row.refresh_token = answer['authorizer_refresh_token']",
        "authorizer.status = 'active'",
        "row.token_version += 1",
        "Authorizer.objects.filter(pk=1).update(status='revoked')",
        "Authorizer(appid='wx1', refresh_token='x')",
    ],
)
def test_the_audit_sees_a_write(source: str) -> None:
    assert token_state_writes(source)


def test_the_audit_ignores_reads_and_other_objects() -> None:
    assert not token_state_writes("token = row.refresh_token\nself.status = 404\nx = a.status")
