import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")

# django.setup() runs the production guard (PlatformAppConfig.ready).
_django = get_wsgi_application()

from platform_app.ops.lean_lane import lean_lane  # noqa: E402  (needs the apps loaded)

# Warm lookups are answered before Django's request cycle; everything else goes through it.
application = lean_lane(_django)
