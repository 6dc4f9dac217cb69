from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Course access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Stored progress follows the courses' items (enrollments.signals).
        from enrollments import signals  # noqa: F401

        # The trusted-documents manifest's system check (manage.py check; deploy.md runs it).
        from enrollments.graphql import persisted_checks  # noqa: F401
