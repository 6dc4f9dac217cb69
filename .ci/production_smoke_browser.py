"""The production smoke's browser half (.ci/production_smoke): Debian's Chromium, through
Playwright, against a gunicorn with DEBUG off.

Usage: production_smoke_browser.py BASE_URL STAFF_EMAIL PASSWORD

Checks that the admin login page is styled (its stylesheet loaded and applied), that GraphiQL
renders for a signed-in staff member and runs a query, and that no request goes to another host
(every such request is recorded and aborted). Exits non-zero on any failure.
"""

import sys
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def main(base: str, email: str, password: str) -> int:
    origin = urlsplit(base).netloc
    elsewhere: list[str] = []
    failed: list[str] = []

    def only_this_server(route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 900})
        context.set_default_timeout(20_000)
        context.route("**/*", only_this_server)
        page = context.new_page()
        page.on(
            "response",
            lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

        page.goto("/admin/login/")
        style = page.evaluate(
            """() => {
                const sheets = [...document.styleSheets].filter(s => s.href);
                const header = getComputedStyle(document.querySelector('#header'));
                return {
                    sheets: sheets.map(s => [s.href, s.cssRules.length]),
                    headerBackground: header.backgroundColor,
                    font: getComputedStyle(document.body).fontFamily,
                };
            }"""
        )
        base_css = [rules for href, rules in style["sheets"] if "/admin/css/base." in href]
        assert base_css and base_css[0] > 50, f"admin stylesheet not loaded: {style}"
        assert style["headerBackground"] not in ("rgba(0, 0, 0, 0)", "transparent"), style
        assert "system-ui" in style["font"], style
        print(f"    login page styled: header {style['headerBackground']}, {base_css[0]} rules")

        page.fill("#id_username", email)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")

        page.goto("/graphql/?query=%7B__typename%7D")
        page.wait_for_selector(".graphiql-container")
        page.click(".graphiql-execute-button")
        page.wait_for_function(
            "() => document.querySelector('.result-window')?.innerText.includes('Query')"
        )
        print("    GraphiQL rendered and ran { __typename }")
        browser.close()

    assert not failed, f"failed responses: {failed}"
    assert not elsewhere, f"requests to other hosts: {elsewhere}"
    print("    requests to other hosts: 0")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
