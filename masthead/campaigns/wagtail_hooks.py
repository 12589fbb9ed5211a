from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Banner, FreeAccessWindow


class BannerViewSet(SnippetViewSet):
    model = Banner
    icon = "warning"
    menu_label = "Banners"
    list_display = ["text", "kind", "starts_at", "ends_at", "priority"]
    list_filter = ["kind"]


class FreeAccessWindowViewSet(SnippetViewSet):
    model = FreeAccessWindow
    icon = "lock-open"
    menu_label = "Free-access windows"
    list_display = ["title", "starts_at", "ends_at", "scope"]


class CampaignsViewSetGroup(SnippetViewSetGroup):
    items = (BannerViewSet, FreeAccessWindowViewSet)
    menu_label = "Campaigns"
    menu_icon = "calendar-alt"
    menu_name = "campaigns"


register_snippet(CampaignsViewSetGroup)
