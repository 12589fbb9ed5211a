"""The mail queue in the admin (Settings → Mail queue): every queued message, one row per
attempt, filterable by status. Failed is final (the last attempt, or an address the mail
server refused for good) and shows the error; see masthead.core.tasks and
docs/production.md. Read-only: the worker alone changes these rows."""

from django_tasks_db.models import DBTaskResult, get_date_max
from wagtail.admin.ui.tables import Column
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .permissions import ViewOnlyPermissionPolicy
from .tasks import MAIL_BACKEND

register_permission_policy(DBTaskResult, ViewOnlyPermissionPolicy(DBTaskResult))


def _argument(name, default=""):
    return lambda row: (row.args_kwargs or {}).get("kwargs", {}).get(name, default)


def _run_after(row):
    return None if row.run_after == get_date_max() else row.run_after


class MailQueueViewSet(SnippetViewSet):
    model = DBTaskResult
    icon = "mail"
    menu_label = "Mail queue"
    menu_name = "mail-queue"
    add_to_settings_menu = True
    add_to_reference_index = False  # rows hold no references, and one is written per e-mail
    inspect_view_enabled = True
    list_filter = ["status"]
    list_display = [
        Column("to", label="To", accessor=lambda row: _argument("to")(row) or "(blank)"),
        Column("subject", label="Subject", accessor=_argument("subject")),
        Column("attempt", label="Attempt", accessor=_argument("attempt", 1)),
        "status",
        Column("run_after", label="Not before", accessor=_run_after),
        "enqueued_at",
        "finished_at",
    ]
    inspect_view_fields = [
        "status",
        "enqueued_at",
        "started_at",
        "finished_at",
        "args_kwargs",
        "return_value",
        "exception_class_path",
        "traceback",
    ]

    def get_queryset(self, request):
        return DBTaskResult.objects.filter(backend_name=MAIL_BACKEND).order_by("-enqueued_at")


register_snippet(MailQueueViewSet)
