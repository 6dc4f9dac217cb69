"""Creates an API key for a user and prints it, alone, on the last line of the output (scripts
can take it with `| tail -n 1`). The key is shown this once and never stored."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from apikeys.models import MAX_VALIDITY, APIKey, InvalidKeyRequest
from enrollments.management.selection import USAGE
from lms.command_options import TextCheckedCommand


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "Create an API key for the user with that e-mail; prints the key on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help=gettext("e-mail address of the key's user"))
        parser.add_argument("--name", default="", help=gettext("what the key is for"))
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help=gettext("optional validity in days (1 to %(days)d)") % {"days": MAX_VALIDITY.days},
        )

    def handle(self, *args, email: str, name: str, expires_in_days: int | None, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(
                gettext("No user with e-mail %(email)r.") % {"email": email}, returncode=USAGE
            )
        expires_at = None
        if expires_in_days is not None:
            try:
                expires_at = timezone.now() + timedelta(days=expires_in_days)
            except OverflowError:  # beyond the calendar, so outside any validity: refused below
                expires_at = (datetime.min if expires_in_days < 0 else datetime.max).replace(
                    tzinfo=UTC
                )
        try:
            api_key, raw_key = APIKey.objects.create_key(
                user=user, name=name, expires_at=expires_at
            )
        except InvalidKeyRequest as error:
            if error.field == "expires_at":
                raise CommandError(
                    gettext("--expires-in-days must be between 1 and %(days)d: %(error)s")
                    % {"days": MAX_VALIDITY.days, "error": error.message},
                    returncode=USAGE,
                ) from None
            if error.field == "name":  # the option's value: a usage error, as argparse's are
                raise CommandError(f"--name: {error.message}", returncode=USAGE) from None
            raise CommandError(error.message) from None
        values = {"prefix": api_key.prefix, "email": user.email}
        if expires_at:
            values["expires"] = f"{expires_at:%Y-%m-%dT%H:%M:%SZ}"
            message = gettext(
                "Created API key %(prefix)s… for %(email)s, expires %(expires)s. Store it now: "
                "it is not shown again."
            )
        else:
            message = gettext(
                "Created API key %(prefix)s… for %(email)s. Store it now: it is not shown again."
            )
        self.stdout.write(message % values)
        self.stdout.write(raw_key)
