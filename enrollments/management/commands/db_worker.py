"""`manage.py db_worker`: django-tasks-db's job worker, stopped by a signal only between steps.

django-tasks-db 0.13 ends the worker with `sys.exit()` from inside its signal handler, wherever
the worker is. A SIGTERM (systemd stops workers with it on every deploy, the Procfile's
supervisors too) that lands while the worker waits on PostgreSQL, in its poll's SELECT or the
claim's COMMIT, raises `SystemExit` inside psycopg; Django's atomic block then cannot restore
autocommit on a connection with a statement in flight, and the worker exits 1 with a traceback,
once the claim may already have committed (upstream's open issue
RealOrangeOne/django-tasks-db#61; seen here in about one stop in fifteen under load). Nothing
is lost: a run's and a reminder's state are our own rows, and `jobs sweep` queues again what a
vanished worker held. But a stop must not read as a crash.

So the first signal here only asks the loop to stop, as upstream's issue proposes: the worker
ends the statement it waits on, runs the job it claimed (as upstream does on a signal during a
job) or ends its wait (at most `--interval`), and exits 0. A second signal still ends it at once,
upstream's way (the running job is marked failed). Same name, same options: Django runs the
command of the app listed first (`enrollments` comes before `django_tasks_db`), so the Procfile,
docs/deploy.md's unit and the docs' examples run this one; a test checks that the options are
still upstream's.
"""

import logging
import os
import signal
from types import FrameType

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django.utils.translation import gettext, gettext_lazy
from django_tasks_db.management.commands import db_worker as upstream

from lms.command_options import TranslatedCommand

logger = logging.getLogger("django_tasks_db")


class Worker(upstream.Worker):
    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        """The first signal clears `running`; the loop checks it after each step. The second
        is upstream's immediate exit.

        `running` is cleared before the message is logged: a second signal can arrive while
        the first is being logged (Python runs its handler inside this one, at the next
        bytecode), and it must find the first one's mark, or it is taken for a first signal
        too and the worker goes on waiting (seen in CI: SIGTERM twice, "stopping after the
        current step" logged twice, a worker that never stopped)."""
        if not self.running:
            super().shutdown(signum, frame)
            return
        self.running = False
        logger.warning(
            "Received %s - stopping after the current step (press Ctrl+C again to force)",
            signal.strsignal(signum),
        )


class Command(TranslatedCommand, upstream.Command):
    help = gettext_lazy(
        "Run the job worker (django-tasks-db's database worker): it takes the queued jobs one at "
        "a time. SIGTERM or Ctrl-C stops it after the current step; a second one at once."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: dict,
    ) -> None:
        """Upstream's `handle` with this module's `Worker`."""
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning(
                "Warning: --reload and --batch cannot be specified together. Disabling autoreload."
            )
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError(gettext("--exclude-queues can only be used with --queue-name=*"))
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if not reload:
            worker.configure_signals()
            worker.run()
            return
        if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            worker.configure_signals()  # only the reloader's child handles the signals
        run_with_reloader(worker.run)
