"""One JSON object per log line, so a log shipper can index fields instead of parsing text.

The request id comes from a context variable that RequestIdMiddleware sets for the life of
each request, so every line logged while handling a request (by our code, Django or Wagtail)
carries it without any logger having to pass it along. No dependency: the standard library's
logging and json are enough for the handful of fields we need."""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("masthead_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Django's request logger passes the request object itself; its path is already logged.
_DROPPED = frozenset({"request", "server_time"})


class JsonFormatter(logging.Formatter):
    """Fields: time (UTC, ISO 8601, milliseconds), level, logger, message, request_id, the
    record's `extra` fields, and exception/stack text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in _DROPPED and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: an `extra` value that JSON cannot hold must not lose the whole line.
        return json.dumps(entry, default=str)
