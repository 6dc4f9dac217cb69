"""The app's URLs plus the baseline view (bench.views) and the peers (bench.peers), for the
benchmark's server only."""

from django.urls import path

from bench import peers
from bench.views import memberships_baseline
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    *app_urlpatterns,
    path("bench/memberships/", memberships_baseline, name="bench-memberships-baseline"),
    *(
        path(module.PATH.lstrip("/"), module.view, name=f"bench-peer-{name}")
        for name, module in peers.available().items()
    ),
]
