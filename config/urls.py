"""URL routes: the admin and the GraphQL endpoint (enrollments.graphql)."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from enrollments.admin.time_zone import time_zone_view
from enrollments.graphql.views import ApiView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The staff member's time zone (enrollments.admin.time_zone), behind the admin's login.
    path("admin/time-zone/", admin.site.admin_view(time_zone_view), name="admin_time_zone"),
    path("admin/", admin.site.urls),
    path("graphql/", ApiView.as_view(), name="graphql"),
]
