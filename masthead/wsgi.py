import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings.production")

_django = get_wsgi_application()

# Imported once Django is set up: it reads the settings and the URLconf.
from masthead.news.fast_lane import FastLane  # noqa: E402

application = FastLane(_django)
