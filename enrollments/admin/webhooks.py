"""Webhook endpoints in the admin, over enrollments/events/endpoints.py (the rules and messages
the API and `manage.py webhooks` use too).

- The list: URL, enabled, scheme, event types, description, created; actions "Enable" and
  "Disable" (disabling cancels pending deliveries).
- Add: the form (URL, scheme, event types, retry, owner, description); after saving, a page
  shows the signing secret once (it is never shown again: not on the change page, not in any
  list). Change: the same fields but the scheme (chosen at creation).
- On the change page: "Rotate the secret" (a new one, shown once; the old one keeps signing
  for the overlap asked, a day by default), "Send a test event" (its answer: status, latency,
  error), "Delivery log" and "Replay every event since ..." (a date-time form).
- The delivery log: the endpoint's latest deliveries (state, event, tries, last status and
  error) with every attempt (when, status, latency, error) and "Resend" per delivery.

Permissions: MANAGE_WEBHOOKS for every page and action, asked again on every POST.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from enrollments.admin import views
from enrollments.admin.display import format_instant, instant_cell
from enrollments.admin.filters import KnownChoiceFilter
from enrollments.admin.forms import StaffZoneDateTimeField
from enrollments.admin.reporting import error_message, translated
from enrollments.errors import DomainError
from enrollments.events import endpoints
from enrollments.models import AccessEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from enrollments.permissions import MANAGE_WEBHOOKS

TEMPLATES = "admin/enrollments/webhookendpoint/"
#: Deliveries the log shows (newest first); the count is always complete.
LOG_ROWS = 100
#: Attempts shown per delivery (newest first).
ATTEMPTS_SHOWN = 10

#: Which form field each domain error belongs to.
ERROR_FIELDS = {
    endpoints.InvalidWebhookUrl: "url",
    endpoints.UnknownEventType: "event_types",
    endpoints.UnknownScheme: "scheme",
    endpoints.InvalidOwnerEmail: "owner_email",
    endpoints.DescriptionTooLong: "description",
}


def may_manage(user) -> bool:
    return user.is_active and user.is_staff and MANAGE_WEBHOOKS.held_by(user)


def endpoint_url(endpoint_id: int, name: str = "change") -> str:
    return reverse(f"admin:enrollments_webhookendpoint_{name}", args=[endpoint_id])


class EndpointForm(forms.ModelForm):
    """The endpoint's fields; every check is endpoints.py's, its messages on their fields."""

    #: Text: targets.check_url judges it (Django's URLField would guess a scheme).
    url = forms.CharField(max_length=endpoints.MAX_URL_LENGTH, label=gettext_lazy("URL"))
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("Event types"),
        choices=AccessEvent.EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None checked: every event type."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = (
            "url",
            "scheme",
            "event_types",
            "is_enabled",
            "should_retry",
            "owner_email",
            "description",
        )
        #: The URL is endpoints.checked_url's alone: left out of the model's validation, which
        #: would run the URLField's URLValidator too (refusing a host name with an underscore
        #: that the API and the command accept, so such an endpoint could not be saved here).
        #: The form's own `url` field above still shows and takes it. (`fields` names every
        #: field shown, so DJ006's concern, a new model field shown unasked, does not arise.)
        exclude = ("url",)  # noqa: DJ006
        help_texts = {
            "url": gettext_lazy(
                "https, reachable from the internet (private and loopback hosts are refused)."
            ),
            "scheme": gettext_lazy("How deliveries are signed; chosen once."),
            "should_retry": gettext_lazy("Off: one attempt per event."),
            "owner_email": gettext_lazy(
                "E-mailed after a day of failed deliveries and when it is disabled."
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Meta.exclude leaves the URL out of the instance's initial values too.
        self.initial.setdefault("url", self.instance.url)

    def clean(self):
        data = super().clean()
        checks = (
            ("url", endpoints.checked_url),
            ("event_types", endpoints.event_types),
            ("scheme", endpoints.scheme_value),
            ("owner_email", endpoints.checked_owner_email),
            ("description", endpoints.checked_description),
        )
        for name, check in checks:
            if name in data and name in self.fields:
                try:
                    data[name] = check(data[name] or ("" if name != "event_types" else []))
                except DomainError as error:
                    self.add_error(name, error_message(error))
        return data


class RotateForm(forms.Form):
    overlap_hours = forms.FloatField(
        min_value=0,
        max_value=endpoints.MAX_ROTATION_OVERLAP.total_seconds() / 3600,
        label=gettext_lazy("Hours the old secret keeps signing"),
        help_text=gettext_lazy("0: it stops signing at once."),
    )


class ReplayForm(forms.Form):
    since = StaffZoneDateTimeField(
        label=gettext_lazy("Replay every event since"),
        help_text=gettext_lazy(
            "In your time zone, e.g. 2026-03-01 09:00. Each event the endpoint receives "
            "is sent again (those waiting to be sent are left as they are)."
        ),
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "is_enabled", "scheme", "event_types_shown", "description", "created")
    list_filter = ("is_enabled", ("scheme", KnownChoiceFilter))
    search_fields = ("url", "description")
    ordering = ("created_at", "id")
    actions = ("enable_selected", "disable_selected")
    change_form_template = TEMPLATES + "change_form.html"

    # -- permissions: MANAGE_WEBHOOKS for everything -----------------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_manage(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_manage(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_manage(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_manage(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_manage(request.user)

    # -- the list ----------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("event types"))
    def event_types_shown(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) or _("every event type")

    @admin.display(description=gettext_lazy("created"), ordering="created_at")
    def created(self, endpoint: WebhookEndpoint) -> str:
        return instant_cell(endpoint.created_at)

    @admin.action(description=gettext_lazy("Enable the selected endpoints"))
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        self._switch(request, queryset, True)

    @admin.action(
        description=gettext_lazy(
            "Disable the selected endpoints (pending deliveries are cancelled)"
        )
    )
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        self._switch(request, queryset, False)

    def _switch(self, request: HttpRequest, queryset, enabled: bool) -> None:
        pks = list(queryset.filter(is_enabled=not enabled).values_list("pk", flat=True))
        for pk in pks:
            endpoints.set_enabled(pk, enabled)
        count = len(pks)
        if enabled:
            text = ngettext("Enabled %(count)s endpoint.", "Enabled %(count)s endpoints.", count)
        else:
            text = ngettext("Disabled %(count)s endpoint.", "Disabled %(count)s endpoints.", count)
        messages.success(request, text % {"count": count})

    # -- add, change, delete through endpoints.py ----------------------------------------------

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("scheme",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = endpoints.update(
                obj.pk, **{name: data[name] for name in endpoints.UPDATABLE if name in data}
            )
        else:
            made = endpoints.create(
                data["url"],
                scheme=data["scheme"],
                event_types_=data["event_types"],
                is_enabled=data["is_enabled"],
                should_retry=data["should_retry"],
                description=data["description"],
                owner_email=data["owner_email"],
                created_by=request.user,
            )
            saved = made.endpoint
            request.webhook_secret = made.secret  # for response_add, this request only
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related: the form's fields are all the endpoint's own."""

    def response_add(self, request: HttpRequest, obj, post_url_continue=None) -> HttpResponse:
        secret = getattr(request, "webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret, _("Webhook endpoint added"))

    def get_deleted_objects(self, objs, request: HttpRequest):
        """The endpoints, and how many deliveries go with them, counted: Django's default lists
        every related delivery and attempt, one object each (unbounded for a long log)."""
        chosen = list(objs)
        deliveries = WebhookDelivery.objects.filter(endpoint__in=chosen).count()
        counts = {
            WebhookEndpoint._meta.verbose_name_plural: len(chosen),
            WebhookDelivery._meta.verbose_name_plural: deliveries,
        }
        missing = set() if self.has_delete_permission(request) else {_("webhook endpoint")}
        return [str(endpoint) for endpoint in chosen], counts, missing, []

    def delete_model(self, request: HttpRequest, obj) -> None:
        endpoints.delete(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            endpoints.delete(pk)

    # -- the endpoint's own pages ------------------------------------------------------------

    def get_urls(self):
        return [
            views.admin_path(self, "<path:object_id>/rotate/", self.rotate_view, "rotate"),
            views.admin_path(self, "<path:object_id>/test/", self.test_view, "test"),
            views.admin_path(self, "<path:object_id>/replay/", self.replay_view, "replay"),
            views.admin_path(self, "<path:object_id>/deliveries/", self.log_view, "deliveries"),
            views.admin_path(
                self,
                "<path:object_id>/deliveries/<int:delivery_id>/resend/",
                self.resend_view,
                "resend",
                post_only=True,
            ),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        pk = endpoints.parse_id(unquote(object_id))
        extra = {}
        if pk is not None:
            extra = {
                "rotate_url": endpoint_url(pk, "rotate"),
                "test_url": endpoint_url(pk, "test"),
                "replay_url": endpoint_url(pk, "replay"),
                "deliveries_url": endpoint_url(pk, "deliveries"),
            }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._not_found(request)
        default = endpoints.default_overlap(endpoint.scheme).total_seconds() / 3600
        form = RotateForm(
            request.POST if request.method == "POST" else None,
            initial={"overlap_hours": default},
        )
        if request.method == "POST" and form.is_valid():
            hours = form.cleaned_data["overlap_hours"]
            rotated = endpoints.rotate(endpoint.pk, overlap=timedelta(hours=hours))
            return self._secret_page(request, rotated.endpoint, rotated.secret, _("Secret rotated"))
        return self._form_page(
            request,
            endpoint,
            form,
            title=_("Rotate the signing secret"),
            intro=_(
                "A new secret signs every delivery from now on; the current one keeps signing "
                "too for the hours below, so receivers can switch without losing a delivery."
            ),
            button=_("Rotate the secret"),
        )

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._not_found(request)
        if request.method != "POST":
            return self._form_page(
                request,
                endpoint,
                forms.Form(),
                title=_("Send a test event"),
                intro=_(
                    "Sends a signed test event (event_type test.created) now and shows the "
                    "receiver's answer. Nothing is recorded or retried."
                ),
                button=_("Send a test event"),
            )
        answer = endpoints.send_test(endpoint.pk)
        values = {
            # Translators: a webhook attempt that got no HTTP answer (instead of its status).
            "status": answer.status if answer.status is not None else _("no answer"),
            "ms": answer.latency_ms,
        }
        if answer.delivered:
            messages.success(request, _("Test event: %(status)s in %(ms)s ms: delivered.") % values)
        else:
            # Translators: the error of a test event, else that its status was not 2xx.
            values["error"] = answer.error or _("not a 2xx")
            messages.error(
                request,
                _("Test event: %(status)s in %(ms)s ms: not delivered (%(error)s).") % values,
            )
        return HttpResponseRedirect(endpoint_url(endpoint.pk))

    def replay_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._not_found(request)
        form = ReplayForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            since = form.cleaned_data["since"]
            try:
                queued = endpoints.replay_since(endpoint.pk, since)
            except DomainError as error:
                messages.error(request, error_message(error))
                return HttpResponseRedirect(endpoint_url(endpoint.pk))
            messages.success(
                request,
                _("Queued %(count)s deliveries of the events since %(since)s.")
                % {"count": queued, "since": format_instant(since)},
            )
            return HttpResponseRedirect(endpoint_url(endpoint.pk, "deliveries"))
        return self._form_page(
            request,
            endpoint,
            form,
            title=_("Replay every event since …"),
            intro=_("Every event since this instant that the endpoint receives is sent again."),
            button=_("Replay"),
        )

    def log_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._not_found(request)
        deliveries = list(
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .select_related("event")
            .prefetch_related(
                Prefetch("tries", queryset=WebhookAttempt.objects.order_by("-attempted_at"))
            )
            .order_by("-created_at", "-id")[:LOG_ROWS]
        )
        rows = [
            {
                "delivery": delivery,
                "created": format_instant(delivery.created_at),
                "delivered": format_instant(delivery.delivered_at) if delivery.delivered_at else "",
                "attempts": [
                    {
                        "when": format_instant(attempt.attempted_at),
                        "status": attempt.status if attempt.status is not None else _("no answer"),
                        "latency_ms": attempt.latency_ms,
                        "error": attempt.error,
                    }
                    for attempt in list(delivery.tries.all())[:ATTEMPTS_SHOWN]
                ],
                "resend_url": reverse(
                    "admin:enrollments_webhookendpoint_resend", args=[endpoint.pk, delivery.pk]
                ),
            }
            for delivery in deliveries
        ]
        context = {
            **self._context(
                request, endpoint, _("Delivery log of %(url)s") % {"url": endpoint.url}
            ),
            "rows": rows,
            "total": WebhookDelivery.objects.filter(endpoint=endpoint).count(),
            "limit": LOG_ROWS,
            "replay_url": endpoint_url(endpoint.pk, "replay"),
        }
        return TemplateResponse(request, TEMPLATES + "deliveries.html", context)

    def resend_view(self, request: HttpRequest, object_id: str, delivery_id: int) -> HttpResponse:
        endpoint = self._endpoint(request, object_id)
        if endpoint is None:
            return self._not_found(request)
        if not WebhookDelivery.objects.filter(pk=delivery_id, endpoint=endpoint).exists():
            messages.error(request, translated(endpoints.DeliveryNotFound.message))
        else:
            try:
                delivery = endpoints.resend(delivery_id)
            except DomainError as error:
                messages.error(request, error_message(error))
            else:
                said = _(endpoints.resent_message(delivery)) % {"delivery": delivery_id}
                messages.success(request, said)
        return HttpResponseRedirect(endpoint_url(endpoint.pk, "deliveries"))

    # -- internals ---------------------------------------------------------------------------

    def _endpoint(self, request: HttpRequest, object_id: str) -> WebhookEndpoint | None:
        if not self.has_change_permission(request):
            raise PermissionDenied
        pk = endpoints.parse_id(unquote(object_id))
        return WebhookEndpoint.objects.filter(pk=pk).first() if pk is not None else None

    def _not_found(self, request: HttpRequest) -> HttpResponse:
        messages.error(request, translated(endpoints.WebhookNotFound.message))
        return HttpResponseRedirect(reverse("admin:enrollments_webhookendpoint_changelist"))

    def _context(self, request: HttpRequest, endpoint: WebhookEndpoint, title: str) -> dict:
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "endpoint": endpoint,
            "change_url": endpoint_url(endpoint.pk),
        }

    def _form_page(self, request, endpoint, form, *, title, intro, button) -> HttpResponse:
        context = {
            **self._context(request, endpoint, title),
            "form": form,
            "intro": intro,
            "button": button,
        }
        return TemplateResponse(request, TEMPLATES + "action.html", context)

    def _secret_page(self, request, endpoint, secret: str, title: str) -> HttpResponse:
        context = {**self._context(request, endpoint, title), "secret": secret}
        response = TemplateResponse(request, TEMPLATES + "secret.html", context)
        response["Cache-Control"] = "no-store"  # the one time the secret is shown
        return response
