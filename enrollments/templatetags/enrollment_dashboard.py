"""`{% enrollment_dashboard %}`: the admin home's dashboard (enrollments/admin/dashboard.py),
rendered where config/templates/admin/index.html places it. A template tag rather than a
custom AdminSite: the project keeps Django's default site, and the home page's view stays
Django's own."""

from django import template

from enrollments.admin.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("admin/enrollments/dashboard.html", takes_context=True)
def enrollment_dashboard(context) -> dict:
    """The dashboard's context, or `{"dashboard": None}` (nothing shown) for staff who may
    not view enrollments."""
    return {"dashboard": dashboard(context["request"])}
