"""Keeps the stored progress of enrollments true when a course's items change: a new item turns
completed learners back to in progress, a deleted one takes its completions with it (CASCADE).
Either way the course's enrollments are recounted in the same transaction."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from enrollments.progress.counts import course_recount_progress
from lms.models import CourseItem


@receiver(post_save, sender=CourseItem, dispatch_uid="enrollments_item_added")
def _item_added(sender, instance: CourseItem, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:  # raw: loaddata, whose fixtures carry their own counts
        course_recount_progress(course_id=instance.course_id)


@receiver(post_delete, sender=CourseItem, dispatch_uid="enrollments_item_deleted")
def _item_deleted(sender, instance: CourseItem, **kwargs) -> None:
    course_recount_progress(course_id=instance.course_id)
