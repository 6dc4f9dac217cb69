"""Admin for enrollments and their audit trail. Importing the modules registers them."""

from enrollments.admin import access_changes, enrollment

__all__ = ["access_changes", "enrollment"]
