"""Structured request logs: one JSON line per request, and a request id the client sees.

Enabled by LOG_REQUESTS=true (settings.LOG_REQUESTS). Each request then gets an id, sent back in
the X-Request-ID response header and written in its log line, so that a client's bug report
("request 3f2a... failed") leads to the line and the line to the client. A proxy's own id (an
incoming X-Request-ID of up to 64 letters, digits, '-', '_' or '.') is kept, so that the proxy's
log and this one share it; anything else is replaced by a fresh uuid4.

The line, on stderr (under gunicorn: its error log, under systemd: the journal):

    {"time": "2026-12-01T20:45:03.512Z", "level": "INFO", "logger": "course_access.requests",
     "message": "request", "method": "POST", "path": "/graphql/", "status": 200,
     "duration_ms": 12.4, "request_id": "...", "user_id": "...", "api_key_id": "..."}

`api_key_id` is the id of the API key of a bearer request, `user_id` the user the request ran
as (the key's user, or the signed-in staff member); both are null for anonymous requests. The
path never includes the query string, and no header, cookie or body is logged.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("course_access.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: The fields a request line carries besides time, level, logger and message.
FIELDS = ("method", "path", "status", "duration_ms", "request_id", "user_id", "api_key_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, message, and the FIELDS the
    record carries (passed as `extra`)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({field: getattr(record, field) for field in FIELDS if hasattr(record, field)})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def request_id_for(request: HttpRequest) -> str:
    """The proxy's request id when it is a sane token, else a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _ACCEPTED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _user_id(request: HttpRequest) -> str | None:
    # Only a user the request already loaded: evaluating request.user here would cost a session
    # query on requests that never needed one (/healthz, static files). The bearer path sets
    # request.user to the user itself; Django's session user is a lazy object (never asked
    # for its class or attributes here: that would load it), loaded from the session, so it
    # is read only when the request already read its session.
    user = request.__dict__.get("user")
    if user is None:
        return None
    if type(user) is not get_user_model():
        session = getattr(request, "session", None)
        if session is None or not session.accessed:
            return None
    if not user.is_authenticated:
        return None
    return str(user.pk)


class RequestLogMiddleware:
    """Times the request, tags it with an id and logs one line when the response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.LOG_REQUESTS:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request.request_id = request_id_for(request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        api_key = getattr(request, "api_key", None)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "request_id": request.request_id,
                "user_id": _user_id(request),
                "api_key_id": str(api_key.pk) if api_key is not None else None,
            },
        )
        return response
