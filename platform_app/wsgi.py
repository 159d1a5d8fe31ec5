import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_app.settings")

# django.setup() runs the production guard (PlatformAppConfig.ready).
application = get_wsgi_application()
