from django.conf import settings
from django.urls import reverse


def site(request):
    """Site-wide names and links for every template, without a database query."""
    return {
        "site_name": settings.MASTHEAD_SITE_NAME,
        "subscribe_url": settings.MASTHEAD_SUBSCRIBE_URL,
        "sign_in_url": reverse("readers:sign-in"),
    }
