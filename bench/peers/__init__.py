"""The peers of measurement 1: the same page served the way a developer would build it with
the common libraries instead of this API's keyset connection, from the benchmark's own server
(bench.urls), on the same data, measured interleaved with the API (bench.latency).

- `graphene`: graphene-django's DjangoFilterConnectionField, tuned as its documentation
  teaches (select_related, and the progress annotations of selectors.memberships_with_progress
  in the type's get_queryset);
- `strawberry`: strawberry-graphql-django's relay connection with its query optimizer
  (DjangoOptimizerExtension), over the same annotations. Optional (the `bench` extra): skipped
  when strawberry_django is not installed.

Neither is mounted in the app: only bench.urls serves them. Both page with OFFSET cursors,
which is what their connections do; neither authenticates (our API's figures include its API
key check).
"""

import importlib.util

from bench.peers import graphene_filter


def available() -> dict[str, object]:
    """{peer name: its module}, for the peers installed here."""
    peers: dict[str, object] = {"graphene": graphene_filter}
    if importlib.util.find_spec("strawberry_django") is not None:
        from bench.peers import strawberry_optimizer

        peers["strawberry"] = strawberry_optimizer
    return peers
