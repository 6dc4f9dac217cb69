"""The HTTP POST of a delivery (enrollments/events/posting.py): it connects to the address the
target check resolved (no second DNS lookup), speaks to the host name (Host header, TLS server
name, certificate verified for it), reads at most MAX_RESPONSE_BYTES of an answer and gives up
after its timeouts."""

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from enrollments.events import posting, targets
from tests.webhooks.receiver import Receiver


@pytest.fixture
def settings_for_local(settings):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "ALLOW_PRIVATE_TARGETS": True,
        "REQUIRE_HTTPS": False,
        "CONNECT_TIMEOUT": 2.0,
        "READ_TIMEOUT": 0.3,
    }
    return settings


def raw_server(handle) -> tuple[socket.socket, int]:
    """A one-connection TCP server on 127.0.0.1 whose thread runs `handle(connection)`."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        connection, _ = server.accept()
        with connection:
            handle(connection)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_the_checked_address_is_connected_to_without_a_second_lookup(
    settings_for_local, monkeypatch
):
    real = socket.getaddrinfo
    lookups = []

    def resolver(host, port, *args, **kwargs):
        if host == "hooks.test":  # the first answer is checked; a second would be private
            lookups.append(host)
            address = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with Receiver() as receiver:
        target = targets.resolve(f"http://hooks.test:{receiver.port}/in?x=1")
        answer = posting.post(target, b"{}", {"Content-Type": "application/json"})
    assert answer.delivered and lookups == ["hooks.test"]
    (request,) = receiver.requests
    assert request.path == "/in?x=1"
    assert request.headers["Host"] == f"hooks.test:{receiver.port}"
    assert request.headers["User-Agent"] == posting.USER_AGENT


def test_the_answer_is_read_up_to_the_cap(settings_for_local):
    settings_for_local.WEBHOOKS = {**settings_for_local.WEBHOOKS, "MAX_RESPONSE_BYTES": 8}

    def answer_with_a_large_body(connection):
        connection.recv(65536)
        body = b"x" * 1_000_000
        head = f"HTTP/1.1 500 Oops\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        with contextlib.suppress(OSError):  # the client read its 8 bytes and closed
            connection.sendall(head + body)

    server, port = raw_server(answer_with_a_large_body)
    with server:
        answer = posting.post(targets.resolve(f"http://127.0.0.1:{port}/"), b"{}", {})
    assert (answer.status, answer.error) == (500, "HTTP 500: xxxxxxxx")


def test_a_receiver_that_never_answers_times_out(settings_for_local):
    done = threading.Event()

    def hang(connection):
        done.wait(timeout=10)

    server, port = raw_server(hang)
    with server:
        answer = posting.post(targets.resolve(f"http://127.0.0.1:{port}/"), b"{}", {})
        done.set()
    assert answer.status is None and answer.unreachable
    assert answer.error == "timed out talking to 127.0.0.1"


def test_a_receiver_that_drips_its_answer_is_cut_at_the_total_deadline(settings_for_local):
    """Each byte within the read timeout, the whole past TOTAL_TIMEOUT: the try ends there,
    so a send never outlives its lease (which would send the event twice)."""
    settings_for_local.WEBHOOKS = {**settings_for_local.WEBHOOKS, "TOTAL_TIMEOUT": 0.6}
    done = threading.Event()

    def drip(connection):
        connection.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            if done.wait(timeout=0.1):
                return
            with contextlib.suppress(OSError):
                connection.sendall(bytes([byte]))

    server, port = raw_server(drip)
    with server:
        answer = posting.post(targets.resolve(f"http://127.0.0.1:{port}/"), b"{}", {})
        done.set()
    assert answer.status is None and answer.unreachable
    assert answer.error == "took longer than 0.6 s in all with 127.0.0.1"
    assert answer.latency_ms < 3000


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_speaks_to_the_host_name_and_verifies_its_certificate(
    settings_for_local, tmp_path, monkeypatch
):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=hooks.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    def handshake(connection):
        with contextlib.suppress(OSError):  # the client refuses the self-signed certificate
            context.wrap_socket(connection, server_side=True)

    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "hooks.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    server, port = raw_server(handshake)
    with server:
        answer = posting.post(targets.resolve(f"https://hooks.test:{port}/"), b"{}", {})
    assert names == ["hooks.test"]  # the server name sent, though 127.0.0.1 was connected to
    assert answer.status is None and "CERTIFICATE_VERIFY_FAILED" in answer.error
