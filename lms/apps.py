from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "Learning content"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lms import (
            lookups,  # noqa: F401  registers pk__any_of
            pg_timestamps,
        )

        pg_timestamps.connect()
