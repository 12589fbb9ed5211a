from django.contrib import messages
from django.template.defaultfilters import pluralize
from taggit.models import Tag
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet

from masthead.access.teaser import MIN_PARAGRAPHS, PARAGRAPH, too_short

from .dashboard import NewsroomPanel
from .models import Access, ArticlePage, Author, Sponsor


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    list_display = ["name", "role"]
    search_fields = ["name"]


class SponsorViewSet(SnippetViewSet):
    model = Sponsor
    icon = "tag"
    list_display = ["name"]


class TopicIndexView(snippet_views.IndexView):
    """taggit names its model "tag"; the newsroom calls them topics."""

    page_title = "Topics"
    add_item_label = "Add topic"


class TopicViewSet(SnippetViewSet):
    """Topics are taggit's tags (ArticlePage.topics): editors tag articles with them in the
    page editor and, here, rename them, fix their slugs (the /topics/<slug>/ address) or
    add new ones. Saving one renders every page again (news.apps watches Tag). Wagtail has
    no tag admin of its own; the permissions are taggit's (add/change/delete tag)."""

    model = Tag
    icon = "tag"
    menu_label = "Topics"
    add_to_admin_menu = True
    menu_order = 250
    list_display = ["name", "slug"]
    search_fields = ["name"]
    ordering = ["name"]
    panels = [FieldPanel("name"), FieldPanel("slug")]
    index_view_class = TopicIndexView


register_snippet(AuthorViewSet)
register_snippet(SponsorViewSet)
register_snippet(TopicViewSet)


@hooks.register("after_create_page")
@hooks.register("after_edit_page")
def warn_when_too_short_for_a_teaser(request, page):
    """A warning, not a refusal: a short paywalled piece (a brief, a photo story) may be
    intended, but the editor should know that readers without access see none of its text."""
    if not isinstance(page, ArticlePage) or page.access == Access.FREE:
        return
    paragraphs = [piece.kind for piece in page.body_pieces()].count(PARAGRAPH)
    if too_short(paragraphs):
        messages.warning(
            request,
            f"“{page.title}” has {paragraphs} paragraph{pluralize(paragraphs)} of text: readers "
            f"without access will see none of it, only the headline and the paywall. A "
            f"paywalled article needs at least {MIN_PARAGRAPHS} paragraphs to show a teaser "
            f"(the teaser is never more than half of them); or make it free.",
        )


@hooks.register("construct_homepage_panels")
def newsroom_panel(request, panels):
    panels.append(NewsroomPanel(request))
