from .readers import ReaderIdentity, set_reader_cookie


class ReaderMiddleware:
    """Gives every request a request.reader and sends the anonymous cookie back when it
    changed while handling the request (a new id, or a first read now stored). The two
    halves are also called on their own by the fast lane (masthead.news.fast_lane)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.process_request(request)
        return self.process_response(request, self.get_response(request))

    def process_request(self, request):
        request.reader = ReaderIdentity(request)

    def process_response(self, request, response):
        if request.reader.cookie_to_set is not None:
            set_reader_cookie(response, request.reader.cookie_to_set)
        return response
