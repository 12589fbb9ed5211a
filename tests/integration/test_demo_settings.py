"""The settings `make demo` runs with (masthead.settings.dev)."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection


def dev_setting(name: str, **env) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "masthead.settings.dev", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_demo_runs_without_debug_unless_asked():
    # a missing page then shows the site's own 404, not Django's list of every URL
    assert dev_setting("DEBUG") == "False"
    assert dev_setting("DEBUG", DEBUG="true") == "True"


LOG_SOME_LINES = """
import logging, django
django.setup()
logging.getLogger("django.request").warning("request line")
logging.getLogger("django.security.csrf").warning("csrf line")
logging.getLogger("masthead.news").warning("masthead line")
logging.getLogger("django.server").info("server line")
"""


def logged(settings_module: str, **env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", LOG_SOME_LINES],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.mark.parametrize("debug", ["false", "true"])
def test_each_log_line_is_written_once_in_the_demo(debug):
    # Django's own "django" logger handler used to print its lines a second time with DEBUG
    output = logged("masthead.settings.dev", DEBUG=debug)
    for line in ("request line", "csrf line", "masthead line", "server line"):
        assert output.count(line) == 1, output


def test_each_log_line_is_written_once_in_production():
    output = logged(
        "masthead.settings.production", SECRET_KEY="x" * 50, MASTHEAD_DEMO="true", DEBUG="true"
    )
    for line in ("request line", "csrf line", "masthead line"):
        assert output.count(line) == 1, output
    assert output.splitlines()[0].startswith("{")  # one JSON object per line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.mark.sqlite  # `make demo` serves from SQLite
def test_make_demo_serves_the_branded_404_and_the_static_files(transactional_db, tmp_path):
    # given the server as `make demo` starts it (dev settings, runserver --insecure), on the
    # test database (transactional: no transaction is held open that would lock it out)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--insecure", "--noreload", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "masthead.settings.dev",
            "MASTHEAD_DEMO": "true",
            "DATABASE_URL": database_url(),
            "MASTHEAD_VAR_DIR": str(tmp_path),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                fetch(base + "/healthz")
                break
            except OSError:
                time.sleep(0.5)
        # when a missing page and the stylesheet are asked for
        status, _type, html = fetch(base + "/no-such-page/")
        css_status, css_type, css = fetch(base + "/static/masthead/css/site.css")
    finally:
        server.terminate()
        server.wait(timeout=30)
    # then the site's own 404 page, not Django's debug page, and the stylesheet itself
    assert status == 404
    assert "We could not find that page" in html
    assert "URLconf" not in html and "DEBUG = True" not in html
    assert css_status == 200 and css_type.startswith("text/css")
    assert ".site-footer" in css
