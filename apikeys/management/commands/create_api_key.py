"""Creates an API key for a user and prints it, alone, on the last line of the output (scripts
can take it with `| tail -n 1`). The key is shown this once and never stored."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys.models import MAX_VALIDITY, APIKey, InvalidKeyRequest
from lms.command_options import TextCheckedCommand


class Command(TextCheckedCommand):
    help = "Create an API key for the user with that e-mail; prints the key on the last line."

    def add_arguments(self, parser):
        parser.add_argument("email", help="e-mail address of the key's user")
        parser.add_argument("--name", default="", help="what the key is for")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help=f"optional validity in days (1 to {MAX_VALIDITY.days})",
        )

    def handle(self, *args, email: str, name: str, expires_in_days: int | None, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email!r}.")
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
                    f"--expires-in-days must be between 1 and {MAX_VALIDITY.days}: {error.message}"
                ) from None
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Created API key {api_key.prefix}… for {user.email}"
            + (f", expires {expires_at:%Y-%m-%dT%H:%M:%SZ}" if expires_at else "")
            + ". Store it now: it is not shown again."
        )
        self.stdout.write(raw_key)
