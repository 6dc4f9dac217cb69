"""The test suite's settings: the app's own, read with DEBUG=true unless the environment says
otherwise.

The app's settings default to production (DEBUG off, SECRET_KEY required); the suite needs the
development defaults, so `make test` and a bare `python -m pytest` both work from a fresh clone.
Django's test runner still runs every test with settings.DEBUG False. Subprocesses started by
tests (manage.py, gunicorn) inherit the variable; the tests of production settings remove it.
"""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: E402, F403

# Every anonymous request of the suite comes from 127.0.0.1 and counts in the process's
# local-memory cache, so they would share one budget across tests (and refuse the 61st request
# of a minute in whichever test it falls): off here; tests/hardening/test_anonymous_rate_limit.py
# sets a budget in a cache of its own.
RATE_LIMIT = {**RATE_LIMIT, "ANONYMOUS": 0}  # noqa: F405
