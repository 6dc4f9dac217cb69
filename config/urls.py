"""URL routes: the admin, the GraphQL endpoint (enrollments.graphql) and the health probes
(config.health)."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from config.health import healthz, readyz
from enrollments.graphql.views import ApiView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("graphql/", ApiView.as_view(), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
