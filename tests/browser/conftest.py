"""Real Chromium (Debian's) driven by Playwright against the app served on a free local port."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("FACILITIES_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-gpu",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                ],
            )
        except Error as error:
            skip_or_fail(f"Chromium at {CHROMIUM} did not start: {error}")
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 in a background thread, for the browser to visit."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def new_page(browser, request):
    """Pages in fresh browser contexts (separate cookies), with a screenshot on failure.

    Anything the Content-Security-Policy blocks fails the test: the page would lose it.
    """
    contexts = []
    blocked: list[str] = []

    def note_csp(message) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    def make(**options):
        # Finnish, as the park's people mostly browse (the language follows the browser)
        defaults = {"viewport": {"width": 1280, "height": 900}, "locale": "fi-FI"}
        context = browser.new_context(**{**defaults, **options})
        contexts.append(context)
        page = context.new_page()
        page.on("console", note_csp)
        page.set_default_timeout(10_000)
        return page

    yield make
    failed = getattr(request.node, "rep_call", None)
    for number, context in enumerate(contexts):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for page in context.pages:
                page.screenshot(
                    path=ARTIFACTS / f"{request.node.name}-{number}.png", full_page=True
                )
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked something"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
