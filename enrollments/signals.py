"""Keeps the stored progress of enrollments true when a course's items change: a new item turns
completed learners back to in progress, a deleted one takes its completions with it (CASCADE).
Either way the course's enrollments are recounted in the same transaction. And cancels the
unfinished runs of a user being deleted (below)."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from enrollments.progress.counts import course_recount_progress
from lms.models import CourseItem


@receiver(post_save, sender=CourseItem, dispatch_uid="enrollments_item_added")
def _item_added(sender, instance: CourseItem, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:  # raw: loaddata, whose fixtures carry their own counts
        course_recount_progress(course_id=instance.course_id)


@receiver(pre_delete, sender=CourseItem, dispatch_uid="enrollments_item_deleting")
def _item_deleting(sender, instance: CourseItem, **kwargs) -> None:
    """Locks the item before its completions are deleted (Django sends this before it runs
    any of the deletion's statements, in their transaction). A completion in flight holds the
    item (progress/completing.py `lock_item`): the deletion waits here for it to commit, then
    deletes its completion with the others. Unlocked, the completions were deleted first, the
    deletion then waited at the item's row, and the completion committed meanwhile failed the
    deletion's foreign key at its commit."""
    list(CourseItem.objects.select_for_update().filter(pk=instance.pk).values_list("pk"))


@receiver(post_delete, sender=CourseItem, dispatch_uid="enrollments_item_deleted")
def _item_deleted(sender, instance: CourseItem, **kwargs) -> None:
    course_recount_progress(course_id=instance.course_id)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="enrollments_actor_deleted")
def _actor_deleted(sender, instance, **kwargs) -> None:
    """A run's actor is SET_NULL when they are deleted, and a run without an actor is the
    system's (every course, no limit): a chunk taken after the deletion would act where its
    author never could. Their runs not over yet are cancelled first (a running one stops at
    its next chunk, acting as nobody meanwhile: scope.actor_now); drafts are left to their
    own clean-up."""
    from enrollments.models import OperationRun
    from enrollments.operations import runs

    unfinished = OperationRun.objects.filter(actor=instance, finished_at__isnull=True).exclude(
        state=OperationRun.State.PREVIEWED
    )
    for run_id in unfinished.values_list("pk", flat=True):
        runs.cancel(run_id)
