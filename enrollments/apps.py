from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = gettext_lazy("Course access")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Stored progress follows the courses' items (enrollments.signals).
        from enrollments import signals  # noqa: F401

        # The system checks of the GraphQL endpoint (deploy.md runs `check --deploy`): the
        # trusted-documents manifest (manage.py check), the response-size limit's steps of
        # graphql-core (check --deploy).
        from enrollments.graphql import persisted_checks, response_limit_check  # noqa: F401
