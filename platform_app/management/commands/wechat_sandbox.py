"""`python manage.py wechat_sandbox`: run the local WeChat sandbox in the foreground."""

import signal
import threading
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from platform_app.sandbox.demo import COMPONENT_APPID, DEMO_AUTHORIZERS
from platform_app.sandbox.server import start_sandbox


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
        parser.add_argument("--verbose-log", action="store_true", help="log every request")

    def handle(self, *args: object, **opts: object) -> None:
        try:
            server = start_sandbox(
                str(opts["host"]),
                int(opts["port"]),  # type: ignore[call-overload]
                callback_url=opts["callback"] or None,  # type: ignore[arg-type]
                ticket_interval=opts["ticket_interval"],  # type: ignore[arg-type]
                seed=opts["seed"],  # type: ignore[arg-type]
                verbose=bool(opts["verbose_log"]),
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
        self.stdout.write(f"  component appid {COMPONENT_APPID}; demo authorizers:")
        for account in DEMO_AUTHORIZERS.values():
            self.stdout.write(f"    {account.appid}  {account.nick_name}")
        self.stdout.write(
            f"  pushes to {opts['callback'] or '(no callback: pushes are only logged)'}"
        )
        self.stdout.write(f"  control: {server.base_url}/sandbox/  (Ctrl-C to stop)")

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
        server.stop()
        self.stdout.write("WeChat sandbox stopped")
