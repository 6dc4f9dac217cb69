"""Which language a person reads: the staff member's in the admin, the learner's in an e-mail,
the contract's English on the API (docs/admin.md "Languages").

The admin's language is, in this order: the staff member's own setting (`User.language`, set
on the language page or in the user admin), else the browser's Accept-Language, else
LANGUAGE_CODE (English unless a deployment sets it). `LocaleMiddleware` (Django's, for the
admin's paths) negotiates the browser's; `UserLanguageMiddleware` (after authentication, which
Django's middleware runs before) puts the staff member's setting over it.

Every other path (the GraphQL API, GraphiQL's page, the health probes) answers in English,
whatever the request's Accept-Language or the user's setting: the API's messages are the
contract's (enrollments/errors.py), and a form or validation message that Django writes there
must not turn German for one client. Those answers do not vary by Accept-Language either, so
they carry no `Vary: Accept-Language` (which would split a shared cache of GET queries).

E-mails are written in their reader's language (`translation.override(language_of(user))`):
the learner's reminder (enrollments/reminders.py), the webhook owner's warnings
(enrollments/events/delivery.py, when the owner is a user here). A blank or unknown setting
falls back to LANGUAGE_CODE.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

#: The language of every answer outside the admin (the API contract's).
API_LANGUAGE = "en"


def language_codes() -> list[str]:
    """The codes of settings.LANGUAGES, in their order."""
    return [code for code, _name in settings.LANGUAGES]


def is_supported(code: str | None) -> bool:
    """Whether `code` is one of settings.LANGUAGES exactly (what a setting may store)."""
    return bool(code) and code in language_codes()


def validate_language(value: str) -> None:
    """The model's check of `User.language`: blank (follow the browser) or one of LANGUAGES."""
    if value and not is_supported(value):
        raise ValidationError(
            gettext_lazy("%(value)s is not a language of this site."),
            code="invalid_language",
            params={"value": value},
        )


def language_choices() -> list[tuple[str, str]]:
    """The picker's choices: "follow the browser" first, then each language in its own name
    (Deutsch, English), so a reader finds theirs whatever the page's language."""
    return [
        ("", _("The browser's language")),
        *((code, get_language_info(code)["name_local"]) for code in language_codes()),
    ]


def language_of(user: object | None) -> str:
    """The language to write to `user` in: their setting when it is a supported one, else
    LANGUAGE_CODE (a blank setting, a language no longer offered, no user at all)."""
    code = getattr(user, "language", "") if user is not None else ""
    return code if is_supported(code) else settings.LANGUAGE_CODE


def language_for_email(address: str) -> str:
    """The language of the user with this e-mail address (case-insensitive), else
    LANGUAGE_CODE: a webhook's owner need not be a user here."""
    from lms.models import User  # lms.models imports this module (validate_language)

    user = User.objects.filter(email__iexact=address).only("language").first() if address else None
    return language_of(user)


def is_admin_path(request: HttpRequest) -> bool:
    """The pages people read in their language: the admin's (its login page included)."""
    return request.path.startswith(reverse("admin:index"))


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's LocaleMiddleware for the admin's paths; everything else in API_LANGUAGE.

    Django's activates a language for every path and marks every answer `Vary:
    Accept-Language`; the API must answer the same whatever that header says, so it is not
    negotiated there: English is activated (a worker thread keeps the language of the request
    it served before) and the answer carries neither that Vary nor a Content-Language."""

    def process_request(self, request: HttpRequest) -> None:
        if is_admin_path(request):
            super().process_request(request)
            return
        translation.activate(API_LANGUAGE)
        request.LANGUAGE_CODE = API_LANGUAGE

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if is_admin_path(request):
            return super().process_response(request, response)
        return response


class UserLanguageMiddleware:
    """The signed-in staff member's own language (`User.language`) over the browser's, on the
    admin's paths; placed after AuthenticationMiddleware. A blank setting, or one no longer in
    LANGUAGES, leaves LocaleMiddleware's choice (the browser's, else LANGUAGE_CODE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: outside the admin the session (and so the database) is not read
        # for the user's language (with the database down the API must still answer its 503).
        if not is_admin_path(request):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            code = getattr(user, "language", "")
            if is_supported(code):
                translation.activate(code)
                request.LANGUAGE_CODE = code
        return self.get_response(request)


# -- the language page ---------------------------------------------------------------------


class LanguageForm(forms.Form):
    """The language page's form: blank (the browser's language) or one of LANGUAGES; any other
    value is refused by the choice field."""

    language = forms.ChoiceField(
        label=gettext_lazy("Your language"),
        choices=language_choices,
        required=False,
        help_text=gettext_lazy(
            "The admin's pages, messages and e-mails to you are written in this language. "
            "The browser's language: the first of your browser's languages this site offers, "
            "else English."
        ),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def remember_language(request: HttpRequest, code: str) -> None:
    """Keeps `code` ("" for the browser's) as the staff member's language (one UPDATE, only when
    it changed) and shows the rest of this request in it."""
    user = request.user
    if user.language != code:
        user.language = code
        user.save(update_fields=["language"])
    if is_supported(code):
        translation.activate(code)
    else:
        translation.activate(translation.get_language_from_request(request))
    request.LANGUAGE_CODE = translation.get_language()


def language_view(request: HttpRequest) -> HttpResponse:
    """The staff member's language page (any staff member, about their own preference; behind
    the admin's login, config/urls.py)."""
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        remember_language(request, form.cleaned_data["language"])
        return HttpResponseRedirect(_next_url(request))
    context = {
        **admin.site.each_context(request),
        "title": _("Your language"),
        "form": form,
        "next": _next_url(request),
    }
    return TemplateResponse(request, "admin/language.html", context)
