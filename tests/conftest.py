import os

import pytest

from tests.services import PORTS, is_up


def require_service(name: str) -> None:
    """Skip when a local service is missing, except in CI where its absence is a failure."""
    if is_up(name):
        return
    message = f"{name} is not running on 127.0.0.1:{PORTS[name]}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI must run this test")
    pytest.skip(message)


@pytest.fixture
def redis_service():
    require_service("redis")
    return f"redis://127.0.0.1:{PORTS['redis']}/15"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rolled-back test data must not live on in the cache (e.g. a campaign window)."""
    from django.core.cache import cache

    from masthead.core import generations

    cache.clear()
    generations.forget_local()
    yield
    cache.clear()
    generations.forget_local()
