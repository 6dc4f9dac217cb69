"""gunicorn serving the app (bench.settings) on 127.0.0.1, started and stopped by the benchmark."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ServerFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text()[-2000:]
            raise ServerFailed(f"gunicorn exited with {process.returncode}: {tail}")
        try:
            httpx.get(f"{url}/graphql/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise ServerFailed(f"gunicorn did not answer within {timeout:.0f}s: {log.read_text()[-2000:]}")


@contextmanager
def gunicorn(*, workers: int, log: Path, timeout: float = 60) -> Iterator[str]:
    """Runs `gunicorn config.wsgi` with `workers` sync workers on a free loopback port; yields
    its base URL. The environment (bench.environment.configure) selects bench.settings."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--timeout=240",  # above the peers' statement timeout (bench.settings)
        "--graceful-timeout=10",
        "--log-level=warning",
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, process, log, timeout)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
