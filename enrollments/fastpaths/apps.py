from django.apps import AppConfig
from django.core.signals import setting_changed
from django.dispatch import receiver


class FastPathsConfig(AppConfig):
    """The fast-path home as an app of its own, so that its checks run once every model is
    loaded (ready) and before the first request or command opens a connection."""

    name = "enrollments.fastpaths"
    label = "fastpaths"
    verbose_name = "Fast paths"

    def ready(self) -> None:
        from enrollments import fastpaths

        fastpaths.setup()


@receiver(setting_changed, dispatch_uid="fastpaths_setting_changed")
def _disabled_changed(*, setting: str, **_kwargs) -> None:
    if setting == "FASTPATHS_DISABLED":
        from enrollments import fastpaths

        fastpaths.apply_settings()
