from wagtail.admin.forms import WagtailAdminPageForm


class ArticlePageForm(WagtailAdminPageForm):
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
