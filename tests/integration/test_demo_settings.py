"""The settings `make demo` runs with (masthead.settings.dev)."""

import subprocess
import sys

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
