"""The one environment reader all settings modules share.

`make run` writes the demo's environment to var/dev.env (DJANGO_DEBUG=1, the database, the
public URL with its port, the sandbox URLs, the cache directory), so `python manage.py ...` in
a plain shell beside it works on the same demo, as a developer's checkout should. The file
only fills in what the environment leaves unset, and is not read at all once DJANGO_DEBUG is
set: production (the image, k8s, the test suite) chooses DJANGO_DEBUG=0 explicitly and then
sees only its own environment. The image has no var/ (.dockerignore).
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
DEV_ENV_FILE = VAR_DIR / "dev.env"

if "DJANGO_DEBUG" not in os.environ and DEV_ENV_FILE.is_file():
    environ.Env.read_env(DEV_ENV_FILE)  # setdefault: what the environment sets wins

env = environ.Env()
