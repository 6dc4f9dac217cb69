"""Which language a page is written in (lms.language, docs/admin.md "Languages"): in the admin
the staff member's own setting, else the browser's Accept-Language, else English; the language
page and the user admin's field keep a setting and refuse a language the site does not offer;
the GraphQL API answers in English whatever the header or the user's setting.

Django's own German catalogue (its forms' and admin's messages) is the witness that a language
was really active: "Select a valid choice." becomes "Bitte eine gültige Auswahl treffen." and
the admin's log-in page says "Anmelden".
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from apikeys.models import APIKey
from lms.admin import EmailUserChangeForm
from lms.language import LanguageForm, language_choices, language_for_email, language_of
from lms.models import User
from tests.admin.helpers import no_roles
from tests.factories import StaffFactory, UserFactory

LOGIN = "/admin/login/"
LANGUAGE_PAGE = "/admin/language/"


@pytest.fixture(autouse=True)
def _english_after():
    """A request activates its language in this thread: leave it as the next test expects."""
    yield
    translation.deactivate()


def language_of_page(response) -> str:
    """The language the answer was written in: Django's Content-Language, which
    LocaleMiddleware sets from the language active when the page was rendered."""
    return response["Content-Language"]


def staff_client(language: str = "") -> Client:
    client = Client()
    client.force_login(StaffFactory(language=language))
    return client


# -- the choice: setting, else browser, else English ----------------------------------------


@pytest.mark.django_db
def test_the_browsers_language_picks_german_for_the_log_in_page():
    response = Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response.status_code == 200
    assert language_of_page(response) == "de"
    html = response.content.decode()
    assert '<html lang="de"' in html
    assert "Anmelden" in html  # Django's admin, in German
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
def test_without_a_header_the_admin_is_english():
    response = Client().get(LOGIN)
    assert language_of_page(response) == "en"
    assert "Log in" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["fr-FR,fr;q=0.9", "zz", "*"])
def test_a_language_the_site_does_not_offer_falls_back_to_english(header):
    response = Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE=header)
    assert language_of_page(response) == "en"


@pytest.mark.django_db
def test_the_staff_members_setting_beats_the_browsers_header():
    assert language_of_page(staff_client("de").get("/admin/", HTTP_ACCEPT_LANGUAGE="en")) == "de"
    assert language_of_page(staff_client("en").get("/admin/", HTTP_ACCEPT_LANGUAGE="de")) == "en"


@pytest.mark.django_db
def test_a_blank_setting_follows_the_browsers_header():
    client = staff_client("")
    assert language_of_page(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de")) == "de"
    assert language_of_page(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-GB")) == "en"
    assert language_of_page(client.get("/admin/")) == "en"


@pytest.mark.django_db
def test_a_stored_language_no_longer_offered_falls_back_to_the_header_then_english():
    client = staff_client("fr")  # stored before LANGUAGES changed, say
    assert language_of_page(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de")) == "de"
    assert language_of_page(client.get("/admin/")) == "en"


def test_language_of_someone_to_write_to():
    assert language_of(User(language="de")) == "de"
    assert language_of(User(language="")) == "en-us"  # LANGUAGE_CODE
    assert language_of(User(language="fr")) == "en-us"
    assert language_of(None) == "en-us"


@pytest.mark.django_db
def test_language_for_an_e_mail_address_is_its_users_or_the_default():
    UserFactory(email="Greta@Example.com", language="de")
    assert language_for_email("greta@example.com") == "de"
    assert language_for_email("nobody@example.com") == "en-us"
    assert language_for_email("") == "en-us"


# -- the language page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_language_page_needs_a_staff_log_in():
    response = Client().get(LANGUAGE_PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert reverse("admin_language") == LANGUAGE_PAGE


@pytest.mark.django_db
def test_the_language_page_offers_the_browser_and_each_language_in_its_own_name():
    response = staff_client().get(LANGUAGE_PAGE)
    assert response.status_code == 200
    assert language_choices() == [
        ("", "The browser's language"),
        ("en", "English"),
        ("de", "Deutsch"),
    ]
    html = response.content.decode()
    assert '<option value="de">Deutsch</option>' in html
    assert '<option value="" selected>' in html


@pytest.mark.django_db
def test_choosing_german_on_the_page_keeps_it_and_the_admin_follows():
    staff = StaffFactory()
    client = Client()
    client.force_login(staff)
    response = client.post(LANGUAGE_PAGE, {"language": "de", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    staff.refresh_from_db()
    assert staff.language == "de"
    assert language_of_page(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")) == "de"
    # Back to the browser's language.
    client.post(LANGUAGE_PAGE, {"language": ""})
    staff.refresh_from_db()
    assert staff.language == ""
    assert language_of_page(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")) == "en"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["fr", "de-at", "xx" * 20, "EN"])
def test_the_language_page_refuses_a_language_not_offered(value):
    staff = StaffFactory(language="de")
    client = Client()
    client.force_login(staff)
    response = client.post(LANGUAGE_PAGE, {"language": value})
    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    staff.refresh_from_db()
    assert staff.language == "de"


@pytest.mark.django_db
def test_the_language_page_goes_back_only_to_this_site():
    client = staff_client()
    response = client.post(LANGUAGE_PAGE, {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/admin/"


def test_the_form_refuses_what_is_not_offered():
    assert LanguageForm({"language": "de"}).is_valid()
    assert LanguageForm({"language": ""}).is_valid()
    assert not LanguageForm({"language": "fr"}).is_valid()


# -- the user admin's field and the model ------------------------------------------------------


def test_the_model_field_refuses_a_language_not_offered():
    user = User(email="x@example.com", language="fr")
    with pytest.raises(ValidationError) as refused:
        user.clean_fields(exclude=["password"])
    assert list(refused.value.message_dict) == ["language"]
    User(email="x@example.com", language="de").clean_fields(exclude=["password"])


def test_the_user_admin_field_offers_and_refuses_as_the_page_does():
    field = EmailUserChangeForm.base_fields["language"]
    assert field.clean("de") == "de"
    assert field.clean("") == ""
    with pytest.raises(ValidationError):
        field.clean("fr")


@pytest.mark.django_db
def test_the_user_admin_saves_a_language_and_refuses_another(admin_user):
    client = Client()
    client.force_login(admin_user)
    user = UserFactory(first_name="Ada", last_name="L")
    url = reverse("admin:lms_user_change", args=[user.pk])
    assert 'name="language"' in client.get(url).content.decode()
    data = {
        "email": user.email,
        "first_name": "Ada",
        "last_name": "L",
        "time_zone": "",
        "language": "de",
        "is_active": "on",
        **no_roles("course_roles"),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.language == "de"
    refused = client.post(url, {**data, "language": "fr"})
    assert refused.status_code == 200
    assert "language" in refused.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.language == "de"


# -- the API stays English ------------------------------------------------------------------

BAD_FILTER = '{ courseMemberships(course_status: "bogus") { total_count } }'
NOT_FOUND = '{ courseMembership(id: "not-a-uuid") { id } }'


def _api_post(client: Client, query: str, **headers) -> tuple[dict, object]:
    response = client.post(
        "/graphql/", json.dumps({"query": query}), content_type="application/json", **headers
    )
    return response.json(), response


@pytest.fixture
def german_viewer(db):
    """Staff who may read memberships and prefers German."""
    user = StaffFactory(language="de")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="enrollments", codename="view_enrollment")
    )
    return user


def test_django_would_say_it_in_german():
    """The witness: Django's form message has a German translation, so an API answer that
    stays English below does so because the API is not negotiated, not for want of one."""
    with translation.override("de"):
        message = "Select a valid choice. %(value)s is not one of the available choices."
        assert translation.gettext(message).startswith("Bitte eine gültige Auswahl treffen.")


@pytest.mark.parametrize("query", [BAD_FILTER, NOT_FOUND])
def test_the_api_answers_in_english_to_a_german_user_and_header(german_viewer, query):
    _key, raw = APIKey.objects.create_key(user=german_viewer)
    by_key = Client()
    by_session = Client()
    by_session.force_login(german_viewer)
    for client, auth in ((by_key, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}), (by_session, {})):
        body, response = _api_post(client, query, HTTP_ACCEPT_LANGUAGE="de", **auth)
        (error,) = body["errors"]
        if query is BAD_FILTER:
            assert error["message"].startswith("Invalid filter: course_status: Select a valid")
        else:
            assert error["message"] == "Course membership not found"
        assert "Accept-Language" not in response.get("Vary", "")
        assert "Content-Language" not in response
        assert translation.get_language() == "en"
