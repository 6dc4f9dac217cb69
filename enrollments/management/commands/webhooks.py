"""`manage.py webhooks`: webhook endpoints in the terminal, through enrollments/events/endpoints.py
(the rules and messages the API and the admin use too).

    webhooks list
    webhooks create URL [--scheme standard|healthie] [--event-type TYPE ...] [--owner-email E]
                        [--description TEXT] [--disabled] [--no-retry]
    webhooks update ID [--url URL] [--event-type TYPE ... | --every-event-type] [--enable |
                        --disable] [--retry | --no-retry] [--owner-email E] [--description TEXT]
    webhooks delete ID
    webhooks rotate ID [--overlap-hours N]
    webhooks test ID
    webhooks resend DELIVERY
    webhooks replay ID --since ISO

`create` and `rotate` print the new secret, the only time it is shown. Event types are
`course_membership.created` / `.updated` / `.deleted` or Healthie's COURSE_MEMBERSHIP_CREATED
spelling; none means every type.

Exit statuses: 0 done; 1 the endpoint's state refuses it (the test event was not answered with a
2xx, resend or replay to a disabled endpoint); 2 usage errors (an unknown or malformed id, a
refused URL, an unknown event type or scheme, a bad option). Examples: docs/commands.md.
"""

from datetime import timedelta

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, gettext_lazy, ngettext

from enrollments.errors import DomainError
from enrollments.events import endpoints
from enrollments.management.output import (
    SOME_FAILED,
    error_message,
    format_instant,
    translated,
)
from enrollments.management.selection import USAGE, instant_argument
from enrollments.models import WebhookEndpoint
from lms.command_options import TextCheckedCommand
from lms.control_characters import terminal_safe

#: Domain errors that are the endpoint's state, not the operator's input (exit 1).
REFUSED_BY_STATE = (endpoints.WebhookDisabled,)


def event_types_text(endpoint: WebhookEndpoint) -> str:
    return ",".join(endpoint.event_types) or gettext("every event type")


