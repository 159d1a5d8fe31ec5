"""Print the environment the test suite runs with, after checking its services.

PostgreSQL and Redis are used when reachable. Under CI=true a missing service is a failure
that names the service; elsewhere the suite falls back to SQLite and local memory, loudly.
"""

import os
import socket
import sys

SERVICES = {
    "PostgreSQL": ("127.0.0.1", 5432),
    "Redis": ("127.0.0.1", 6379),
}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    missing = [name for name, addr in SERVICES.items() if not reachable(*addr)]
    if missing and os.environ.get("CI") == "true":
        for name in missing:
            host, port = SERVICES[name]
            print(
                f"{name} is not reachable on {host}:{port}; the test suite needs it under CI "
                f"(start it: see README 'Tests').",
                file=sys.stderr,
            )
        return 1
    for name in missing:
        print(
            f"WARNING: {name} unreachable; tests fall back and skip what needs it", file=sys.stderr
        )
    # Fixed test secrets: tests must not run on the development defaults they guard against.
    env = {
        "DJANGO_SECRET_KEY": "test-secret-key-not-for-production-4c1d9e",
        "FIELD_ENCRYPTION_KEYS": "dGVzdC1maWVsZC1rZXktMDAwMDAwMDAwMDAwMDAwMDA=,"
        "dGVzdC1maWVsZC1rZXktMTExMTExMTExMTExMTExMTE=",
        # The suite runs as production, chosen explicitly (so a checkout's var/dev.env from
        # `make run` is not read), against the sandbox, which knows only the demo WeChat
        # credentials: the production guard refuses them without the second line.
        "DJANGO_DEBUG": "0",
        "ALLOW_DEMO_WECHAT_CREDENTIALS": "1",
    }
    if "PostgreSQL" not in missing:
        env["DATABASE_URL"] = os.environ.get(
            "TEST_DATABASE_URL", "postgres://root@127.0.0.1:5432/test"
        )
    else:
        env["DATABASE_URL"] = "sqlite:///var/test.sqlite3"
        env["ALLOW_SQLITE_IN_PRODUCTION"] = "1"
    if "Redis" not in missing:
        db = os.environ.get("TEST_REDIS_DB", "1")
        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{db}"
        env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{int(db) + 1}"
    for key, value in env.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
