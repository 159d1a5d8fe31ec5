"""Where a webhook may go (SPEC 11): https only, never to a private, loopback, link-local or
unspecified address, checked at registration and again at each delivery, and the connection
goes to the address that was checked, so a name that resolves differently between the check
and the connection (DNS rebinding) cannot point a delivery inside our network.

WEBHOOK_ALLOW_PRIVATE_TARGETS (demo and tests) allows http:// and private and loopback
addresses; link-local (cloud metadata services live there) and unspecified stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL or the address it resolves to is not a place we send webhooks to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (the Host header and TLS server name)
    port: int
    path: str  # with the query
    address: str  # the checked IP the connection goes to


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def url_check(url: object) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, or TargetRefused saying why."""
    if not isinstance(url, str) or not url or len(url) > 500:
        raise TargetRefused("url must be an absolute https URL of at most 500 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("url is not a valid URL") from exc
    schemes = ("https", "http") if allow_private() else ("https",)
    if parts.scheme not in schemes:
        raise TargetRefused("url must start with https://")
    if not parts.hostname or parts.username or parts.password:
        raise TargetRefused("url must name a host (and no user or password)")
    if any(c.isspace() for c in url):
        raise TargetRefused("url must not contain spaces")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def address_refusal(address: IpAddress) -> str | None:
    """Why this address is refused, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_link_local or address.is_multicast:
        return "a link-local, multicast or unspecified address"
    if allow_private():
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private address"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to now (the narrow edge tests replace)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def target_resolve(url: str) -> Target:
    """Check the URL and every address its host resolves to; the first is the one to use.

    All of them are checked, not just the first: a name with one public and one private
    address would otherwise reach the private one on another resolver's order.
    """
    scheme, host, port, path = url_check(url)
    try:
        literal = ipaddress.ip_address(host)
        addresses = [str(literal)]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"the host {host} does not resolve") from exc
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    for raw in addresses:
        reason = address_refusal(ipaddress.ip_address(raw.split("%")[0]))
        if reason:
            raise TargetRefused(f"the host {host} resolves to {reason}")
    return Target(scheme, host, port, path, addresses[0])
