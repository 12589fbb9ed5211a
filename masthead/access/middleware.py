from .readers import ReaderIdentity, set_reader_cookie


class ReaderMiddleware:
    """Gives every request a request.reader and sets the anonymous cookie when one was
    issued while handling it. The two halves are also called on their own by the fast lane
    (masthead.news.fast_lane)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.process_request(request)
        return self.process_response(request, self.get_response(request))

    def process_request(self, request):
        request.reader = ReaderIdentity(request)

    def process_response(self, request, response):
        if request.reader.issued:
            set_reader_cookie(response, request.reader.anonymous_id)
        return response
