"""A URLconf whose only view fails with a database error: what does a user see?"""

from django.db import connection
from django.urls import path


def failing_view(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM table_that_does_not_exist_secret_name")


urlpatterns = [path("boom/", failing_view)]

# config.urls' handler, as a URLconf of the project names it (config/errors.py): JSON for a
# request that asked for JSON, Django's page otherwise.
handler500 = "config.errors.server_error"
