"""Browser tests: a real Chromium (Debian's, not Playwright's download) drives the live server.

Every test here is marked `browser`. The whole folder is skipped when IAM_SKIP_BROWSER=1 or when
/usr/bin/chromium is missing. One browser per session; each test gets a fresh context (1280x800) and
runs against pytest-django's `live_server` with the demo data (`demo` fixture, transactional DB).
A failing test leaves a full-page screenshot in test-results/<test-name>.png.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.helpers import sign_in

TIMEOUT_MS = 10_000
HERE = Path(__file__).parent
SCREENSHOTS = Path("test-results")

expect.set_options(timeout=TIMEOUT_MS)


def _skip_reason() -> str | None:
    if os.environ.get("IAM_SKIP_BROWSER") == "1":
        return "browser tests disabled (IAM_SKIP_BROWSER=1)"
    if not Path(CHROMIUM).exists():
        return f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_configure(config):
    # pytest-playwright wipes its --output folder (default test-results/) whenever a session starts, which
    # would delete the failure screenshots below; give its own artifacts a subfolder instead. (A stale
    # screenshot is removed when its test passes again, in pytest_runtest_makereport.)
    if config.getoption("--output", default=None) == "test-results":
        config.option.output = str(SCREENSHOTS / "playwright")


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    for item in items:
        if HERE not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.browser)
        # pytest-playwright's own `base_url` fixture trips a pytest deprecation warning; not ours to fix.
        item.add_marker(
            pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods")
        )
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture
def context(new_context):
    context = new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(context) -> Page:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
def nojs_page(new_context) -> Page:
    """A page in a context with JavaScript disabled: every link and form must work as full pages."""
    context = new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture
def signed_in(page, live_server, demo):
    """signed_in("owner@acme.test") → the default `page`, signed in; signed_in(email, page=other) for another."""
    default = page

    def _signed_in(email: str, *, page: Page | None = None) -> Page:
        return sign_in(page or default, live_server, email)

    return _signed_in


@pytest.fixture
def url(live_server):
    """url("/companies/acme/iam/") → absolute URL on the live server."""
    return lambda path: f"{live_server.url}{path}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and HERE in Path(item.path).parents:
        if report.failed:
            _screenshot(item, report)
        elif report.passed:
            for stale in SCREENSHOTS.glob(f"{_file_name(item)}*.png"):
                stale.unlink(missing_ok=True)
    return report


def _file_name(item) -> str:
    return re.sub(r"[^\w.-]+", "_", item.name).strip("_")


def _screenshot(item, report) -> None:
    """Full-page screenshots of every page the test opened (normally one)."""
    browser = item.funcargs.get("browser")
    pages = [p for ctx in browser.contexts for p in ctx.pages if p.url != "about:blank"] if browser else []
    if not pages and "page" in item.funcargs:
        pages = [item.funcargs["page"]]
    name = _file_name(item)
    SCREENSHOTS.mkdir(exist_ok=True)
    for index, page in enumerate(pages):
        path = SCREENSHOTS / (f"{name}.png" if index == 0 else f"{name}-{index + 1}.png")
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # the page may be gone; never hide the real failure
            report.sections.append(("screenshot", f"could not save {path}: {error}"))
        else:
            report.sections.append(("screenshot", f"saved {path.resolve()}"))
