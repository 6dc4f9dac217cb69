"""`python -m bench.profile`: where the time of one API page goes, in this process.

Sends the benchmark's page of 100 with every field (bench.documents.MEMBERSHIP_PAGE) through
Django's test client (the same view, middleware and code path as gunicorn, minus the socket)
`--requests` times under cProfile, on a data set `python -m bench` built, and prints the
functions with the most time of their own, and the share of the total spent under a few
entry points (graphql-core's execution, the ORM, validation, parsing). Profiling slows Python
down unevenly: the shares are what to read, not the milliseconds.
"""

import argparse
import cProfile
import json
import pstats
import sys

from bench import environment

#: Entry points whose cumulative time is reported as a share of the whole request.
SPOTS = {
    # The whole execution of the operation, the GraphQL short path's field loop included when
    # that fast path is on (enrollments/fastpaths/graphql_short_path.py).
    "GraphQL execution: complete field values": (
        "graphql/execution/execute.py",
        "execute_operation",
    ),
    "Django ORM: fetch rows (SQL + model instances)": ("django/db/models/query.py", "_fetch_all"),
    "SQL execution (database and driver)": ("django/db/backends/utils.py", "_execute"),
    "validation": ("graphql/validation/validate.py", "validate"),
    "parsing": ("graphql/language/parser.py", "parse"),
    "API key authentication": ("apikeys/auth.py", "authenticate_api_key"),
    "permissions": ("apikeys/permission_cache.py", "load_permissions"),
    "scalar serialization": ("graphql/execution/execute.py", "complete_leaf_value"),
    "JSON response": ("graphene_django/views.py", "json_encode"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--database-url", default=environment.DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    environment.check_dedicated(args.database_url)
    environment.configure(args.database_url)

    import django

    django.setup()
    from django.test import Client

    from bench import fixtures
    from bench.documents import MEMBERSHIP_PAGE

    client = Client(HTTP_AUTHORIZATION=f"Bearer {fixtures.api_key()}")
    body = json.dumps({"query": MEMBERSHIP_PAGE, "variables": {"first": 100}})

    def page() -> None:
        response = client.post("/graphql/", data=body, content_type="application/json")
        assert response.status_code == 200 and b'"errors"' not in response.content

    for _ in range(5):  # warm: caches, connection, the key's first use
        page()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        page()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(value[3] for value in stats.stats.values())  # the outermost cumulative time
    print(f"{args.requests} pages, {1000 * total / args.requests:.1f} ms each under cProfile")  # noqa: T201
    for label, (path, name) in SPOTS.items():
        cumulative = sum(
            value[3]
            for (filename, _line, function), value in stats.stats.items()
            if filename.endswith(path) and function == name
        )
        print(f"  {100 * cumulative / total:5.1f}%  {label}")  # noqa: T201
    print()  # noqa: T201
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
