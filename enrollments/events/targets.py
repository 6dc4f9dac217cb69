"""Which URLs may receive webhooks: no request of ours may reach the service's own network
(server-side request forgery). Checked when an endpoint is created or changed (`check_url`) and
again at every delivery (`resolve`: DNS can change), and the delivery connects to the very
address checked here (no second DNS lookup in between: docs/webhooks.md).

Refused (`UnsafeTarget`):
- a scheme other than `https` (`http` too while WEBHOOKS["REQUIRE_HTTPS"] is off: by default
  while DEBUG is on), credentials in the URL, no host, a path or query not in ASCII (to be
  percent-encoded);
- a host written as an IPv4 address in any form but four decimal numbers (`2130706433`,
  `0x7f.1`, `0177.0.0.1`, `127.1`): resolvers read them as addresses, readers do not; judged,
  like every check, on the host as the resolver reads it (IDNA: `０x7f000001` in full-width
  digits is `0x7f000001`), and a host with no IDNA form is not valid;
- a host any of whose addresses is not public: loopback, private (RFC 1918, unique-local
  fc00::/7, shared 100.64.0.0/10), link-local, multicast, unspecified, reserved, IPv4-mapped or
  -translated IPv6 (`::ffff:127.0.0.1`, 64:ff9b::/96), 6to4 and Teredo carrying such an address,
  and the cloud metadata addresses (METADATA) — every answer of the resolver is checked, so a
  name that resolves to one public and one private address is refused.

WEBHOOKS["ALLOW_PRIVATE_TARGETS"] (WEBHOOK_ALLOW_PRIVATE_TARGETS, off by default) allows
loopback, private and link-local addresses for development and tests; the metadata addresses,
multicast, unspecified and reserved ones stay refused.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from enrollments.errors import Phrase

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS's IPv6
#: fd00:ec2::254; Alibaba's 100.100.100.200): refused whatever the settings.
METADATA = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
#: IPv4 in IPv6: IPv4-mapped (::ffff:0:0/96) is checked through ipv4_mapped; these translate.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
SHARED = ipaddress.ip_network("100.64.0.0/10")


class TargetError(ValueError):
    """A URL that may not receive webhooks; `message` says why, for the person who gave it, in
    English (the API's answer, a delivery's stored error); `phrase` is the same words for the
    doors that translate them (`phrase.translated()`: the admin's webhook form)."""

    def __init__(self, phrase: Phrase) -> None:
        self.phrase = phrase
        self.message = str(phrase)
        super().__init__(self.message)


class UnsafeTarget(TargetError):
    """The URL, or an address its host resolves to, is refused (see the module's list)."""


class UnresolvableTarget(TargetError):
    """The host has no address (a typo, or DNS down): not refused for good, not reachable."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect (`addresses`, every one checked) and what to ask."""

    url: str
    scheme: str
    host: str
    port: int
    #: The request target: path (at least "/") and `?query` if any.
    path: str
    addresses: tuple[str, ...]


def check_url(url: str) -> Target:
    """Checks `url` as an endpoint's URL (its form, then every address its host resolves to);
    returns the checked target or raises TargetError (UnsafeTarget, UnresolvableTarget) whose
    `message` says why. The target's `host` is the host as the resolver reads it (resolver_host):
    what was checked is what is connected to and named in `Host` and TLS."""
    parts, host = _parse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = tuple(str(address) for address in _resolve(host, port))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(
        url=url, scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses
    )


def resolve(url: str) -> Target:
    """The check of every delivery: the same as check_url, run again (DNS can change)."""
    return check_url(url)


def _parse(url: str) -> tuple[SplitResult, str]:
    """The URL's parts and its host as the resolver reads it, or UnsafeTarget."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeTarget(Phrase(gettext_noop("Enter the URL that receives the webhooks.")))
    if any(ord(character) < 33 or ord(character) == 127 for character in url):
        raise UnsafeTarget(Phrase(gettext_noop("The URL contains spaces or control characters.")))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError as error:
        raise UnsafeTarget(
            Phrase(gettext_noop("The URL is not valid: %(error)s."), error=str(error))
        ) from error
    allowed = ("https",) if settings.WEBHOOKS["REQUIRE_HTTPS"] else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeTarget(
            Phrase(gettext_noop("The URL must start with https://."))
            if allowed == ("https",)
            else Phrase(gettext_noop("The URL must start with https:// or http://."))
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget(Phrase(gettext_noop("The URL may not contain a user name or password.")))
    if not (parts.path + parts.query).isascii():
        # http.client writes the request line in ASCII: every delivery would crash its job.
        raise UnsafeTarget(
            Phrase(
                gettext_noop(
                    "The URL's path and query must be ASCII: write other characters "
                    "percent-encoded."
                )
            )
        )
    if not parts.hostname:
        raise UnsafeTarget(Phrase(gettext_noop("The URL has no host.")))
    host = resolver_host(parts.hostname)
    if _is_encoded_ipv4(host):
        raise UnsafeTarget(
            Phrase(
                gettext_noop(
                    "The host %(host)s is an IPv4 address in an unusual form: write it as four "
                    "decimal numbers separated by dots."
                ),
                host=repr(host),
            )
        )
    return parts, host


def resolver_host(host: str) -> str:
    """`host` as getaddrinfo reads it: ASCII as it is, any other text in its IDNA form (Python's
    `idna` codec, nameprep's NFKC mapping included), so the checks judge what is resolved:
    `０x7f000001` (full-width digits) is the resolver's `0x7f000001`. A host with no IDNA form
    (an empty or overlong label, a prohibited character) is refused as not valid."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode()  # ASCII: IDNA's output is
    except UnicodeError as error:
        raise UnsafeTarget(
            Phrase(gettext_noop("The URL is not valid: %(error)s."), error=str(error))
        ) from error


def _is_encoded_ipv4(host: str) -> bool:
    """Whether a host that is no canonical IP address would still be read as an IPv4 address by
    the resolver (inet_aton's forms: one to four numbers, decimal, octal or hex)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return False
    try:
        socket.inet_aton(host)
    except (OSError, UnicodeError):  # UnicodeError: a host no codec can encode names no IPv4
        return False
    return True


def _resolve(host: str, port: int) -> list[Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise UnresolvableTarget(
                Phrase(
                    gettext_noop("The host %(host)s could not be resolved: %(error)s."),
                    host=repr(host),
                    error=str(error),
                )
            ) from error
        found = []
        for _family, _type, _proto, _name, sockaddr in answers:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
        if not found:
            raise UnresolvableTarget(
                Phrase(gettext_noop("The host %(host)s has no address."), host=repr(host))
            )
    for address in found:
        reason = refusal(address)
        if reason:
            shown = host if literal is not None else f"{host} ({address})"
            raise UnsafeTarget(
                Phrase(
                    # Translators: the reason is one of the kinds of address below ("a
                    # private address", "not a public address").
                    gettext_noop("The host %(host)s is %(reason)s: webhooks are not sent there."),
                    host=shown,
                    reason=Phrase(reason),
                )
            )
    return found


def refusal(address: Address) -> str:
    """Why `address` may not receive webhooks ("" when it may), under the settings: English
    words marked for the catalogue (gettext_noop), translated inside their sentence."""
    if address in METADATA:
        return gettext_noop("a cloud metadata address")
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return gettext_noop("an IPv4-mapped IPv6 address")
        if any(address in network for network in NAT64):
            return gettext_noop("an IPv4-translated (NAT64) IPv6 address")
        for embedded in (address.sixtofour, (address.teredo or (None, None))[1]):
            if embedded is not None and refusal(embedded):
                return gettext_noop("a 6to4 or Teredo address of a non-public IPv4 address")
    if address.is_loopback:  # before reserved: ::1 lies in the reserved ::/8
        return _unless_allowed(gettext_noop("a loopback address"))
    if address.is_multicast:
        return gettext_noop("a multicast address")
    if address.is_unspecified:
        return gettext_noop("an unspecified address")
    if address.is_reserved:
        return gettext_noop("a reserved address")
    private = _private_kind(address)
    if private:
        return _unless_allowed(private)
    if not address.is_global:
        return gettext_noop("not a public address")
    return ""


def _unless_allowed(kind: str) -> str:
    return "" if settings.WEBHOOKS["ALLOW_PRIVATE_TARGETS"] else kind


def _private_kind(address: Address) -> str:
    if address.is_link_local:
        return gettext_noop("a link-local address")
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED:
        return gettext_noop("a shared (carrier-grade NAT) address")
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return gettext_noop("a site-local address")
    if address.is_private:
        return gettext_noop("a private address")
    return ""
