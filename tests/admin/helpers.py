"""Posting admin actions and the preview/confirm pages' forms the way the browser does, and the
project's own admin pages (the every-page axe test's and the German pages' list)."""

from django.apps import apps
from django.contrib import admin
from django.urls import reverse

CHANGELIST = "admin:enrollments_enrollment_changelist"
EXTEND = "admin:enrollments_enrollment_extend_access"


def changelist_url(query: str = "") -> str:
    url = reverse(CHANGELIST)
    return f"{url}?{query}" if query else url


def post_action(client, action: str, ids=(), *, select_across: bool = False, query: str = ""):
    """Submits the changelist's action form, as the "Go" button does."""
    data = {
        "action": action,
        "index": "0",
        "select_across": "1" if select_across else "0",
        "_selected_action": [str(pk) for pk in ids],
    }
    return client.post(changelist_url(query), data)


def hidden_fields(response) -> list[tuple[str, str]]:
    """The fields carrying a page's changelist choice (name, value)."""
    return list(response.context["scope"].hidden_fields)


def extend_form_data(response, **fields) -> dict:
    """The page's hidden selection fields plus the form fields given."""
    data: dict = {}
    for name, value in hidden_fields(response):
        data.setdefault(name, []).append(value)
    data.setdefault("mode", "days")
    data.setdefault("time_zone", "UTC")
    data.update(fields)
    return data


def preview(client, page, url=None, **fields):
    """Posts the form with "Preview"; returns the preview page."""
    data = extend_form_data(page, _preview="Preview", **fields)
    return client.post(url or reverse(EXTEND), data)


def confirm(client, preview_page, url=None, **fields):
    """Posts the previewed form with "Confirm" and the previewed plan's fingerprint."""
    previewed = {
        "_confirm": "Confirm",
        "fingerprint": preview_page.context["fingerprint"],
        "previewed": preview_page.context.get("previewed", ""),
    }
    data = extend_form_data(preview_page, **{**previewed, **fields})
    return client.post(url or reverse(EXTEND), data)


def confirm_page(client, page, reason: str = "", *, fingerprint: str | None = None, **extra):
    """Presses Confirm on a page without parameters (enrollments/admin/confirming.py): its
    hidden fields, the reason and the previewed plan's fingerprint, posted where its form
    posts."""
    context = page.context
    data: dict = {}
    for name, value in context["scope"].hidden_fields:
        data.setdefault(name, []).append(value)
    data.update(
        _confirm="Confirm",
        fingerprint=context["fingerprint"] if fingerprint is None else fingerprint,
        previewed=context.get("previewed", ""),
        reason=reason,
        **extra,
    )
    return client.post(context["scope"].form_url, data)


def no_roles(prefix: str) -> dict:
    """The management form of an empty course-role inline (lms/admin.py), as the page posts it."""
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


#: The apps whose admin pages are the project's own; Django's Group admin is replaced by lms.
PROJECT_APPS = {"lms", "enrollments", "apikeys"}


def project_models():
    """Every model whose admin pages are the project's own: those of PROJECT_APPS registered in
    the admin, and Django's groups (whose admin lms replaces)."""
    for model in apps.get_models():
        if not admin.site.is_registered(model):
            continue
        meta = model._meta
        if meta.app_label in PROJECT_APPS or (meta.app_label, meta.model_name) == ("auth", "group"):
            yield model


def pages_of(model) -> list[str]:
    """The model's list, the change page of its first row (if any) and its add page."""
    meta = model._meta
    name = f"admin:{meta.app_label}_{meta.model_name}"
    pages = [reverse(f"{name}_changelist")]
    instance = model._default_manager.order_by("pk").first()
    if instance is not None:
        pages.append(reverse(f"{name}_change", args=[instance.pk]))
    pages.append(reverse(f"{name}_add"))  # a read-only admin answers it 403
    return pages
