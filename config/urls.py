"""URL routes: the admin, the GraphQL endpoint (enrollments.graphql) and the health probes
(config.health); the error handlers (config.errors).

The endpoint answers at `/graphql` (Healthie's path; its clients never add the slash) and at
`/graphql/` (this API's documented one), both served directly: a redirect would turn a POST
into a GET, and APPEND_SLASH refuses to redirect a POST at all.

The endpoint's view is imported at its first call (`graphql_view`), not here: every
`manage.py` command runs Django's URL checks, which import this module, and the GraphQL view
brings graphene, graphql-core and the schema (about a quarter of a command's start-up) that no
command uses. The web server imports it at start-up instead (config/wsgi.py, config/asgi.py).
"""

import functools
from collections.abc import Callable

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView

from config import login_throttling
from config.health import healthz, readyz
from enrollments.admin.time_zone import time_zone_view
from lms.language import language_view


@functools.cache
def api_view() -> Callable[..., HttpResponse]:
    """The GraphQL endpoint's view (enrollments.graphql.views.ApiView), made once, and only
    while the response-size limit holds on the installed graphql-core (response_limit_check:
    ImproperlyConfigured otherwise, and the web server does not start)."""
    from enrollments.graphql import response_limit_check
    from enrollments.graphql.views import ApiView

    response_limit_check.require()
    return ApiView.as_view()


@csrf_exempt  # as ApiView's dispatch (it runs the CSRF check itself for sessions)
def graphql_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """ApiView, imported at the first request (or the web server's start-up)."""
    return api_view()(request, *args, **kwargs)


# django-axes' pages (access attempts: where staff unlock a log-in), with the project's admin.
login_throttling.register_admin(admin.site)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The staff member's time zone (enrollments.admin.time_zone), behind the admin's login.
    path("admin/time-zone/", admin.site.admin_view(time_zone_view), name="admin_time_zone"),
    # The staff member's language (lms.language), behind the admin's login.
    path("admin/language/", admin.site.admin_view(language_view), name="admin_language"),
    path("admin/", admin.site.urls),
    path("graphql/", graphql_view, name="graphql"),
    path("graphql", graphql_view, name="graphql-no-slash"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

# Error pages, in JSON for a request that asked for JSON (config/errors.py), else Django's.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
