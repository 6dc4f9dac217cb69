"""A browser app on another origin (issue 27 item 3): Debian's Chromium (Playwright, never
`playwright install`) loads browser/page.html, which calls the API with npm's graphql-request
(Healthie's headers and the 2026-01-01 version header: a CORS preflight first).

- From http://localhost:<port> (the origin clients/run.sh lists in CORS_ALLOWED_ORIGINS): the
  preflight and the request are allowed; the page gets the data (course_status IN_PROGRESS).
- From http://127.0.0.1:<port> (the same page, an origin not listed): Chromium blocks the call
  (its console says "blocked by CORS policy") and the page gets no data.

The page and clients/node_modules are served by http.server on 127.0.0.1:CORS_PAGE_PORT.
"""

import functools
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright

CLIENTS = Path(__file__).resolve().parents[1]
API = os.environ["GRAPHQL_BASE"]
KEY = os.environ["API_KEY"]
PORT = int(os.environ["CORS_PAGE_PORT"])
EXAMPLE_ENROLLMENT_ID = "619ad939-8591-40ad-9364-cf3825a9bf70"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def outcome(browser, origin: str) -> tuple[dict, list[str]]:
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    fragment = f"api={API}&key={KEY}&membership={EXAMPLE_ENROLLMENT_ID}"
    page.goto(f"{origin}/browser/page.html#{fragment}")
    page.wait_for_function("window.outcome !== undefined", timeout=20_000)
    result = page.evaluate("window.outcome")
    page.close()
    return result, console


def main() -> int:
    handler = functools.partial(Quiet, directory=str(CLIENTS))
    server = ThreadingHTTPServer(("127.0.0.1", PORT), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failures = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            allowed, console = outcome(browser, f"http://localhost:{PORT}")
            membership = (allowed.get("data") or {}).get("courseMembership") or {}
            if membership.get("course_status") == "IN_PROGRESS":
                print(f"  ok   http://localhost:{PORT} (listed): graphql-request got the data")
            else:
                failures += 1
                print(f"  FAIL http://localhost:{PORT} (listed): {allowed} {console}")
            refused, console = outcome(browser, f"http://127.0.0.1:{PORT}")
            blocked = any("blocked by CORS policy" in line for line in console)
            if "data" not in refused and blocked:
                print(f"  ok   http://127.0.0.1:{PORT} (not listed): blocked, {refused['error']}")
            else:
                failures += 1
                print(f"  FAIL http://127.0.0.1:{PORT} (not listed): {refused} {console}")
            browser.close()
    finally:
        server.shutdown()
    print(f"browser-cors: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
