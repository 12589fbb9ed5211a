"""The newsroom panel on the admin's dashboard: the stories scheduled to go live, the stories
waiting in review, the stories first published today (the newsroom's day, in
settings.TIME_ZONE), and figures other apps add (masthead.core.dashboard)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.forms import Media
from wagtail import hooks
from wagtail.admin.auth import user_has_any_page_permission
from wagtail.admin.ui.components import Component
from wagtail.models import Revision, WorkflowState, get_default_page_content_type

from masthead.core.dashboard import NEWSROOM_FIGURES, Day, newsroom_today

from .models import ArticlePage

LIST_LIMIT = 10  # rows per list; the figures count them all
STYLESHEET = "masthead/css/admin-newsroom.css"


@dataclass(frozen=True)
class Story:
    page: ArticlePage
    when: datetime  # goes live, entered review, or went live
    note: str = ""  # in review: the task and who submitted it


@dataclass(frozen=True)
class Stories:
    count: int
    rows: list[Story]


def _article_ids(object_ids) -> list[int]:
    # Revisions and workflow states name their object by a text id.
    return [int(pk) for pk in object_ids]


def scheduled_stories(limit: int = LIST_LIMIT) -> Stories:
    """Articles with a revision approved to go live at a set time (Wagtail's "Schedule to
    publish"), soonest first: new stories and scheduled changes to live ones alike."""
    revisions = Revision.objects.filter(
        base_content_type=get_default_page_content_type(),
        content_type=ContentType.objects.get_for_model(ArticlePage),
        approved_go_live_at__isnull=False,
    ).order_by("approved_go_live_at", "pk")
    count = revisions.count()
    shown = list(revisions.values_list("object_id", "approved_go_live_at")[:limit])
    pages = ArticlePage.objects.in_bulk(_article_ids(pk for pk, _ in shown))
    rows = [Story(pages[int(pk)], when) for pk, when in shown if int(pk) in pages]
    return Stories(count, rows)


def stories_in_review(limit: int = LIST_LIMIT) -> Stories:
    """Articles submitted to a workflow whose current task is still open (not sent back
    for changes), longest waiting first."""
    states = (
        WorkflowState.objects.filter(
            base_content_type=get_default_page_content_type(),
            status=WorkflowState.STATUS_IN_PROGRESS,
        )
        .select_related("current_task_state__task", "requested_by")
        .order_by("current_task_state__started_at", "pk")
    )
    states = list(states)
    pages = ArticlePage.objects.in_bulk(_article_ids(s.object_id for s in states))
    rows = []
    for state in states:
        page = pages.get(int(state.object_id))
        if page is None:
            continue  # another page type's review
        current = state.current_task_state
        note = current.task.name if current else ""
        if state.requested_by:
            by = state.requested_by
            note += f", submitted by {by.get_full_name() or by.get_username()}"
        rows.append(Story(page, current.started_at if current else state.created_at, note))
    return Stories(len(rows), rows[:limit])


def published_on(day: Day, limit: int = LIST_LIMIT) -> Stories:
    """Live articles that first went live during `day`, latest first."""
    articles = (
        ArticlePage.objects.live()
        .filter(first_published_at__gte=day.start, first_published_at__lt=day.end)
        .order_by("-first_published_at", "-pk")
    )
    rows = [Story(page, page.first_published_at) for page in articles[:limit]]
    return Stories(articles.count(), rows)


class NewsroomPanel(Component):
    name = "newsroom"
    template_name = "news/admin/newsroom_panel.html"
    order = 50  # above Wagtail's own panels (reviews 210-220, recent edits 250)

    def __init__(self, request):
        self.request = request
        self.day = newsroom_today()
        self.figures = []
        for construct in hooks.get_hooks(NEWSROOM_FIGURES):
            construct(request, self.day, self.figures)

    def render_html(self, parent_context=None):
        if not user_has_any_page_permission(self.request.user):
            return ""
        return super().render_html(parent_context)

    def get_context_data(self, parent_context):
        return {
            "request": self.request,
            "day": self.day,
            "scheduled": scheduled_stories(),
            "in_review": stories_in_review(),
            "published": published_on(self.day),
            "figures": self.figures,
        }

    @property
    def media(self):
        media = Media(css={"all": [STYLESHEET]})
        for figure in self.figures:
            media += figure.media
        return media
