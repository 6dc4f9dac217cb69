"""Admin for enrollments, their audit trail and the background jobs. Importing the modules
registers them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from enrollments.admin import access_changes, enrollment, jobs, privacy, reminders, webhooks

# The site's name in the header and the page titles, instead of "Django administration".
admin.site.site_header = gettext_lazy("Course access")
admin.site.site_title = gettext_lazy("Course access admin")
# No navigation sidebar: at 1366 px it takes 300 px from the lists, pushing the status, source,
# reason and batch columns off screen. The breadcrumbs and the home page lead everywhere it did.
admin.site.enable_nav_sidebar = False

__all__ = ["access_changes", "enrollment", "jobs", "privacy", "reminders", "webhooks"]
