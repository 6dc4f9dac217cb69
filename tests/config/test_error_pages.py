"""With DEBUG off, a failure shows neither a stack trace nor SQL."""

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.urls("tests.config.error_urls")
def test_server_error_page_reveals_nothing(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500
    for leak in ("Traceback", "table_that_does_not_exist_secret_name", "SELECT", 'File "'):
        assert leak not in body


@pytest.mark.django_db
def test_not_found_page_reveals_nothing(settings):
    settings.DEBUG = False
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert "urlpatterns" not in response.content.decode()
