from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Author, Sponsor


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    list_display = ["name", "role"]
    search_fields = ["name"]


class SponsorViewSet(SnippetViewSet):
    model = Sponsor
    icon = "tag"
    list_display = ["name"]


register_snippet(AuthorViewSet)
register_snippet(SponsorViewSet)
