"""Who a log-in attempt comes from, as django-axes counts it (settings: the AXES_* block;
docs/deploy.md "Log-in throttling").

axes locks out an account (the e-mail typed) and an address (the client's IP) after
AXES_FAILURE_LIMIT failures each. Both names must be the ones the rest of the project uses:

- the address is the API rate limit's `client_address` (REMOTE_ADDR, or behind
  TRUSTED_PROXY_COUNT proxies the matching X-Forwarded-For entry), so that one setting says
  where every client address comes from. axes stores it in an IP address column: a value that
  is no IP address (a misconfigured proxy count lets a client write that entry) is not stored;
  REMOTE_ADDR, set by the server, is used instead;
- the account is the e-mail as log-in reads it: case-insensitively (lms.models.UserManager), so
  `Admin@Example.com` and `admin@example.com` share one counter and an attacker cannot get ten
  more guesses by changing the case.
"""

import ipaddress

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.http import HttpRequest


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address (AXES_CLIENT_IP_CALLABLE); None when the request has none."""
    from apikeys.ratelimit import client_address as rate_limit_address  # noqa: PLC0415 - apps load

    return _ip(rate_limit_address(request)) or _ip(request.META.get("REMOTE_ADDR"))


def account(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a log-in attempt names (AXES_USERNAME_CALLABLE): its e-mail, lower-cased."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username")
    return username.lower() if isinstance(username, str) else None


def register_admin(site: admin.AdminSite) -> None:
    """axes' admin pages (its AXES_ENABLE_ADMIN is off so that they are registered here), with
    the project's drill-down by date that answers a page, not a 500, at year 9999
    (enrollments.admin.date_drilldown). Access attempts are where staff unlock: deleting an
    attempt row (the permission "Can delete access attempt") lifts its lock."""
    from enrollments.admin.date_drilldown import DateDrilldownMixin  # noqa: PLC0415

    for model, model_admin in (
        (AccessAttempt, axes_admin.AccessAttemptAdmin),
        (AccessLog, axes_admin.AccessLogAdmin),
        (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
    ):
        site.register(model, type(model_admin.__name__, (DateDrilldownMixin, model_admin), {}))
