"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# The GraphQL endpoint's view and schema now, at start-up, rather than at the first request
# (config/urls.py imports them lazily, for manage.py's sake): this also imports and checks the
# GraphQL fast path (enrollments.fastpaths.DEFERRED), whose mismatch is logged here.
from config.urls import api_view  # noqa: E402

api_view()
