"""URL routes: the admin, the GraphQL endpoint (enrollments.graphql) and the health probes
(config.health); the error handlers (config.errors).

The endpoint answers at `/graphql` (Healthie's path; its clients never add the slash) and at
`/graphql/` (this API's documented one), both served directly: a redirect would turn a POST
into a GET, and APPEND_SLASH refuses to redirect a POST at all.
"""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from config import login_throttling
from config.health import healthz, readyz
from enrollments.admin.time_zone import time_zone_view
from enrollments.graphql.views import ApiView
from lms.language import language_view

# django-axes' pages (access attempts: where staff unlock a log-in), with the project's admin.
login_throttling.register_admin(admin.site)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The staff member's time zone (enrollments.admin.time_zone), behind the admin's login.
    path("admin/time-zone/", admin.site.admin_view(time_zone_view), name="admin_time_zone"),
    # The staff member's language (lms.language), behind the admin's login.
    path("admin/language/", admin.site.admin_view(language_view), name="admin_language"),
    path("admin/", admin.site.urls),
    path("graphql/", ApiView.as_view(), name="graphql"),
    path("graphql", ApiView.as_view(), name="graphql-no-slash"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

# Error pages, in JSON for a request that asked for JSON (config/errors.py), else Django's.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
