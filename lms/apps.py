from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = gettext_lazy("Learning content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lms import (
            lookups,  # noqa: F401  registers pk__any_of
            pg_timestamps,
        )

        pg_timestamps.connect()
