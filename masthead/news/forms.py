from django.conf import settings
from django.urls import get_resolver
from django.utils.text import slugify
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.widgets import AdminTagWidget
from wagtail.contrib.routable_page.models import RoutablePageMixin

from . import reserved_slugs


def slug_refusal(slug: str, parent) -> str | None:
    """Why a child of `parent` may not take `slug` (news.reserved_slugs), or None: the
    parent's own routes and, under a site's root page, the project's URLs hide it."""
    if parent is None or not slug:
        return None
    routes = []
    model = parent.specific_class
    if model is not None and issubclass(model, RoutablePageMixin):
        routes += [str(route.pattern) for route in model.get_subpage_urls()]
    if parent.is_site_root():
        routes += [str(route.pattern) for route in get_resolver().url_patterns]
    address = parent.get_url() or parent.url_path
    return reserved_slugs.refusal(slug, address, reserved_slugs.reserved(routes))


class PageForm(WagtailAdminPageForm):
    """The editor's form of every news page that a parent's addresses could hide: a new
    page's slug (or, left empty, the one Wagtail will make from the title) is refused when
    an address of the parent's own has it. A page already in the tree is checked by its
    model's clean() (news.models.RoutedSlugRule), which this form runs as well; a new one
    has no parent until it is saved, so only the form can tell in time."""

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.path or "slug" in self.errors:
            return cleaned_data
        slug = cleaned_data.get("slug") or slugify(
            cleaned_data.get("title") or "",
            allow_unicode=getattr(settings, "WAGTAIL_ALLOW_UNICODE_SLUGS", True),
        )
        problem = slug_refusal(slug, self.parent_page)
        if problem:
            self.add_error("slug", problem)
        return cleaned_data


class ArticlePageForm(PageForm):
    """The title panel fills the slug in the browser; this lets a new article be saved when
    that script did not run (no JavaScript, a form posted by a tool): the slug may be left
    empty, and Wagtail's Page makes it from the title, unique among its siblings, on save.
    An existing page keeps its slug required, so its address never changes by accident."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields and self.instance._state.adding:
            self.fields["slug"].required = False
        # A new article is dated when it goes live (ArticlePage.save), not when this form
        # was opened: a story drafted at nine and published at six reads "6 p.m.".
        if "published_at" in self.fields and self.instance._state.adding and not self.is_bound:
            self.initial["published_at"] = None


class TopicsWidget(AdminTagWidget):
    """Wagtail's tag field as the article editor shows it: worded for topics (taggit and
    Wagtail call them tags)."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["help_text"] = (
            "Type a topic and press Enter or a comma; a topic of several words stays one."
        )
        return context
