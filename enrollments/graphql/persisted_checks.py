"""`manage.py check` for the trusted documents (persisted.py): the switch on without a manifest,
or a manifest that cannot be loaded, is an error before any request is served, instead of a 500
on every request of a server started without running the checks."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def check_persisted_query_manifest(**_kwargs) -> list[checks.CheckMessage]:
    from enrollments.graphql.persisted import config, load_manifest

    if not hasattr(settings, "GRAPHQL_PERSISTED_QUERIES"):
        return []
    configured = config()
    if configured.trusted_only and not configured.manifest:
        return [
            checks.Error(
                "GRAPHQL_TRUSTED_DOCUMENTS is on but GRAPHQL_PERSISTED_QUERY_MANIFEST names no "
                "manifest: every GraphQL document would be refused.",
                id="enrollments.E101",
            )
        ]
    if configured.manifest:
        try:
            load_manifest(configured.manifest)
        except ImproperlyConfigured as error:
            return [checks.Error(str(error), id="enrollments.E102")]
    return []
