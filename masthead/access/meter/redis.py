"""The production meter store: one Redis sorted set per reader (article id -> read time).

Each consume() is a single Lua script, so it is atomic and one round trip. Keys carry the
reader in a hash tag, so Redis Cluster shards by reader. A set never holds more than the
allowance of the current window plus older reads trimmed on the next call, and expires
with the window."""

from datetime import datetime

import redis
from django.conf import settings

from masthead.access.networks import Take
from masthead.access.periods import MeterWindow
from masthead.access.policy import MeterResult

from .base import MeterStoreBase, MeterUnavailable

# KEYS[1] reader set; ARGV: article, now, window start, allowance, expires (unix seconds)
CONSUME = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local used = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return {used, 1, 0}
end
if used >= tonumber(ARGV[4]) then
  return {used, 0, 0}
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[5])
return {used + 1, 0, 1}
"""

# KEYS: counters; ARGV: amount, limit, expires (unix seconds) for each. All or nothing:
# returns the 1-based index of the first counter that cannot take its amount, or 0.
TAKE = """
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count + tonumber(ARGV[3 * i - 2]) > tonumber(ARGV[3 * i - 1]) then return i end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  redis.call('EXPIREAT', KEYS[i], ARGV[3 * i])
end
return 0
"""


class MeterStore(MeterStoreBase):
    def __init__(self, url: str | None = None, prefix: str | None = None):
        url = url or getattr(settings, "MASTHEAD_METER_REDIS_URL", "") or settings.REDIS_URL
        if not url:
            raise MeterUnavailable("the Redis meter store needs REDIS_URL")
        timeout = getattr(settings, "MASTHEAD_METER_REDIS_TIMEOUT", 0.5)
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.prefix = prefix if prefix is not None else "masthead:meter:"
        self._consume = self.client.register_script(CONSUME)
        self._take = self.client.register_script(TAKE)

    def _run(self, script, *keys_and_args, keys: int = 1):
        """EVALSHA of a registered script, loaded first where the server lacks it (a restarted
        or flushed Redis): redis-py's Script.__call__ without its check for a pipeline, an
        isinstance against a typing Protocol on every call (no pipeline runs these)."""
        try:
            return self.client.evalsha(script.sha, keys, *keys_and_args)
        except redis.exceptions.NoScriptError:
            script.sha = self.client.script_load(script.script)
            return self.client.evalsha(script.sha, keys, *keys_and_args)

    def key(self, reader_key: str) -> str:
        # Two readers can never share a key; the braces are a Redis Cluster hash tag.
        return f"{self.prefix}{{{reader_key}}}"

    def consume(self, *, reader_key, article_id, allowance, window, now) -> MeterResult:
        try:
            used, already, admitted = self._run(
                self._consume,
                self.key(reader_key),
                article_id,
                now.timestamp(),
                window.start.timestamp(),
                allowance,
                int(window.expires.timestamp()) + 1,
            )
        except redis.RedisError as error:
            raise MeterUnavailable(str(error)) from error
        return MeterResult(
            allowance=allowance,
            used=int(used),
            already_counted=bool(already),
            admitted=bool(admitted),
        )

    def take(self, takes) -> Take | None:
        """One script, one round trip: a network's counters share its hash tag (one slot)."""
        if not takes:
            return None
        keys, args = [], []
        for take in takes:
            keys.append(f"{self.prefix}net:{take.counter.key}")
            args += [take.amount, take.counter.limit, int(take.counter.expires.timestamp()) + 1]
        try:
            refused = int(self._run(self._take, *keys, *args, keys=len(keys)))
        except redis.RedisError as error:
            raise MeterUnavailable(str(error)) from error
        return takes[refused - 1] if refused else None

    def merge(self, *, from_key, into_key, window: MeterWindow) -> None:
        """Two keys live in different cluster slots, so this is not one script; it is
        idempotent instead (ZADD GT adds new reads and keeps the later time of
        a shared one), and safe to repeat."""
        if from_key == into_key:
            return
        source, target = self.key(from_key), self.key(into_key)
        try:
            reads = self.client.zrangebyscore(
                source, window.start.timestamp(), "+inf", withscores=True
            )
            if reads:
                pipe = self.client.pipeline(transaction=False)
                pipe.zadd(target, {member: score for member, score in reads}, gt=True)
                pipe.expireat(target, int(window.expires.timestamp()) + 1)
                pipe.execute()
            self.client.delete(source)
        except redis.RedisError as error:
            raise MeterUnavailable(str(error)) from error

    def purge(self, *, before: datetime) -> int:
        """Keys expire with their window; this trims stragglers (e.g. after a policy change
        from a long rolling period to a short one)."""
        removed = 0
        try:
            for key in self.client.scan_iter(match=f"{self.prefix}*", count=1000):
                removed += self.client.zremrangebyscore(key, "-inf", f"({before.timestamp()}")
        except redis.RedisError as error:
            raise MeterUnavailable(str(error)) from error
        return removed

    def clear(self) -> None:
        """Delete every key under the prefix, a thousand to an UNLINK."""
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            self.client.unlink(*keys[start : start + 1000])
