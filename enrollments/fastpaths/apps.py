from django.apps import AppConfig
from django.core import checks
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


@checks.register(deploy=True)
def check_deferred_fast_paths(**_kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy` (docs/deploy.md runs it) imports the DEFERRED fast paths too,
    which checks them: a mismatch is logged there, as at the web server's start-up, rather than
    at the first request of a server started without it. Only with --deploy: every other
    command runs the system checks, and would pay the import this deferral saves."""
    from enrollments import fastpaths

    fastpaths.load()
    return []


@receiver(setting_changed, dispatch_uid="fastpaths_setting_changed")
def _disabled_changed(*, setting: str, **_kwargs) -> None:
    if setting == "FASTPATHS_DISABLED":
        from enrollments import fastpaths

        fastpaths.apply_settings()
