"""The app's URLs plus the baseline view (bench.views), for the benchmark's server only."""

from django.urls import path

from bench.views import memberships_baseline
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    *app_urlpatterns,
    path("bench/memberships/", memberships_baseline, name="bench-memberships-baseline"),
]
