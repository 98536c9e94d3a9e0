"""Browser tests: Playwright driving Debian's chromium package (never a downloaded browser).

Without chromium on the machine these tests are skipped with a message saying so; CI sets
C360_REQUIRE_BROWSER=1 so that a missing browser fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        if os.environ.get("C360_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed but C360_REQUIRE_BROWSER=1 (apt-get install chromium)")
        pytest.skip("browser tests skipped: Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django ORM calls the tests
    # make between browser steps are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Reports every Content-Security-Policy violation of every page to the test (issue 16, item 17).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(`${event.effectiveDirective} refused ${event.blockedURI || "inline code"} on `
                      + `${document.location.pathname} (${event.sourceFile}:${event.lineNumber}) `
                      + `${event.sample || ""}`);
});
"""


# Refusals that are the policy at work, not a fault: ReDoc's footer shows its makers' logo from
# their CDN; the site serves nothing from elsewhere (it works offline), and ReDoc hides the image.
EXPECTED_REFUSALS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


class Violations(list):
    def append(self, text: str) -> None:
        if not any(expected in text for expected in EXPECTED_REFUSALS):
            super().append(text)


@pytest.fixture
def csp_violations():
    """What the browser refused under the Content-Security-Policy in this test; every browser
    test fails if it is not empty at the end."""
    return Violations()


@pytest.fixture
def page(browser, live_server, role_groups, csp_violations):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.expose_function("cspViolation", lambda text: csp_violations.append(text))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and csp_violations.append(f"console: {message.text}")
        ),
    )
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not csp_violations, "the Content-Security-Policy refused:\n" + "\n".join(csp_violations)
