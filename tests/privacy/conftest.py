"""Fixtures of tests/privacy: the learner with a full history (helpers.build_history)."""

import pytest

from tests.commands.conftest import run_command
from tests.privacy.helpers import History, build_history


@pytest.fixture
def history(db, clock) -> History:
    """See helpers.build_history."""
    return build_history(clock)


@pytest.fixture
def run(db):
    """Runs a management command as manage.py would (tests/commands/conftest.py)."""
    return run_command