class Command(TextCheckedCommand):
    help = gettext_lazy(
        "Webhook endpoints: list, create URL, update ID, delete ID, rotate ID (a new secret; the "
        "old one signs a day more), test ID (send a test event), resend DELIVERY, replay ID "
        "--since ISO. Exit status: 0 done, 1 refused by the endpoint's state or not delivered, "
        "2 usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help=gettext("every endpoint, oldest first"))

        create = actions.add_parser(
            "create", help=gettext("a new endpoint; prints its secret once")
        )
        create.add_argument(
            "url", metavar="URL", help=gettext("https URL that receives the events")
        )
        create.add_argument(
            "--scheme",
            default=WebhookEndpoint.Scheme.STANDARD,
            help=gettext("standard or healthie"),
        )
        create.add_argument("--disabled", action="store_true", help=gettext("create it disabled"))
        create.add_argument(
            "--no-retry", action="store_true", help=gettext("one attempt per event")
        )
        self._common(create)

        update = actions.add_parser("update", help=gettext("change an endpoint"))
        update.add_argument("endpoint", metavar="ID")
        update.add_argument("--url", help=gettext("the new URL"))
        update.add_argument(
            "--every-event-type", action="store_true", help=gettext("receive every event type")
        )
        enabled = update.add_mutually_exclusive_group()
        enabled.add_argument("--enable", action="store_true", dest="enable")
        enabled.add_argument(
            "--disable",
            action="store_true",
            help=gettext("disable it (pending deliveries are cancelled)"),
        )
        retry = update.add_mutually_exclusive_group()
        retry.add_argument("--retry", action="store_true", help=gettext("retry failed deliveries"))
        retry.add_argument("--no-retry", action="store_true", help=gettext("one attempt per event"))
        self._common(update)

        for name, text in (
            ("delete", gettext("delete an endpoint with its delivery log")),
            ("test", gettext("send a test event now; prints the receiver's answer")),
        ):
            action = actions.add_parser(name, help=text)
            action.add_argument("endpoint", metavar="ID")
        rotate = actions.add_parser("rotate", help=gettext("a new secret; prints it once"))
        rotate.add_argument("endpoint", metavar="ID")
        rotate.add_argument(
            "--overlap-hours",
            type=float,
            default=None,
            help=gettext(
                "hours the old secret keeps signing (default 24; none for Healthie's scheme, "
                "whose sample verifier reads one signature; 0: stops at once)"
            ),
        )
        resend = actions.add_parser("resend", help=gettext("send one delivery again"))
        resend.add_argument("delivery", metavar="DELIVERY", help=gettext("the delivery's id"))
        replay = actions.add_parser(
            "replay", help=gettext("send every event since an instant again")
        )
        replay.add_argument("endpoint", metavar="ID")
        replay.add_argument(
            "--since",
            type=instant_argument,
            required=True,
            help=gettext("ISO 8601 date or date-time"),
        )

    @staticmethod
    def _common(parser: CommandParser) -> None:
        parser.add_argument(
            "--event-type",
            action="append",
            dest="event_types",
            metavar="TYPE",
            help=gettext(
                "course_membership.created / .updated / .deleted (repeat; none: every type)"
            ),
        )
        parser.add_argument(
            "--owner-email", help=gettext("who is e-mailed when deliveries keep failing")
        )
        parser.add_argument("--description", help=gettext("what the endpoint is for"))

    def handle(self, *args, **options) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as error:
            status = SOME_FAILED if isinstance(error, REFUSED_BY_STATE) else USAGE
            raise CommandError(
                f"{error_message(error)} ({error.code})", returncode=status
            ) from None

    # -- actions --------------------------------------------------------------------------

    def _list(self, options) -> None:
        rows = list(endpoints.search().order_by("created_at", "id"))
        if not rows:
            self.stdout.write(gettext("No webhook endpoints."))
            return
        header = (
            gettext("id"),
            gettext("enabled"),
            gettext("scheme"),
            gettext("event types"),
            gettext("url"),
            gettext("description"),
        )
        table = [header] + [
            (
                str(endpoint.pk),
                gettext("yes") if endpoint.is_enabled else gettext("no"),
                endpoint.scheme,
                event_types_text(endpoint),
                terminal_safe(endpoint.url),
                terminal_safe(endpoint.description) or "-",
            )
            for endpoint in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())

    def _create(self, options) -> None:
        made = endpoints.create(
            options["url"],
            scheme=options["scheme"],
            event_types_=options["event_types"] or (),
            is_enabled=not options["disabled"],
            should_retry=not options["no_retry"],
            description=options["description"] or "",
            owner_email=options["owner_email"] or "",
        )
        endpoint = made.endpoint
        values = {
            "id": endpoint.pk,
            "url": terminal_safe(endpoint.url),
            "scheme": endpoint.scheme,
            "event_types": event_types_text(endpoint),
        }
        if endpoint.is_enabled:
            message = gettext(
                "Created webhook %(id)s: %(url)s (%(scheme)s signatures, %(event_types)s)"
            )
        else:
            message = gettext(
                "Created webhook %(id)s: %(url)s (%(scheme)s signatures, %(event_types)s, disabled)"
            )
        self.stdout.write(message % values)
        self._secret(made.secret)

    def _update(self, options) -> None:
        changes: dict = {}
        if options["url"] is not None:
            changes["url"] = options["url"]
        if options["every_event_type"] and options["event_types"]:
            raise CommandError(
                gettext("--every-event-type and --event-type contradict each other"),
                returncode=USAGE,
            )
        if options["every_event_type"]:
            changes["event_types"] = []
        elif options["event_types"]:
            changes["event_types"] = options["event_types"]
        if options["enable"] or options["disable"]:
            changes["is_enabled"] = bool(options["enable"])
        if options["retry"] or options["no_retry"]:
            changes["should_retry"] = bool(options["retry"])
        for name in ("description", "owner_email"):
            if options[name] is not None:
                changes[name] = options[name]
        if not changes:
            raise CommandError(
                gettext(
                    "nothing to change: pass --url, --event-type, --every-event-type, --enable, "
                    "--disable, --retry, --no-retry, --owner-email or --description"
                ),
                returncode=USAGE,
            )
        endpoint = endpoints.update(options["endpoint"], **changes)
        self.stdout.write(
            gettext("Updated webhook %(id)s: %(url)s (%(enabled)s, %(retried)s, %(event_types)s)")
            % {
                "id": endpoint.pk,
                "url": terminal_safe(endpoint.url),
                "enabled": gettext("enabled") if endpoint.is_enabled else gettext("disabled"),
                "retried": gettext("retried") if endpoint.should_retry else gettext("one attempt"),
                "event_types": event_types_text(endpoint),
            }
        )

    def _delete(self, options) -> None:
        endpoint = endpoints.delete(options["endpoint"])
        self.stdout.write(
            gettext("Deleted webhook %(id)s: %(url)s")
            % {"id": endpoint.pk, "url": terminal_safe(endpoint.url)}
        )

    def _rotate(self, options) -> None:
        hours = options["overlap_hours"]
        if hours is not None and not (
            0 <= hours <= endpoints.MAX_ROTATION_OVERLAP.total_seconds() / 3600
        ):
            raise CommandError(
                f"--overlap-hours {hours:g}: "  # no words of its own
                f"{translated(endpoints.InvalidRotationOverlap.message)}",
                returncode=USAGE,
            )
        overlap = None if hours is None else timedelta(hours=hours)  # None: the scheme's default
        rotated = endpoints.rotate(options["endpoint"], overlap=overlap)
        endpoint = rotated.endpoint
        if endpoint.previous_secret_expires_at is not None:
            until = format_instant(endpoint.previous_secret_expires_at)
            self.stdout.write(
                gettext(
                    "Rotated the secret of webhook %(id)s; the old one signs too until %(until)s."
                )
                % {"id": endpoint.pk, "until": until}
            )
        else:
            self.stdout.write(
                gettext("Rotated the secret of webhook %(id)s; the old one signs no more.")
                % {"id": endpoint.pk}
            )
        self._secret(rotated.secret)

    def _test(self, options) -> None:
        answer = endpoints.send_test(options["endpoint"])
        values = {
            "status": answer.status if answer.status is not None else gettext("no answer"),
            "ms": answer.latency_ms,
            "error": terminal_safe(answer.error) or gettext("not a 2xx answer"),
        }
        if answer.delivered:
            self.stdout.write(gettext("Test event: %(status)s in %(ms)s ms: delivered.") % values)
            return
        raise CommandError(
            gettext("Test event: %(status)s in %(ms)s ms: not delivered (%(error)s)") % values,
            returncode=SOME_FAILED,
        )

    def _resend(self, options) -> None:
        delivery = endpoints.resend(options["delivery"])
        values = {"id": delivery.pk, "event": delivery.event_id, "endpoint": delivery.endpoint_id}
        if endpoints.resent_message(delivery) == endpoints.LEFT_TO_ITS_SEND:
            said = gettext(
                "Delivery %(id)s of event %(event)s is being sent now to webhook %(endpoint)s: "
                "left to that send (delivered, or retried as usual)."
            )
        else:
            said = gettext(
                "Delivery %(id)s of event %(event)s queued again for webhook %(endpoint)s."
            )
        self.stdout.write(said % values)

    def _replay(self, options) -> None:
        since = options["since"]
        queued = endpoints.replay_since(options["endpoint"], since)
        self.stdout.write(
            ngettext(
                "Queued %(count)d deliveries of the events since %(since)s for webhook "
                "%(endpoint)s.",
                "Queued %(count)d deliveries of the events since %(since)s for webhook "
                "%(endpoint)s.",
                queued,
            )
            % {"count": queued, "since": format_instant(since), "endpoint": options["endpoint"]}
        )

    def _secret(self, secret: str) -> None:
        self.stdout.write(
            gettext("Signing secret (shown once, store it now): %(secret)s") % {"secret": secret}
        )
