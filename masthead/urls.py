from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from masthead.core import health
from masthead.news import search as site_search
from masthead.news import sitemap_views
from masthead.readers import urls as reader_urls
from masthead.subscriptions import views as subscription_views
from masthead.subscriptions.payments import stripe_provider, test_provider, webhooks

# A database that stops answering gets a branded 503 with Retry-After, not a 500.
handler500 = "masthead.core.errors.server_error"

urlpatterns = [
    # First, ahead of every catch-all: probes must stay cheap.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # For crawlers: the same for everyone, cached (news.sitemap_views).
    path("robots.txt", sitemap_views.robots_txt, name="robots-txt"),
    path("sitemap.xml", sitemap_views.index, name="sitemap"),
    path("sitemap-news.xml", sitemap_views.news, name="sitemap-news"),
    path("sitemap-<slug:section>.xml", sitemap_views.section, name="sitemap-section"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("account/", include(reader_urls)),
    path("api/v1/", include("masthead.api.urls")),
    path("search/", site_search.search, name="search"),
    # Grouped by prefix: an article's path, resolved after every one of these, is tried
    # against each group's prefix once rather than against each of its routes.
    path(
        "subscribe/",
        include(
            [
                path("", subscription_views.offers_page, name="subscribe"),
                path("<int:offer_id>/", subscription_views.checkout, name="subscribe-offer"),
                path(
                    "plan/<slug:plan_slug>/",
                    subscription_views.checkout_plan,
                    name="subscribe-plan",
                ),
                path(
                    "checkout/<uuid:checkout_id>/",
                    test_provider.checkout_page,
                    name="test-checkout",
                ),
                path(
                    "checkout/<uuid:checkout_id>/done/",
                    test_provider.checkout_done,
                    name="test-checkout-done",
                ),
                path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
                path(
                    "stripe/return/<uuid:checkout_id>/",
                    stripe_provider.checkout_return,
                    name="stripe-return",
                ),
            ]
        ),
    ),
    path(
        "account/subscriptions/<int:subscription_id>/",
        include(
            [
                path(
                    "billing/",
                    stripe_provider.billing_portal,
                    name="subscription-billing",
                ),
                path(
                    "cancel/",
                    subscription_views.cancel_subscription,
                    name="subscription-cancel",
                ),
                path(
                    "resume/",
                    subscription_views.resume_subscription,
                    name="subscription-resume",
                ),
            ]
        ),
    ),
]

if settings.MASTHEAD_SERVE_MEDIA:
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )

# Every page, articles included, by Wagtail's routing (HomePage.route keeps articles' routes
# in the cache, masthead.news.routing). Wagtail's patterns are listed here themselves rather
# than included under "": the same routes, names and order, resolved without a nested
# resolver and its match for every page.
urlpatterns += wagtail_urls.urlpatterns
