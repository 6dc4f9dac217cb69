"""Error answers outside the API's view, in JSON for a client that asked for JSON.

The GraphQL view answers every one of its refusals in JSON itself (enrollments/graphql/views.py).
A request that never reaches it (a path that is not the API's, such as `/api/graphql` or a
`/graphql/v1` a client was configured with; a POST that Django's CSRF middleware refuses before
any view runs, such as a GraphQL POST to `/`) got Django's HTML pages: a client of the API then
reports "unexpected token '<'" instead of the reason. Here, a request that asks for JSON gets the
API's error shape, `{"errors": [{"message": ..., "extensions": {"code": ...}}]}`, with the same
HTTP status as the HTML page; everything else (browsers: `Accept: text/html`, `*/*`, none) gets
Django's own page, unchanged.

"Asks for JSON": its body is JSON or GraphQL (`Content-Type` application/json,
application/graphql-response+json, application/graphql), or its `Accept` prefers a JSON type to
HTML. The message names the API's path when the request was not sent to it.

config/urls.py installs the 400, 403, 404 and 500 handlers; settings.CSRF_FAILURE_VIEW the CSRF
one. (With DEBUG on, Django shows its technical 404 and 500 pages instead of any handler.)
"""

import json

from django.http import HttpRequest, HttpResponse
from django.views import csrf, defaults

from enrollments.graphql.errors import (
    BAD_REQUEST,
    CSRF_FAILED,
    FORBIDDEN,
    INTERNAL_MESSAGE,
    INTERNAL_SERVER_ERROR,
    NOT_FOUND,
)

JSON_BODIES = frozenset(
    {"application/json", "application/graphql-response+json", "application/graphql"}
)
API_PATHS = frozenset({"/graphql", "/graphql/"})
_CHOICES = ["text/html", "application/json", "application/graphql-response+json"]


def wants_json(request: HttpRequest) -> bool:
    """Whether the request asked for JSON: a JSON or GraphQL body, or an Accept preferring JSON."""
    body_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if body_type in JSON_BODIES:
        return True
    if not request.headers.get("Accept"):
        return False
    return request.get_preferred_type(_CHOICES) not in (None, "text/html")


def _not_the_api(request: HttpRequest) -> str:
    if request.path in API_PATHS:
        return ""
    return (
        f" {request.method} {request.path} is not the GraphQL API: send GraphQL requests to "
        "/graphql/ (or /graphql)."
    )


def json_error(status: int, code: str, message: str) -> HttpResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: 403 CSRF_FAILED (the API's code and wording) in JSON, or
    Django's page."""
    if not wants_json(request):
        return csrf.csrf_failure(request, reason)
    return json_error(403, CSRF_FAILED, f"CSRF check failed: {reason}{_not_the_api(request)}")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not wants_json(request):
        return defaults.bad_request(request, exception)
    return json_error(400, BAD_REQUEST, "Bad request." + _not_the_api(request))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not wants_json(request):
        return defaults.permission_denied(request, exception)
    return json_error(403, FORBIDDEN, "Forbidden." + _not_the_api(request))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not wants_json(request):
        return defaults.page_not_found(request, exception)
    return json_error(404, NOT_FOUND, "Not found." + _not_the_api(request))


def server_error(request: HttpRequest) -> HttpResponse:
    """No details, as Django's page: the traceback is in the log (django.request)."""
    if not wants_json(request):
        return defaults.server_error(request)
    return json_error(500, INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE)
