import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")

application = get_wsgi_application()

from platform_app.production import refuse_insecure_defaults  # noqa: E402

refuse_insecure_defaults()
