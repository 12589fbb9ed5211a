from wagtail.views import serve as wagtail_serve

from masthead.core.sites import site_for_request

from .context import ReaderContext
from .readers import set_reader_cookie


class ReaderMiddleware:
    """Gives every request its reader context (request.reader_context, access.context) and
    sends the anonymous cookie back when it changed while handling the request (a new id,
    or a first read now stored). A request for a page gets its site from this process's
    memory first (masthead.core.sites)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = request.reader_context = ReaderContext(request)
        response = self.get_response(request)
        if context.identity.cookie_to_set is not None:
            set_reader_cookie(response, context.identity.cookie_to_set)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if view_func is wagtail_serve:
            site_for_request(request)
