"""Background jobs: the tasks `manage.py db_worker` runs (django-tasks, its database backend).

The engine is Django's task framework (the django-tasks backport of Django 6's django.tasks) with
django-tasks-db: a job is a row of this database, queued with `task.enqueue(...)` (after the
commit that makes it meaningful: `transaction.on_commit`), taken by one worker with `SELECT ...
FOR UPDATE SKIP LOCKED`, run, and marked successful or failed with its traceback. The engine has
no retries and no schedules: a job that must be tried again queues itself with `run_after`, and
the state it works on lives in our own rows, so a lost or killed job is found and queued again
by whoever owns that state (for reminders: the sweep, enrollments/reminders.py).

A job's arguments are JSON (ids, numbers), never model instances: the row is read when the job
runs. Modules: reminders.py (the expiry reminders' send and sweep).
"""
