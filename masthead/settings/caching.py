"""The production cache configuration: django-redis, two names on one Redis.

``default`` fails soft (``IGNORE_EXCEPTIONS``): the cache is an optimisation, so when Redis
cannot answer a read is a miss and a write is dropped (logged on ``masthead.cache``), and
pages are served from the database. ``strict`` is the same Redis and connection pool without
it, for writes whose loss must not go unnoticed (generation tokens, masthead.core.generations)
and for counters whose callers decide what a failure means (rate limits)."""


def redis_caches(location: str, key_prefix: str) -> dict:
    def cache(ignore_exceptions: bool) -> dict:
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": key_prefix,
            "OPTIONS": {
                # A Redis that hangs (rather than refusing) must not stall every request.
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": ignore_exceptions,
            },
        }

    return {"default": cache(ignore_exceptions=True), "strict": cache(ignore_exceptions=False)}
