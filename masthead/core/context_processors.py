from django.conf import settings


def site(request):
    """The publication's name for every template, without a database query."""
    return {"site_name": settings.MASTHEAD_SITE_NAME}
