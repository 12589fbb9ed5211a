"""`check --deploy` names a demo left on a real site: the opt-in itself, and the demo's
accounts, whose password is published in the README."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections, router

from .accounts import find_demo_accounts


@register(Tags.security, deploy=True)
def check_demo_left_on(app_configs, **kwargs):
    if settings.MASTHEAD_DEMO:
        return [
            Warning(
                "MASTHEAD_DEMO is true: the test payment provider, load_demo and the demo's "
                "accounts with their published password are allowed.",
                hint="Unset MASTHEAD_DEMO on a site with real readers.",
                id="masthead.W030",
            )
        ]
    users = get_user_model()
    connection = connections[router.db_for_read(users)]
    try:
        if users._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet: no accounts at all
        found = find_demo_accounts()
    except DatabaseError as error:
        return [
            Warning(
                f"Could not look for the demo's accounts ({type(error).__name__}: {error}).",
                hint="Run `manage.py check --deploy` where the database answers.",
                id="masthead.W032",
            )
        ]
    if not found:
        return []
    return [
        Error(
            f"Demo accounts exist: {', '.join(found)}. load_demo created them with a "
            "published password.",
            hint="Delete them in the admin (Settings > Users), or set MASTHEAD_DEMO=true if "
            "this site is a demo.",
            id="masthead.E031",
        )
    ]
