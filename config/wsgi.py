import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

if settings.KAIROS_OTLP_ENDPOINT:
    # Before the application is made: the instrumentation adds a middleware.
    from config.tracing import tracing_setup

    tracing_setup(service_name="kairos-web")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, URLs, the schema's classes) lives as long as
# the process: frozen out of the garbage collector's walks, a full collection (every
# dozen requests or so: a page's model instances point at each other, so only a
# collection frees them) walks what requests made, not these too. bench/README.md (P5)
# has the figures. Collected first, so that no garbage is frozen with it.
gc.collect()
gc.freeze()

# A young collection every 50,000 new objects rather than 700: a request's objects
# (about 5,000 at a page of the posts API) then mostly die in the young generation,
# freed by reference counting or by the next young collection, instead of being
# promoted by the dozens of collections a request would run while they are still in
# use and piling up for a full collection. bench/README.md (P5) has the figures.
gc.set_threshold(50_000, 20, 10)
