#!/bin/sh
# Container entry point. The first argument names the process; anything else runs as given.
#   web (default)     gunicorn with deploy/gunicorn.conf.py
#   worker [ARGS]     a Celery worker (scale these horizontally)
#   beat [ARGS]       Celery beat: run exactly ONE per deployment
#   migrate           database migrations, only when asked (a one-shot job before a rollout)
#   manage ARGS       any manage.py command, e.g. `manage createsuperuser`
set -eu

APP_DIR=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
LOG_LEVEL=${LOG_LEVEL:-INFO}

command=${1:-web}
[ "$#" -gt 0 ] && shift

case "$command" in
  web)
    exec gunicorn --config "$APP_DIR/deploy/gunicorn.conf.py" platform_app.wsgi:application "$@"
    ;;
  worker)
    exec celery -A platform_app worker --loglevel "$LOG_LEVEL" "$@"
    ;;
  beat)
    # The schedule file must be writable: /tmp is the only writable place in the image.
    exec celery -A platform_app beat --loglevel "$LOG_LEVEL" --schedule /tmp/celerybeat-schedule "$@"
    ;;
  migrate)
    exec python "$APP_DIR/manage.py" migrate --noinput "$@"
    ;;
  manage)
    exec python "$APP_DIR/manage.py" "$@"
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
