from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ApiKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = gettext_lazy("API keys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Empties the per-key permission cache when permissions change.
        from apikeys import permission_cache  # noqa: F401
