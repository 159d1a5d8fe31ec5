"""`python manage.py wechat_sandbox`: run the local WeChat sandbox in the foreground."""

import atexit
import gc
import signal
import time
from argparse import ArgumentParser
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.demo import DEMO_AUTHORIZERS
from sandbox.server import start_sandbox
from sandbox.state import ComponentIdentity

# Flag -> (ComponentIdentity field, the Django setting it defaults from).
IDENTITY_FLAGS = {
    "component_appid": ("appid", "WECHAT_COMPONENT_APPID"),
    "component_secret": ("appsecret", "WECHAT_COMPONENT_APPSECRET"),
    "component_token": ("token", "WECHAT_COMPONENT_TOKEN"),
    "encoding_aes_key": ("encoding_aes_key", "WECHAT_COMPONENT_ENCODING_AES_KEY"),
}


# The command's stop interface: Ctrl-C or SIGTERM (honcho's, a test's, a container's).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The longest a stop signal waits for the main thread to notice it.
STOP_POLL_SECONDS = 0.05


class StopSignals:
    """Records SIGINT/SIGTERM; the main thread polls for them.

    A Python signal handler runs in the main thread between two bytecodes, wherever that thread
    is, including inside a lock it holds. So the handler takes no lock: `threading.Event.set()`
    there deadlocks when the signal lands while the main thread is inside `Event.wait()` holding
    that Event's own lock, and the process never exits. Appending to a list takes none.
    """

    def __init__(self) -> None:
        self.received: list[int] = []

    def install(self) -> None:
        # A mask inherited with these signals blocked would leave them pending forever. Unblock
        # them before the sandbox starts its threads, which inherit the main thread's mask.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        # Never restored: a second signal (Ctrl-C twice, a supervisor's follow-up SIGTERM) while
        # stopping or exiting must not turn the clean exit into a kill or a KeyboardInterrupt.
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._record)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    def wait(self) -> None:
        """Block until a stop signal has arrived (at once if one came during startup)."""
        while not self.received:
            time.sleep(STOP_POLL_SECONDS)


def component_identity(opts: dict[str, object]) -> ComponentIdentity:
    """The flags, else the project's settings (so pushes verify), else the sandbox's demo ones."""
    values: dict[str, str] = {}
    for flag, (field, setting) in IDENTITY_FLAGS.items():
        value = opts.get(flag) or getattr(settings, setting, None)
        if value:
            values[field] = str(value)
    return ComponentIdentity(**values)


def daily_quota(specs: list[str] | None) -> dict[str, int]:
    """`--daily-quota /cgi-bin/tags/getidlist=100` (repeatable) -> {path: limit}."""
    quotas: dict[str, int] = {}
    for spec in specs or []:
        path, sep, limit = spec.partition("=")
        if not sep or not limit.strip().isdigit():
            raise CommandError(f"--daily-quota wants PATH=N, got {spec!r}")
        quotas[path.strip()] = int(limit)
    return quotas


