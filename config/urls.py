"""URL routes: the admin and the GraphQL endpoint (enrollments.graphql).

The endpoint answers at `/graphql` (Healthie's path; its clients never add the slash) and at
`/graphql/` (this API's documented one), both served directly: a redirect would turn a POST
into a GET, and APPEND_SLASH refuses to redirect a POST at all.
"""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from enrollments.graphql.views import ApiView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("graphql/", ApiView.as_view(), name="graphql"),
    path("graphql", ApiView.as_view(), name="graphql-no-slash"),
]
