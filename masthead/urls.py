from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from masthead.readers import urls as reader_urls
from masthead.subscriptions import views as subscription_views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("account/", include(reader_urls)),
    path("subscribe/", subscription_views.offers_page, name="subscribe"),
    path("subscribe/<int:offer_id>/", subscription_views.checkout, name="subscribe-offer"),
]

if settings.MASTHEAD_SERVE_MEDIA:
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )

urlpatterns.append(path("", include(wagtail_urls)))
