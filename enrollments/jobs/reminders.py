"""The expiry reminders' jobs: one send per claimed reminder, and the sweep as a job.

The logic is enrollments/reminders.py's; these are the doors the worker comes through. Both
return a small JSON summary, which the task's result keeps (django-tasks-db's admin shows it).
"""

from django_tasks import task

from enrollments import reminders


@task()
def send_expiry_reminder(reminder_id: int) -> str:
    """Sends one claimed reminder (queued by the sweep after its claim commits, and by itself
    with `run_after` for a retry); returns what it did (reminders.SendOutcome)."""
    return reminders.send(reminder_id).value


@task()
def sweep_expiry_reminders(within_days: int) -> dict[str, int]:
    """The sweep of `notify_expiring --within DAYS`, for a scheduler that queues jobs. A window
    the sweep refuses (0, a billion days, "7") fails the job with ValueError, nothing written."""
    result = reminders.sweep(within=reminders.window_of_days(within_days))
    return {
        "queued": len(result.queued),
        "already_claimed": len(result.already_claimed),
        "busy": len(result.busy),
        "requeued": len(result.requeued),
        "failed": len(result.failed),
    }
