"""The settings `make demo` runs with (masthead.settings.dev)."""

import subprocess
import sys

import pytest
from django.conf import settings


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
