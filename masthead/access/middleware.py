from wagtail.views import serve as wagtail_serve

from masthead.core.sites import site_for_request

from .readers import ReaderIdentity, set_reader_cookie


class ReaderMiddleware:
    """Gives every request a request.reader and sends the anonymous cookie back when it
    changed while handling the request (a new id, or a first read now stored). A request
    for a page gets its site from this process's memory first (masthead.core.sites)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.reader = ReaderIdentity(request)
        response = self.get_response(request)
        if request.reader.cookie_to_set is not None:
            set_reader_cookie(response, request.reader.cookie_to_set)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if view_func is wagtail_serve:
            site_for_request(request)
