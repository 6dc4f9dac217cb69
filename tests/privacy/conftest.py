"""Fixtures of tests/privacy: the learner with a full history (helpers.build_history)."""

import pytest

from tests.privacy.helpers import History, build_history


@pytest.fixture
def history(db, clock) -> History:
    """See helpers.build_history."""
    return build_history(clock)
