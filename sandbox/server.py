"""The sandbox's HTTP server: one thread per connection, lifecycle, the in-process test API."""

import contextlib
import logging
import socket
import socketserver
import sys
import threading
from http.server import ThreadingHTTPServer

from .faults import FaultRule, Faults
from .handler import SandboxHandler
from .pusher import Pusher
from .settings import Settings
from .state import ComponentIdentity, World

logger = logging.getLogger(__name__)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # 32+ clients connecting at once must not overflow the backlog

    def __init__(
        self,
        address: tuple[str, int],
        *,
        world: World | None = None,
        callback_url: str | None = None,
        seed: int | None = None,
        verbose: bool = False,
    ) -> None:
        self.state = world or World()
        self.faults = Faults(seed)
        self.pusher = Pusher(self.state, callback_url)
        self.callback_url = callback_url
        self.verbose = verbose
        self.stopping = threading.Event()
        self.internal_errors = 0
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, SandboxHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a broken resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hung up (timeouts, resets) is normal traffic here, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.exception("sandbox error serving %s", client_address)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def track(self, sock: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(sock)

    def start(self) -> "SandboxServer":
        # A ticket exists from the start, pushed or not, so tests can read state.ticket.
        if self.callback_url:
            self.pusher.start_ticket_timer()
        else:
            self.state.issue_ticket()
        # A short poll keeps stop() fast (tests start one sandbox each); idle cost is negligible.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.pusher.stop()
        self.shutdown()
        self.server_close()
        # Idle keep-alive connections would otherwise keep being served by their threads.
        with self._connections_lock:
            for sock in list(self._connections):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread:
            self._thread.join(timeout=5)

    def push(
        self,
        info_type: str,
        authorizer_appid: str | None = None,
        *,
        func_info: list[int] | None = None,
    ) -> dict[str, object]:
        """Push an event now (synchronously) and return its log record."""
        return self.pusher.push(info_type, authorizer_appid, func_info=func_info)

    def set_faults(self, **knobs: object) -> FaultRule:
        """FaultRule knobs; path_prefix and/or count scope the rule, else it replaces the base."""
        return self.faults.configure(knobs)

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def pushes(self) -> list[dict[str, object]]:
        return self.pusher.records()

    def snapshot(self) -> dict[str, object]:
        world = self.state
        with world.lock:
            component = {
                "component_appid": world.component_appid,
                "ticket": world.ticket,
                "component_access_token": world.component_access.current,
                "component_access_token_expires_at": world.component_access.expires_at,
            }
            authorizers = len(world.authorizers)
            consent_appid = world.consent_appid
        return {
            "base_url": self.base_url,
            "callback_url": self.callback_url,
            "now": world.now(),
            "component": component,
            "consent_appid": consent_appid,
            "authorizers": authorizers,
            "counters": world.counters.snapshot(),
            "quotas": world.quotas.snapshot(world.now()),
            "rids": len(world.rids),
            "pushes": self.pushes,
            "settings": world.settings.as_dict(),
            "faults": self.faults.snapshot(),
            "internal_errors": self.internal_errors,
        }


def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    callback_url: str | None = None,
    ticket_interval: float = 600,
    *,
    seed: int | None = None,
    verbose: bool = False,
    component: ComponentIdentity | None = None,
    **knobs: object,
) -> SandboxServer:
    """Start a sandbox in background threads. `knobs` are Settings fields or FaultRule knobs.

    `component` is the platform's identity (appid, secret, token, EncodingAESKey); the demo
    values when None.
    """
    setting_names = set(Settings.__dataclass_fields__)
    settings = Settings(ticket_interval=ticket_interval)
    settings.update({k: v for k, v in knobs.items() if k in setting_names})
    fault_knobs = {k: v for k, v in knobs.items() if k not in setting_names}
    FaultRule.from_dict(fault_knobs)  # refuse a bad knob before binding the port
    server = SandboxServer(
        (host, port),
        world=World(settings, component),
        callback_url=callback_url,
        seed=seed,
        verbose=verbose,
    )
    if fault_knobs:
        server.set_faults(**fault_knobs)
    return server.start()
