"""`{% restore_end_url change course_id as url %}`: the URL of "Restore the end before this
change" for one row of an enrollment's history (enrollments/admin/correcting.py), or "" when
that change moved no end or the staff member may not apply the restoring operation in the
course. The enrollment page's history (includes/history_inline.html) asks it per row; the
permission is the core's scope, read once per request (operations.scope caches it on the user).
"""

from django import template

from enrollments.admin.correcting import restore_end_link

register = template.Library()


@register.simple_tag(takes_context=True)
def restore_end_url(context, change, course_id) -> str:
    request = context.get("request")
    if request is None or change is None:
        return ""
    return restore_end_link(request.user, change, course_id)
