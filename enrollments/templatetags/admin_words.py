"""`{% counted sentence count %}`: a counted sentence of a preview page (issue 26 item 9), in
the staff member's language, the number in <strong>: `<strong>3</strong> enrollments will be
paused.` `sentence` is an `ngettext_lazy(singular, plural, "n")` with `%(count)s` (a page's
`will` or `unchanged`, confirming.OperationPage), so a translator sees the whole sentence and
each language picks its own plural form (enrollments.admin.display.counted_html)."""

from django import template
from django.utils.safestring import SafeString

from enrollments.admin.display import counted_html

register = template.Library()


@register.simple_tag
def counted(sentence, count) -> SafeString:
    return counted_html(sentence, int(count or 0))
