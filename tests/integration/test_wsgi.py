"""The WSGI entry point the app servers load (deploy/, bench/): Django's own application,
with what was loaded at start-up kept out of the garbage collector's full collections."""

import gc
import importlib


def test_the_wsgi_module_is_djangos_handler_and_freezes_what_start_up_loaded():
    # given a worker importing the entry point afresh
    gc.unfreeze()
    import masthead.wsgi

    module = importlib.reload(masthead.wsgi)

    # then its application is Django's WSGI handler (no second pipeline) and the objects
    # loaded so far sit in the permanent generation, out of every collection's walk
    from django.core.handlers.wsgi import WSGIHandler

    assert type(module.application) is WSGIHandler
    assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
