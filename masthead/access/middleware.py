from .readers import ReaderIdentity, set_reader_cookie


class ReaderMiddleware:
    """Gives every request a request.reader and sets the anonymous cookie when one was
    issued while handling it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.reader = ReaderIdentity(request)
        response = self.get_response(request)
        if request.reader.issued:
            set_reader_cookie(response, request.reader.anonymous_id)
        return response
