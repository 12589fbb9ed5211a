from django.contrib import messages
from django.db.models.functions import Lower
from django.template.defaultfilters import pluralize
from django.urls import reverse
from taggit.models import Tag
from wagtail import hooks
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.components import MediaContainer
from wagtail.snippets.models import register_snippet
from wagtail.snippets.side_panels import SnippetStatusSidePanel
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


class TopicOptions:
    """Tag's _meta as the Topics views' templates read it, named as the newsroom names it."""

    verbose_name = "topic"
    verbose_name_plural = "topics"

    def __init__(self, options):
        self._options = options

    def __getattr__(self, name):
        return getattr(self._options, name)


class TopicWords:
    """taggit names its model "tag", and Wagtail's generic views name a model from its _meta
    in their titles, breadcrumbs, messages and usage counts: on the Topics views they say
    topic. (A proxy model named Topic would do it in one place, but would need a migration
    and would move the permissions editors hold, taggit's add/change/delete tag.)"""

    verbose_name = TopicOptions.verbose_name
    verbose_name_plural = TopicOptions.verbose_name_plural

    def get_breadcrumbs_items(self):
        index = reverse(self.index_url_name) if self.index_url_name else None
        return [
            {**item, "label": "Topics"} if index and item.get("url") == index else item
            for item in super().get_breadcrumbs_items()
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "model_opts" in context:
            context["model_opts"] = TopicOptions(context["model_opts"])
        return context


class TopicPaginator(WagtailPaginator):
    """Counts the listing in topics ("12 topics")."""

    verbose_name = TopicOptions.verbose_name
    verbose_name_plural = TopicOptions.verbose_name_plural


class TopicIndexView(TopicWords, snippet_views.IndexView):
    page_title = "Topics"
    add_item_label = "Add topic"
    paginator_class = TopicPaginator

    def order_queryset(self, queryset):
        """By name as readers read it: "apple" between "Ants" and "Bees", not after "Zebra"
        (the database's default collation sorts capitals first)."""
        if self.ordering in ("name", "-name"):
            name = Lower("name")
            if self.ordering == "-name":
                return queryset.order_by(name.desc(), "-pk")
            return queryset.order_by(name, "pk")
        return super().order_queryset(queryset)


class TopicStatusSidePanel(SnippetStatusSidePanel):
    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context["model_name"] = context["base_model_name"] = "Topic"
        return context


class TopicFormWords(TopicWords):
    def get_side_panels(self):
        """Wagtail's side panels of a snippet form, the status panel naming the model topic
        (a tag has no preview, so the status panel is the only one)."""
        status = TopicStatusSidePanel(
            self.form.instance,
            self.request,
            show_schedule_publishing_toggle=False,
            locale=self.locale,
            translations=self.translations,
            usage_url="" if self.usage_url_name else None,
        )
        return MediaContainer([status])


class TopicCreateView(TopicFormWords, snippet_views.CreateView):
    page_subtitle = "Topic"
    error_message = "The topic could not be added: see the errors below."

    def get_success_message(self, instance=None):
        return f"Topic “{instance or self.object}” added."


class TopicEditView(TopicFormWords, snippet_views.EditView):
    error_message = "The topic could not be saved: see the errors below."

    def get_success_message(self, instance=None):
        return f"Topic “{instance or self.object}” saved."


class TopicDeleteView(TopicWords, snippet_views.DeleteView):
    success_message = "Topic “%(object)s” deleted."

    @property
    def confirmation_message(self):
        return "Are you sure you want to delete this topic? Articles tagged with it lose it."


class TopicUsageView(TopicWords, snippet_views.UsageView):
    pass


class TopicHistoryView(TopicWords, snippet_views.HistoryView):
    pass


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
    ordering = "name"  # A to Z whatever the case: TopicIndexView.order_queryset
    panels = [
        FieldPanel("name", heading="Topic", help_text="As readers see it, e.g. South Korea."),
        FieldPanel(
            "slug", help_text="The topic's address: /topics/<slug>/. Letters, digits and -."
        ),
    ]
    index_view_class = TopicIndexView
    add_view_class = TopicCreateView
    edit_view_class = TopicEditView
    delete_view_class = TopicDeleteView
    usage_view_class = TopicUsageView
    history_view_class = TopicHistoryView


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
