from .env import VAR_DIR, env

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default keeps PostgreSQL's promises (SPEC section 9). SQLite has no row
    # locks and select_for_update() is a no-op there, so the database-wide write lock stands
    # in for them:
    # - BEGIN IMMEDIATE: every transaction.atomic() takes the write lock when it starts, not
    #   at its first write. The component token fetch reads the row, calls WeChat and writes
    #   inside one atomic block, so this makes it single-flight across processes, as FOR
    #   UPDATE does on PostgreSQL. (The authorizer token refresh holds a per-authorizer lease
    #   around its call instead and this lock only for its write: authorizers/services/
    #   refresh_lease.py.) With the default DEFERRED
    #   transactions, readers that later try to write fail at once with "database is locked"
    #   (SQLite does not wait on a lock upgrade that would deadlock) after having called
    #   WeChat, and the refresh tokens WeChat returned to them are lost.
    # - WAL: readers neither block the writer nor wait for it, so reads outside atomic
    #   blocks (the request path's token check, pages, the admin) go on during a refresh.
    #   The mode is stored in the file; setting it again on each connection is a no-op.
    # - synchronous=FULL (WAL's fsync at every commit): a committed refresh token survives
    #   a power cut, not only a crashed process; NORMAL could lose the last commits and with
    #   them a rotated refresh token, the one thing only a re-authorization brings back.
    # - timeout (SQLite's busy timeout, seconds): how long BEGIN IMMEDIATE and writes outside
    #   atomic (autocommit saves, the call log) wait for the lock. The same bound as
    #   PostgreSQL's lock_timeout on the refresh lock; past it the wait raises
    #   OperationalError "database is locked", which core.db_locks.is_lock_timeout
    #   recognises as a retryable lock timeout.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("transaction_mode", "IMMEDIATE")
    options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
    options.setdefault("timeout", env.float("AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS", default=20))
    # Opening a local file is cheap: one connection per request, none left idle.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Lets concurrent test runs on one server use separate test databases.
if env.str("TEST_DATABASE_NAME", default=""):
    _test_name = env.str("TEST_DATABASE_NAME")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # a file: under var/, not the cwd
        _test_name = str(VAR_DIR / f"{_test_name}.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": _test_name}
