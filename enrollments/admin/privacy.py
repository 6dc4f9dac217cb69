"""The learner's data in the admin: two actions on users, and the erasures' own records.

- "Export learner data (JSON)": the selected learner's document (enrollments/privacy/document.py)
  as a download, `learner-<id>.json`, never cached. One learner per export: one document each.
- "Erase learner…": Django's intermediate-page pattern (as its `delete_selected`): the action
  first answers with the preview page (what is erased, what is kept, counted by
  `privacy.erasure_preview`), whose Confirm posts the same action again with `post=yes` (and
  the CSRF token, as every admin form); only that erases (`privacy.erase_learner`, source
  admin, the staff member as actor), then back to the user list with the erasure record's id.
  A refusal (themselves, an account that can do more than them, already erased, a run in
  flight) is a message on the list, and nothing is written.
- The records (`Erasure`), read-only: who erased whom (by id), when, through which door, and
  the counts; the retention sweep's runs too.

Permissions: the actions are offered only to holders of EXPORT_LEARNER_DATA / ERASE_LEARNER
(enrollments/permissions.py, through Django's `has_<name>_permission` hooks), and each asks
again on every request: a crafted POST without the permission gets 403.

Wiring: `LearnerDataActions` is a mixin for the user admin (lms/admin.py's UserAdmin lists it
first among its bases); its `actions` name the two actions.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollments import privacy
from enrollments.admin.display import ReadOnly, format_instant
from enrollments.admin.reporting import translated
from enrollments.models import AccessChange, Erasure
from enrollments.permissions import ERASE_LEARNER, EXPORT_LEARNER_DATA, Permission
from lms.models import User

ERASE_TEMPLATE = "admin/enrollments/privacy/erase_learner.html"
#: The Confirm button's field: without it the erase action only previews.
CONFIRMED = "post"


def _require(request: HttpRequest, permission: Permission) -> None:
    if not permission.held_by(request.user):
        raise PermissionDenied


def _one_learner(
    model_admin, request: HttpRequest, queryset: QuerySet, refusal: str
) -> User | None:
    """The one selected user; a message (`refusal`, "Select exactly one learner to ...") and
    None when there are none or several."""
    chosen = list(queryset[:2])
    if len(chosen) != 1:
        model_admin.message_user(request, refusal, level=messages.WARNING)
        return None
    return chosen[0]


class LearnerDataActions:
    """The user admin's learner-data actions (a mixin for a ModelAdmin of lms.User)."""

    actions = ("export_learner_data", "erase_learner")

    def has_export_learner_data_permission(self, request: HttpRequest) -> bool:
        return EXPORT_LEARNER_DATA.held_by(request.user)

    def has_erase_learner_permission(self, request: HttpRequest) -> bool:
        return ERASE_LEARNER.held_by(request.user)

    @admin.action(
        permissions=["export_learner_data"], description=gettext_lazy("Export learner data (JSON)")
    )
    def export_learner_data(self, request: HttpRequest, queryset: QuerySet[User]):
        _require(request, EXPORT_LEARNER_DATA)
        learner = _one_learner(self, request, queryset, _("Select exactly one learner to export."))
        if learner is None:
            return None
        response = HttpResponse(
            privacy.render(privacy.learner_export(learner)),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="learner-{learner.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(permissions=["erase_learner"], description=gettext_lazy("Erase learner…"))
    def erase_learner(self, request: HttpRequest, queryset: QuerySet[User]):
        _require(request, ERASE_LEARNER)
        learner = _one_learner(self, request, queryset, _("Select exactly one learner to erase."))
        if learner is None:
            return None
        try:
            if request.POST.get(CONFIRMED) == "yes":
                record = privacy.erase_learner(
                    learner, actor=request.user, source=AccessChange.Source.ADMIN
                )
                self.message_user(
                    request,
                    _(
                        "Erased learner %(learner)s: e-mail and names replaced, log-in and API "
                        "keys disabled, %(count)s audit reasons blanked. Erasure record "
                        "%(record)s."
                    )
                    % {
                        "learner": learner.pk,
                        "count": record.counts["audit_reasons_blanked"],
                        "record": record.pk,
                    },
                    level=messages.SUCCESS,
                )
                return None
            counts = privacy.erasure_preview(learner, actor=request.user)
        except privacy.ErasureRefused as refused:
            self.message_user(request, refused.translated(), level=messages.ERROR)
            return None
        return TemplateResponse(
            request,
            ERASE_TEMPLATE,
            {
                **self.admin_site.each_context(request),
                "title": _("Erase learner"),
                "opts": self.model._meta,
                "learner": learner,
                "erased": [(_label(k), n) for k, n in counts.items() if not _kept(k)],
                "kept": [(_label(k), n) for k, n in counts.items() if _kept(k)],
                "action": "erase_learner",
                "confirmed_field": CONFIRMED,
            },
        )


def _label(count_name: str) -> str:
    """A count's label (privacy.LABELS) in the staff member's language."""
    return translated(str(privacy.LABELS[count_name])) or ""


def _kept(count_name: str) -> bool:
    return count_name.endswith("_kept")


@admin.register(Erasure)
class ErasureAdmin(ReadOnly, admin.ModelAdmin):
    """The erasures' records: read-only for everyone (written by enrollments/privacy only)."""

    list_display = ("performed", "kind", "learner_ref", "actor_ref", "source", "summary")
    list_filter = ("kind", "source")
    list_select_related = ("actor",)
    readonly_fields = ("kind", "learner_ref", "actor_ref", "source", "performed", "counts")
    fields = readonly_fields

    @admin.display(description=gettext_lazy("when"), ordering="performed_at")
    def performed(self, record: Erasure) -> str:
        return format_instant(record.performed_at)

    @admin.display(description=gettext_lazy("learner (id)"))
    def learner_ref(self, record: Erasure) -> str:
        return str(record.learner_id) if record.learner_id else "-"

    @admin.display(description=gettext_lazy("erased by"))
    def actor_ref(self, record: Erasure) -> str:
        if record.actor_id is None:
            if record.kind == Erasure.Kind.RETENTION:
                # Translators: who erased: the retention sweep, no person.
                return _("system")
            return _("command (no actor)")
        return format_html("{} <small>({})</small>", record.actor.email, record.actor_id)

    # Translators: a column: what an erasure did (counts).
    @admin.display(description=gettext_lazy("what"))
    def summary(self, record: Erasure) -> str:
        counts = record.counts
        if record.kind == Erasure.Kind.RETENTION:
            return _(
                "%(audit)s audit reasons and %(runs)s run reasons older than %(days)s days blanked"
            ) % {
                "audit": counts.get("audit_reasons_blanked", 0),
                "runs": counts.get("run_reasons_blanked", 0),
                "days": counts.get("retention_days"),
            }
        return _("%(blanked)s of %(kept)s audit reasons blanked, %(keys)s API keys revoked") % {
            "blanked": counts.get("audit_reasons_blanked", 0),
            "kept": counts.get("audit_rows_kept", 0),
            "keys": counts.get("api_keys_revoked", 0),
        }
