"""Admin for API keys: list them with their last use, create one, revoke them. The new key is
shown once, on the page that answers the add form's POST (not after a redirect, not in a
`messages` cookie or the session: a signed cookie is readable by anything that logs response
headers), with Cache-Control: no-store. The key itself is never stored, so it can never be
shown again.

The change page writes through APIKey.objects.update_key, which applies the add form's expiry
rules to the new expiry (and refuses to revive an expired or revoked key).

A key acts as its user, so creating a key for someone is acting as them: only superusers may
create keys for, or see and revoke the keys of, other users. Other staff with the API key
permissions manage their own keys only.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apikeys.models import APIKey, InvalidKeyRequest
from enrollments.admin.date_drilldown import DateDrilldownMixin
from enrollments.admin.display import format_instant, zoned
from enrollments.admin.labelling import LabelledSplitDateTimes


class APIKeyAddForm(LabelledSplitDateTimes, forms.ModelForm):
    """The add form: refuses what create_key would refuse (an inactive user, an expiry in the
    past or too far ahead), as an error on the field at fault."""

    class Meta:
        model = APIKey
        fields = ("user", "name", "expires_at")

    def clean(self) -> dict:
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is not None and "expires_at" not in self.errors:
            try:
                APIKey.objects.check_request(user=user, expires_at=cleaned.get("expires_at"))
            except InvalidKeyRequest as error:
                self.add_error(error.field, error.message)
        return cleaned


class APIKeyChangeForm(LabelledSplitDateTimes, forms.ModelForm):
    """The change form: a new expiry follows the add form's rules (update_key's check), as an
    error on the field."""

    class Meta:
        model = APIKey
        fields = ("name", "expires_at")

    def clean(self) -> dict:
        cleaned = super().clean()
        if "expires_at" not in self.errors:
            # self.instance still holds the stored values here (fields are copied onto it after
            # clean). The widget shows whole seconds: the stored expiry sent back unchanged is
            # the stored expiry, microseconds included.
            stored = self.instance.expires_at
            expires_at = cleaned.get("expires_at")
            if stored and expires_at and expires_at == stored.replace(microsecond=0):
                cleaned["expires_at"] = expires_at = stored
            try:
                APIKey.objects.check_expiry(expires_at=expires_at, current=self.instance)
            except InvalidKeyRequest as error:
                self.add_error(error.field, error.message)
        return cleaned


#: The template of the page that shows a new key, once.
CREATED_TEMPLATE = "admin/apikeys/apikey/created.html"


#: The key's dates in the staff member's zone, named (enrollments.admin.display.zoned).
CREATED = zoned("created_at", gettext_lazy("created at"))
LAST_USED = zoned("last_used_at", gettext_lazy("last used at"))
REVOKED = zoned("revoked_at", gettext_lazy("revoked at"))


@admin.register(APIKey)
class APIKeyAdmin(DateDrilldownMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "prefix",
        "status",
        zoned("created_at", gettext_lazy("created at"), cell=True),
        zoned("last_used_at", gettext_lazy("last used at"), cell=True),
        zoned("expires_at", gettext_lazy("expires at"), cell=True),
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__email")
    autocomplete_fields = ("user",)
    readonly_fields = ("prefix", CREATED, LAST_USED, REVOKED)
    actions = ("revoke_keys",)
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[APIKey]:
        queryset = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request: HttpRequest):
        # Others pick from a list of one: themselves.
        return self.autocomplete_fields if request.user.is_superuser else ()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_fields(self, request: HttpRequest, obj: APIKey | None = None):
        if obj is None:
            return ("user", "name", "expires_at")
        return ("user", "name", "prefix", CREATED, LAST_USED, "expires_at", REVOKED)

    def get_form(self, request: HttpRequest, obj: APIKey | None = None, **kwargs):
        kwargs["form"] = APIKeyAddForm if obj is None else APIKeyChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: APIKey | None = None):
        if obj is None:
            return ()
        # Moving a key to another user would hand them its holder's access: never editable.
        return ("user", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: APIKey, form, change: bool) -> None:
        if change:
            stored = APIKey.objects.update_key(obj, name=obj.name, expires_at=obj.expires_at)
            obj.name, obj.expires_at = stored.name, stored.expires_at
            return
        api_key, raw_key = APIKey.objects.create_key(
            user=obj.user, name=obj.name, expires_at=obj.expires_at
        )
        obj.pk, obj.prefix, obj.hashed_key = api_key.pk, api_key.prefix, api_key.hashed_key
        obj.created_at = api_key.created_at
        obj._state.adding, obj._state.db = False, api_key._state.db
        # Only for response_add of this request: never in the messages or the session.
        request._new_api_key = raw_key

    def response_add(self, request: HttpRequest, obj: APIKey, post_url_continue=None):
        """The page showing the new key, instead of the usual redirect (a redirect would need
        the key stored somewhere until the next request)."""
        raw_key = getattr(request, "_new_api_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        del request._new_api_key
        context = {
            **self.admin_site.each_context(request),
            "title": _("API key created"),
            "opts": self.opts,
            "api_key": obj,
            "raw_key": raw_key,
            # In the staff member's zone, named ("2026-02-10 14:00 CET"), as every admin date.
            "expires": format_instant(obj.expires_at) if obj.expires_at else "",
            "change_url": reverse("admin:apikeys_apikey_change", args=[obj.pk]),
            "changelist_url": reverse("admin:apikeys_apikey_changelist"),
        }
        response = TemplateResponse(request, CREATED_TEMPLATE, context)
        add_never_cache_headers(response)  # no-store: no cache or back button keeps the key
        return response

    # Translators: a column: whether an API key works (active, expired, revoked, ...).
    @admin.display(description=gettext_lazy("status"))
    def status(self, obj: APIKey) -> str:
        return obj.status.label

    @admin.action(description=gettext_lazy("Revoke selected API keys"), permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        count = queryset.revoke()
        self.message_user(
            request,
            # Translators: "API key(s)" in English whatever the count; yours may vary with it.
            ngettext("Revoked %(count)s API key(s).", "Revoked %(count)s API key(s).", count)
            % {"count": count},
            messages.SUCCESS,
        )
