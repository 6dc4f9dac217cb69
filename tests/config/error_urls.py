"""A URLconf whose only view fails with a database error: what does a user see?"""

from django.db import connection
from django.urls import path


def failing_view(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM table_that_does_not_exist_secret_name")


urlpatterns = [path("boom/", failing_view)]
