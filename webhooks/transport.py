"""One webhook POST: to the checked address, with the URL's host as Host header and TLS server
name (certificate checked against it), 10 s timeout, no redirects, at most 64 KB read back."""

from __future__ import annotations

from dataclasses import dataclass

import urllib3

from .targets import Target

TIMEOUT_SECONDS = 10.0
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (connection refused, timeout, TLS failure)
    retry_after: str | None = None
    error: str = ""


def webhook_post(target: Target, *, body: bytes, headers: dict[str, str]) -> Answer:
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and target.port != default_port:
        host_header = f"[{target.host}]:{target.port}"
    timeout = urllib3.Timeout(total=TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            maxsize=1,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, maxsize=1, timeout=timeout, retries=False
        )
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            response.read(MAX_ANSWER_BYTES)  # read (a little) so the receiver is not cut off
        except (urllib3.exceptions.HTTPError, OSError):
            pass  # the status line already says what we need
        finally:
            response.close()
        return Answer(response.status, response.headers.get("Retry-After"))
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, error=type(exc).__name__)
    except OSError as exc:
        return Answer(None, error=type(exc).__name__)
    finally:
        pool.close()
