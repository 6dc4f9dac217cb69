"""The API tests' fixtures (tests/graphql/conftest.py), shared with the hardening tests."""

from tests.graphql.conftest import api, make_key, manager, student, viewer  # noqa: F401
