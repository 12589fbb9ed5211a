"""Structured logs: one JSON object per line carrying the request id, and the middleware that
issues the id and writes the access log. No database: /healthz touches none."""

import json
import logging
import sys

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve

from masthead.core.logging import JsonFormatter, request_id_var
from masthead.core.middleware import RequestIdMiddleware
from tests.integration.test_configuration import production_env, run


def record(message="hello %s", args=("world",), level=logging.WARNING, exc_info=None, **extra):
    entry = logging.LogRecord("masthead.test", level, __file__, 1, message, args, exc_info)
    entry.__dict__.update(extra)
    return entry


def formatted(entry) -> dict:
    line = JsonFormatter().format(entry)
    assert "\n" not in line
    return json.loads(line)


def test_a_line_holds_time_level_logger_message_and_request_id():
    # given
    token = request_id_var.set("req-12345678")
    try:
        # when
        entry = formatted(record())
    finally:
        request_id_var.reset(token)
    # then
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "masthead.test"
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "req-12345678"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_outside_a_request_the_request_id_is_null():
    assert formatted(record())["request_id"] is None


def test_exceptions_and_extra_fields_stay_inside_the_one_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        entry = formatted(record("failed:\n%s", ("two lines",), exc_info=sys.exc_info(), n=3))
    assert entry["message"] == "failed:\ntwo lines"
    assert entry["n"] == 3
    assert "ValueError: bad" in entry["exception"]
    assert "Traceback" in entry["exception"]


def test_a_value_json_cannot_hold_is_written_as_text_not_lost():
    entry = formatted(record(when=object(), request="<the request object>"))
    assert entry["when"].startswith("<object object")
    assert "request" not in entry  # Django's request logger passes the object itself


def middleware_response(request_factory_kwargs=None, **settings):
    seen = {}

    def view(request):
        seen["request_id"] = request.request_id
        seen["in_context"] = request_id_var.get()
        return HttpResponse("ok")

    with override_settings(**settings):
        request = RequestFactory().get("/somewhere/", **(request_factory_kwargs or {}))
        response = RequestIdMiddleware(view)(request)
    return response, seen


def test_every_response_carries_a_fresh_request_id_also_seen_by_the_view():
    first, seen = middleware_response()
    second, _ = middleware_response()
    assert first["X-Request-ID"] == seen["request_id"] == seen["in_context"]
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert request_id_var.get() is None  # reset once the response is out


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("0f9c2d1e8b7a46c5a1b2c3d4e5f60718", True),  # nginx's $request_id
        ("abc-1234", True),
        ("short", False),
        ("x" * 65, False),
        ("bad id with spaces", False),
        ('inject"}\n{"level":"ERROR', False),
    ],
)
def test_a_trusted_proxys_request_id_is_kept_only_when_well_formed(sent, kept):
    response, _ = middleware_response({"HTTP_X_REQUEST_ID": sent}, MASTHEAD_TRUSTED_PROXY_HOPS=1)
    assert (response["X-Request-ID"] == sent) is kept


def test_without_a_trusted_proxy_the_clients_request_id_is_ignored():
    response, _ = middleware_response(
        {"HTTP_X_REQUEST_ID": "client-chosen-id"}, MASTHEAD_TRUSTED_PROXY_HOPS=0
    )
    assert response["X-Request-ID"] != "client-chosen-id"


class Capture(logging.Handler):
    """Formats at emit time, as a real handler does, while the request's context is live."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def access_log():
    logger = logging.getLogger("masthead.requests")
    capture, level = Capture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    yield capture.lines
    logger.removeHandler(capture)
    logger.setLevel(level)


def test_one_access_log_line_per_request_with_method_path_status_and_duration(access_log):
    # when
    response = Client().get("/healthz")
    # then
    [line] = access_log
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["request_id"] == response["X-Request-ID"]
    assert isinstance(line["duration_ms"], float)
    assert line["message"].startswith("GET /healthz 200 ")


def test_one_time_tokens_in_links_stay_out_of_the_access_log(access_log):
    def view(request):  # as Django's handler does once it has resolved the URL
        request.resolver_match = resolve(request.path)
        return HttpResponse()

    RequestIdMiddleware(view)(RequestFactory().get("/account/verify/secret-token-123/"))
    [line] = access_log
    assert line["path"] == "/account/verify/<token>/"
    assert "secret-token-123" not in json.dumps(line)


def test_production_writes_json_lines_with_the_proxys_request_id():
    # given production settings behind one trusted proxy (nginx)
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='news.example', "
        "HTTP_X_FORWARDED_PROTO='https', HTTP_X_REQUEST_ID='0f9c2d1e8b7a46c5'); "
        "print(r.status_code, r['X-Request-ID'])"
    )
    # when
    result = run(code, **production_env(MASTHEAD_TRUSTED_PROXY_HOPS="1"))
    # then
    assert result.stdout.split() == ["200", "0f9c2d1e8b7a46c5"], result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    [access] = [line for line in lines if line["logger"] == "masthead.requests"]
    assert access["level"] == "INFO"
    assert access["request_id"] == "0f9c2d1e8b7a46c5"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 200)
    assert access["duration_ms"] >= 0


def test_development_keeps_readable_lines():
    result = run(
        "import django, logging; django.setup(); logging.getLogger('masthead').warning('hi')",
        DJANGO_SETTINGS_MODULE="masthead.settings.dev",
    )
    assert "WARNING masthead hi" in result.stderr
    assert not result.stderr.lstrip().startswith("{")
