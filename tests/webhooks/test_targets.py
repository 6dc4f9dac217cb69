"""Safe targets (enrollments/events/targets.py): URLs that reach the service's own network are
refused with a message, whatever form the address takes; WEBHOOK_ALLOW_PRIVATE_TARGETS opens
loopback and private networks (development), never the metadata service."""

import socket

import pytest

from enrollments.events import targets
from enrollments.events.targets import UnresolvableTarget, UnsafeTarget


@pytest.fixture
def strict(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": False, "REQUIRE_HTTPS": True}
    return settings


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.8.9.10/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://172.16.0.1/hook", "private"),
        ("https://192.168.1.1/hook", "private"),
        ("https://[fd12:3456::1]/hook", "private"),
        ("https://100.64.0.1/hook", "shared"),
        ("https://169.254.1.1/hook", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://[fec0::1]/hook", "site-local"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://[fd00:ec2::254]/", "cloud metadata"),
        ("https://[::ffff:127.0.0.1]/hook", "IPv4-mapped"),
        ("https://[::ffff:169.254.169.254]/hook", "IPv4-mapped"),
        ("https://[64:ff9b::a00:1]/hook", "NAT64"),
        ("https://[2002:7f00:1::1]/hook", "6to4 or Teredo"),
        ("https://2130706433/hook", "unusual form"),
        ("https://0x7f000001/hook", "unusual form"),
        ("https://0177.0.0.1/hook", "unusual form"),
        ("https://127.1/hook", "unusual form"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
    ],
)
def test_internal_addresses_are_refused_with_a_message(strict, url, says):
    with pytest.raises(UnsafeTarget) as refused:
        targets.check_url(url)
    assert says in refused.value.message
    assert str(refused.value) == refused.value.message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://93.184.215.14/hook", "must start with https://"),
        ("ftp://93.184.215.14/hook", "must start with https://"),
        ("https://user:secret@93.184.215.14/hook", "user name or password"),
        ("https:///hook", "no host"),
        ("https://93.184.215.14:99999/hook", "not valid"),
        ("https://exa mple.com/hook", "spaces or control characters"),
        ("https://93.184.215.14/ho\u00f6k", "percent-encoded"),
        ("https://93.184.215.14/hook?tenant=\u00e9", "percent-encoded"),
        ("", "Enter the URL"),
    ],
)
def test_malformed_urls_are_refused(strict, url, says):
    with pytest.raises(UnsafeTarget, match=says):
        targets.check_url(url)


def test_a_public_address_is_accepted_with_its_request_target(strict):
    target = targets.check_url("https://93.184.215.14:8443/in?x=1")
    assert (target.host, target.port, target.path, target.addresses) == (
        "93.184.215.14",
        8443,
        "/in?x=1",
        ("93.184.215.14",),
    )


def test_every_address_a_name_resolves_to_is_checked(strict, monkeypatch):
    """A name with one public and one private answer is refused (DNS rebinding)."""

    def answers(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    with pytest.raises(UnsafeTarget, match=r"hooks\.example\.com \(10\.0\.0\.7\) is a private"):
        targets.check_url("https://hooks.example.com/in")


def test_a_name_that_does_not_resolve_says_so(strict, monkeypatch):
    def fails(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fails)
    with pytest.raises(UnresolvableTarget, match="could not be resolved"):
        targets.check_url("https://nowhere.example.com/in")


def test_allowing_private_targets_opens_loopback_and_private_but_not_metadata(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": True, "REQUIRE_HTTPS": True}
    for url in ("https://127.0.0.1:8000/", "https://[::1]/", "https://10.0.0.1/"):
        assert targets.check_url(url).addresses
    for url in (
        "https://169.254.169.254/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:127.0.0.1]/",
        "https://2130706433/",
        "https://224.0.0.1/",
    ):
        with pytest.raises(UnsafeTarget):
            targets.check_url(url)


def test_plain_http_only_when_https_is_not_required(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "REQUIRE_HTTPS": False}
    assert targets.check_url("http://93.184.215.14/").scheme == "http"
    with pytest.raises(UnsafeTarget, match="https:// or http://"):
        targets.check_url("gopher://93.184.215.14/")


def test_private_targets_are_refused_by_default():
    from django.conf import settings

    assert settings.WEBHOOKS["ALLOW_PRIVATE_TARGETS"] is False


@pytest.mark.parametrize(
    "url",
    [
        "https://\uff10x7f000001/hook",  # ０x7f000001: the resolver's 0x7f000001, 127.0.0.1
        "https://\uff11\uff12\uff17.\uff11/hook",  # １２７.１: 127.1
        "https://\uff12\uff11\uff13\uff10\uff17\uff10\uff16\uff14\uff13\uff13/hook",  # 2130706433
    ],
)
def test_an_encoded_ipv4_in_full_width_digits_stays_refused_with_private_targets_allowed(
    settings, url
):
    """getaddrinfo resolves a host not in ASCII by its IDNA form, which maps full-width digits
    to ASCII ones: the host was checked as typed (no IPv4 form to inet_aton), and reached
    127.0.0.1 although `0x7f000001` is refused."""
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_TARGETS": True, "REQUIRE_HTTPS": True}
    with pytest.raises(UnsafeTarget, match="unusual form"):
        target = targets.check_url(url)
        pytest.fail(f"accepted, connecting to {target.addresses}")


def test_the_full_width_hex_form_of_a_public_address_is_refused(strict):
    with pytest.raises(UnsafeTarget, match=r"'0x08080808' is an IPv4 address in an unusual form"):
        target = targets.check_url("https://\uff10x08080808/hook")
        pytest.fail(f"accepted, connecting to {target.addresses}")


def test_a_host_not_in_ascii_is_resolved_and_connected_to_by_its_idna_form(strict, monkeypatch):
    asked = []

    def answers(host, port, *args, **kwargs):
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    target = targets.check_url("https://b\u00fccher.example/in")
    assert asked == ["xn--bcher-kva.example"]
    assert (target.host, target.addresses) == ("xn--bcher-kva.example", ("93.184.215.14",))


def test_a_host_with_no_idna_form_is_not_valid(strict):
    with pytest.raises(UnsafeTarget, match="The URL is not valid: .*label empty or too long"):
        targets.check_url("https://b\u00fccher..example/in")
