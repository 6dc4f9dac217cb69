from tests.commands.conftest import *  # noqa: F403  (run_command, snapshot)
from tests.graphql.conftest import *  # noqa: F403  (api, make_key, manager, grant, ...)
