"""The admin refuses a query string holding a NUL character: 400, before any list reads it.

Django's changelists apply any lookup on a plain field that a URL names (`?last_error__contains=`,
`?email__startswith=`) and pass its value to the database as typed. PostgreSQL refuses text
holding a NUL character (DataError), so such a URL answered 500 on every list, and broke a CSV
export mid-stream. The list filters of fields with choices refuse unknown values themselves
(enrollments.admin.filters.KnownChoiceFilter); this covers every other parameter at once. A NUL
is never part of a value a page offers, so nothing a person clicks is refused.

Only the admin's paths: the GraphQL API answers malformed input in its own JSON errors (a NUL in
a document is graphql-core's syntax error).
"""

from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


class AdminQueryGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_prefix = ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if query and ("%00" in query or "\x00" in query) and self._in_admin(request.path):
            # Django answers it 400 (config.errors: the page, or JSON for a JSON client).
            raise SuspiciousOperation("a NUL character in the admin's query string")
        return self.get_response(request)

    def _in_admin(self, path: str) -> bool:
        if not self.admin_prefix:  # resolved on first use: the URLconf is loaded by then
            self.admin_prefix = reverse("admin:index")
        return path.startswith(self.admin_prefix)
