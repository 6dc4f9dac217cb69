"""URL routes: the admin and the GraphQL endpoint (enrollments.graphql)."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from enrollments.graphql.views import ApiView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("graphql/", ApiView.as_view(), name="graphql"),
]
