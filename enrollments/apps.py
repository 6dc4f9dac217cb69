from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = gettext_lazy("Course access")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Stored progress follows the courses' items (enrollments.signals).
        from enrollments import signals  # noqa: F401

        # The trusted-documents manifest's system check (manage.py check; deploy.md runs it).
        from enrollments.graphql import persisted_checks  # noqa: F401