class Command(BaseCommand):
    help = "Run the WeChat sandbox (SPEC section 8) until Ctrl-C or SIGTERM."
    # The sandbox uses nothing of the project: it must start even while the product is broken.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--callback", help="authorization-event receive URL for pushes")
        parser.add_argument("--ticket-interval", type=float, default=600, metavar="SECONDS")
        faults = parser.add_argument_group("fault injection (rates are 0..1)")
        faults.add_argument("--latency-ms", type=float, default=0)
        faults.add_argument("--jitter-ms", type=float, default=0)
        faults.add_argument("--error-rate", type=float, default=0, help="answer -1")
        faults.add_argument("--quota-rate", type=float, default=0, help="answer 45009")
        faults.add_argument("--timeout-rate", type=float, default=0, help="hold the answer")
        faults.add_argument("--timeout-seconds", type=float, default=30)
        faults.add_argument("--reset-rate", type=float, default=0, help="TCP RST, no answer")
        faults.add_argument("--seed", type=int, help="seed for the fault dice")
        world = parser.add_argument_group("world")
        world.add_argument("--token-ttl", type=float, default=7200, metavar="SECONDS")
        world.add_argument(
            "--token-grace", type=float, default=0, metavar="SECONDS",
            help="how long a replaced access token keeps working (default 0: dies at once)",
        )  # fmt: skip
        world.add_argument("--rotate-refresh-token", action="store_true")
        world.add_argument("--refresh-token-grace", type=float, default=300, metavar="SECONDS")
        world.add_argument("--pre-auth-code-ttl", type=float, default=600, metavar="SECONDS")
        world.add_argument("--synthetic-authorizers", type=int, default=0, metavar="N",
                           help="add N authorized synthetic accounts (benchmarks)")  # fmt: skip
        world.add_argument(
            "--daily-quota", action="append", metavar="PATH=N",
            help="an authorizer's daily limit for a cgi path (repeatable), e.g. "
            "/cgi-bin/tags/getidlist=1000",
        )  # fmt: skip
        world.add_argument(
            "--no-interactive-login", dest="interactive_login", action="store_false",
            help="the authorization page consents at once even for a browser",
        )  # fmt: skip
        identity = parser.add_argument_group(
            "component identity (default: the project's WECHAT_COMPONENT_* settings)"
        )
        identity.add_argument("--component-appid")
        identity.add_argument("--component-secret")
        identity.add_argument("--component-token")
        identity.add_argument("--encoding-aes-key")
        parser.add_argument("--verbose-log", action="store_true", help="log every request")

    def handle(self, *args: object, **opts: object) -> None:
        # Before the server exists: a signal during startup then stops it cleanly once it is up,
        # instead of the default action killing a half-started process.
        stop = StopSignals()
        stop.install()
        try:
            component = component_identity(opts)
            quotas = daily_quota(opts.get("daily_quota"))  # type: ignore[arg-type]
            server = start_sandbox(
                str(opts["host"]),
                int(opts["port"]),  # type: ignore[call-overload]
                callback_url=opts["callback"] or None,  # type: ignore[arg-type]
                ticket_interval=opts["ticket_interval"],  # type: ignore[arg-type]
                seed=opts["seed"],  # type: ignore[arg-type]
                verbose=bool(opts["verbose_log"]),
                component=component,
                daily_quota=quotas,
                interactive_login=bool(opts.get("interactive_login", True)),
                token_ttl=opts["token_ttl"],
                token_grace_seconds=opts["token_grace"],
                rotate_refresh_token=bool(opts["rotate_refresh_token"]),
                refresh_token_grace_seconds=opts["refresh_token_grace"],
                pre_auth_code_ttl=opts["pre_auth_code_ttl"],
                latency_ms=opts["latency_ms"],
                jitter_ms=opts["jitter_ms"],
                error_rate=opts["error_rate"],
                quota_rate=opts["quota_rate"],
                timeout_rate=opts["timeout_rate"],
                timeout_seconds=opts["timeout_seconds"],
                reset_rate=opts["reset_rate"],
            )
        except (ValueError, OSError) as exc:
            raise CommandError(f"cannot start the sandbox: {exc}") from exc
        if opts["synthetic_authorizers"]:
            server.state.add_synthetic(int(opts["synthetic_authorizers"]))  # type: ignore[call-overload]

        self.stdout.write(f"WeChat sandbox listening on {server.base_url}")
        self.stdout.write(f"  component appid {component.appid}; demo authorizers:")
        for account in DEMO_AUTHORIZERS.values():
            self.stdout.write(f"    {account.appid}  {account.nick_name}")
        self.stdout.write(
            f"  pushes to {opts['callback'] or '(no callback: pushes are only logged)'}"
        )
        self.stdout.write(f"  control: {server.base_url}/sandbox/  (Ctrl-C to stop)")

        stop.wait()
        server.stop()
        self.stdout.write("WeChat sandbox stopped")
        # The interpreter's teardown garbage-collects the ~95k objects Django and the apps
        # imported: ~0.3 s of CPU after the sandbox has stopped, up to 5 s measured on a loaded
        # machine. They die with the process; frozen, the exit's collections skip them (~8x
        # less CPU). Registered, not called, so only the process's exit is affected.
        atexit.register(gc.freeze)
