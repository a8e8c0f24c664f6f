import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if settings.KAIROS_OTLP_ENDPOINT:
    # Before the application is made: the instrumentation adds a middleware.
    from config.tracing import tracing_setup

    tracing_setup(service_name="kairos-web")

application = get_wsgi_application()
