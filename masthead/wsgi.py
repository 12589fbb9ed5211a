import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings.production")

application = get_wsgi_application()

# Everything loaded so far (Django, Wagtail, the installed apps and their models; the
# URLconf and the templates load on the first request, after this) lives as long as the
# worker: moved out of the collector's reach, a full collection no longer walks it on some
# unlucky reader's request (bench/README.md: the p99 of a new reader).
gc.freeze()
