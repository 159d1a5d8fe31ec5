"""Scratch PostgreSQL databases for the benchmarks, on the server of DATABASE_URL."""

from __future__ import annotations

import os
import re
import sys


def server_conninfo(config: dict) -> dict:
    """psycopg keyword arguments for the server's maintenance database, from Django's
    database settings (or django-environ's parse of a URL, which has the same keys)."""
    return {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }


def scratch_database_url(name: str, *, fresh: bool) -> str:
    """DATABASE_URL pointed at database `name`; `fresh` drops it first, else it is reused."""
    import environ
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/test")
    if not base.startswith("postgres"):
        sys.exit(f"the {name} benchmark needs PostgreSQL (DATABASE_URL)")
    with psycopg.connect(**server_conninfo(environ.Env.db_url_config(base))) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", base)
