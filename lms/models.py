"""Users, courses and their ordered items: what learners enroll in."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from enrollments.fastpaths.model_loading import LoadedWithoutInit
from enrollments.permissions import ERASE_LEARNER, EXPORT_LEARNER_DATA, MANAGE_COURSE_ROLES
from lms.control_characters import refuse_control_characters
from lms.language import validate_language


class UserManager(BaseUserManager["User"]):
    """Creates users keyed by e-mail; the e-mail is normalised so look-ups stay case-insensitive."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> "User":
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str) -> "User":
        # Log-in is case-insensitive, matching the unique index on lower(email).
        return self.get(email__iexact=username)


class User(LoadedWithoutInit, AbstractBaseUser, PermissionsMixin):
    """A learner or a staff member. Logs in with an e-mail address (unique, case-insensitive).

    A person's name is kept as first and last name (both optional), as the APIs' clients read it
    (`first_name`, `last_name`, `full_name`). `name` is the one display name every door shows:
    the full name, or the e-mail address for someone who gave no name.
    """

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    first_name = models.CharField(_("first name"), max_length=255, blank=True)
    last_name = models.CharField(_("last name"), max_length=255, blank=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text=_(
            "The IANA time zone the admin shows this staff member's dates in (e.g. "
            "Europe/Berlin); empty: not chosen yet, dates in UTC."
        ),
        verbose_name=_("time zone"),
    )
    # The language this person reads (lms.language): the admin's for a staff member (over the
    # browser's), the reminder e-mails' for a learner. Blank: the browser's language in the
    # admin, LANGUAGE_CODE in e-mails. No `choices` here: a migration would then follow
    # settings.LANGUAGES; the validator and the forms refuse a language not offered.
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        default="",
        validators=[validate_language],
        help_text=_(
            "The language of the admin's pages and of the e-mails to this person; empty: the "
            "browser's language in the admin, the site's default in e-mails."
        ),
    )
    is_staff = models.BooleanField(
        default=False,
        help_text=_("Designates whether the user can log into the admin site."),
        verbose_name=_("is staff"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="lms_user_email_ci_unique"),
        ]
        # The learner's data (enrollments/privacy.py), named in enrollments/permissions.py.
        permissions = [(p.codename, p.label) for p in (EXPORT_LEARNER_DATA, ERASE_LEARNER)]

    def __str__(self) -> str:
        return self.email

    @property
    def full_name(self) -> str:
        """First and last name, as far as given; empty when neither is."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def name(self) -> str:
        """The display name: the full name, else the e-mail address (never empty)."""
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Course(LoadedWithoutInit, models.Model):
    """A course. `access_days` is the default access length for new enrollments (null: forever)."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    slug = models.SlugField(max_length=100, unique=True, verbose_name=_("slug"))
    # No control characters (line breaks, tabs, escapes): the title goes into e-mail subjects and
    # onto terminals. The validator is the model's, so every form and full_clean refuses them;
    # titles stored before it are rendered safely where they are shown.
    title = models.CharField(
        max_length=255, validators=[refuse_control_characters], verbose_name=_("title")
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    access_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Days of access given to new enrollments (1-3650); empty means indefinite."),
        verbose_name=_("access days"),
    )
    pause_freezes_access = models.BooleanField(
        default=True,
        help_text=_(
            "When on, time spent paused is added back to the learner's end date on resume."
        ),
        verbose_name=_("pause freezes access"),
    )
    # Limits on what the course's staff (CourseRole.Role.STAFF) may do; managers and global
    # staff are not limited (enrollments/operations/limits.py applies them, at every door).
    staff_max_extension_days = models.PositiveIntegerField(
        _("most days staff may add"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_(
            "The most days one change by the course's staff may add to a learner's access, "
            "counted from the current end (or from now when access has ended): so also the "
            "latest end they may set. Empty: no limit."
        ),
    )
    staff_reason_required = models.BooleanField(
        _("staff must give a reason"),
        default=False,
        help_text=_("When on, every access change by the course's staff needs a reason."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["title"]
        constraints = [
            # Between one day and ten years: a longer default would soon run into the 2038 limit
            # of enrollment end dates (see enrollments.access_window.MAX_ENDED_AT).
            models.CheckConstraint(
                condition=models.Q(access_days__isnull=True)
                | models.Q(access_days__gte=1, access_days__lte=3650),
                name="lms_course_access_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(staff_max_extension_days__isnull=True)
                | models.Q(staff_max_extension_days__gte=1, staff_max_extension_days__lte=3650),
                name="lms_course_staff_max_extension_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CourseItem(LoadedWithoutInit, models.Model):
    """One piece of a course's content; `position` orders the items within their course."""

    class Kind(models.TextChoices):
        LESSON = "lesson", _("Lesson")
        QUIZ = "quiz", _("Quiz")
        ASSIGNMENT = "assignment", _("Assignment")
        VIDEO = "video", _("Video")

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id")
    )
    # No index of its own: lms_courseitem_unique_position (course, position) leads with it.
    course = models.ForeignKey(
        Course,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,
        verbose_name=_("course"),
    )
    title = models.CharField(max_length=255, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.LESSON, verbose_name=_("kind")
    )
    # The API exposes `position` as a 32-bit GraphQL Int; SQLite would store more.
    position = models.PositiveIntegerField(
        validators=[MaxValueValidator(2**31 - 1)], verbose_name=_("position")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("course item")
        verbose_name_plural = _("course items")
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "position"], name="lms_courseitem_unique_position"
            ),
            models.CheckConstraint(
                condition=models.Q(position__lte=2**31 - 1), name="lms_courseitem_position_int32"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class CourseRole(models.Model):
    """A user's role in one course: what they may do there, and only there (issue 25).

    Each role maps to permissions named in enrollments/permissions.py (ROLE_PERMISSIONS);
    Django's global permissions keep meaning "in every course". One role per user and course:
    a manager may do everything staff may. Assigned in the admin (inline on the course and on
    the user) and by `manage.py course_roles`, by people holding MANAGE_COURSE_ROLES.
    """

    class Role(models.TextChoices):
        STAFF = "staff", pgettext_lazy("course role", "Staff")
        MANAGER = "manager", pgettext_lazy("course role", "Manager")

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    # No index of its own: lms_courserole_unique (user, course) leads with it.
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="course_roles",
        db_index=False,
        verbose_name=_("user"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="roles", verbose_name=_("course")
    )
    role = models.CharField(max_length=16, choices=Role.choices, verbose_name=_("role"))
    granted_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("granted at")
    )
    granted_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("granted by"),
    )

    class Meta:
        verbose_name = _("course role")
        verbose_name_plural = _("course roles")
        ordering = ["course", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="lms_courserole_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["staff", "manager"]), name="lms_courserole_role"
            ),
        ]
        permissions = [(MANAGE_COURSE_ROLES.codename, MANAGE_COURSE_ROLES.label)]

    def __str__(self) -> str:
        # Translators: "ann@example.com is staff of Python basics" (the role in lower case).
        return gettext("%(user)s is %(role)s of %(course)s") % {
            "user": self.user,
            "role": self.get_role_display().lower(),
            "course": self.course,
        }


class CourseRoleChange(models.Model):
    """One grant, change or revoke of a course role: who, where, from what to what, by whom,
    through which door, when (issue 25's record of role changes).

    Written by lms/roles.py only, in the transaction that changes the role, so a role change
    and its record commit or roll back together; read-only in the admin. A revoke deletes the
    CourseRole row, so this is where a former role is remembered. No free text (every text
    column is an enumeration): an erasure keeps the facts, the learner appears by key only.
    """

    class Action(models.TextChoices):
        GRANT = "grant", pgettext_lazy("course role change", "Grant")
        CHANGE = "change", pgettext_lazy("course role change", "Change")
        REVOKE = "revoke", pgettext_lazy("course role change", "Revoke")

    class Source(models.TextChoices):
        ADMIN = "admin", pgettext_lazy("where a change came from", "Admin")
        COMMAND = "command", pgettext_lazy("where a change came from", "Command")

    id = models.BigAutoField(primary_key=True, verbose_name=_("id"))
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="course_role_changes", verbose_name=_("user")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="role_changes", verbose_name=_("course")
    )
    action = models.CharField(max_length=16, choices=Action.choices, verbose_name=_("action"))
    # "" where there is none: no old role on a grant, no new one on a revoke.
    old_role = models.CharField(
        max_length=16, choices=CourseRole.Role.choices, blank=True, verbose_name=_("old role")
    )
    new_role = models.CharField(
        max_length=16, choices=CourseRole.Role.choices, blank=True, verbose_name=_("new role")
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    source = models.CharField(max_length=16, choices=Source.choices, verbose_name=_("source"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("course role change")
        verbose_name_plural = _("course role changes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action="grant", old_role="", new_role__in=["staff", "manager"])
                | models.Q(
                    action="change",
                    old_role__in=["staff", "manager"],
                    new_role__in=["staff", "manager"],
                )
                | models.Q(action="revoke", old_role__in=["staff", "manager"], new_role=""),
                name="lms_courserolechange_roles",
            ),
        ]

    def __str__(self) -> str:
        # Translators: "Grant of ann@example.com's role in Python basics".
        return gettext("%(action)s of %(user)s's role in %(course)s") % {
            "action": self.get_action_display(),
            "user": self.user,
            "course": self.course,
        }
