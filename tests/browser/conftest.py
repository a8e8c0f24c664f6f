"""Browser tests: Debian's Chromium, driven by Playwright, against a live Kairos.

Each test module here is marked `browser` and `django_db(transaction=True)`; each test
gets a live server (pytest-django's `live_server`) and a fresh page, and
`login_as(role)` signs a member in through the real login form. tests/conftest.py
skips these tests, saying why, when Chromium is missing, and fails the run instead in
CI (KAIROS_REQUIRE_SERVICES=1). Playwright never downloads a browser: it starts
/usr/bin/chromium with the flags this machine's closed network needs.

`screenshot(page, name)` saves `var/screenshots/<name>.png` (git-ignored, overwritten
by each run), and a failed test leaves `failed-<test>.png` there; `make screenshots`
copies the ones the README shows into docs/screenshots/.
"""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from accounts.models import Membership
from tests.conftest import CHROMIUM
from tests.factories import MembershipFactory, UserFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "correct horse battery staple"  # UserFactory's
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium calls home at every start, and the closed network
    # refuses it, many connections at a time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator[Browser]:
    """Chromium, for one test module. Playwright's synchronous API keeps an event loop
    running in this thread while it lives, and Django then refuses every ORM call as
    "async" (they are not): the test database is made first, and the check is off
    only while the browser runs."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """`open_page(**options)`: a fresh page on the live server, in a browser context of
    its own; `options` change the context's (a `viewport`, a `timezone_id`...)."""
    contexts = []

    def open_(**options) -> Page:
        context = browser.new_context(
            **{"base_url": live_server.url, "viewport": VIEWPORT, "locale": "en-US", **options}
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        # The admin's navigation sidebar closed, as a person may leave it: full-page
        # screenshots otherwise show it floating halfway down the page.
        context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page) -> Page:
    return open_page()


@pytest.fixture
def login_as(page: Page) -> Callable[..., Membership]:
    """Signs a new staff member with `role` in through the admin's login form and
    returns the membership (its workspace is new too, unless one is given)."""

    def login(role: str, *, username: str | None = None, **membership) -> Membership:
        user = UserFactory(is_superuser=False, **({"username": username} if username else {}))
        member = MembershipFactory(user=user, role=role, **membership)
        page.goto("/admin/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Schedule and publish")).to_be_visible()
        return member

    return login


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """`screenshot(page, name)`: the whole page as var/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test leaves the page it failed on as var/screenshots/failed-<test>.png."""
    report = yield
    page = item.funcargs.get("page") if report.when == "call" and report.failed else None
    if page is not None and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # A browser that died takes no picture; the failure itself is still reported.
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=SCREENSHOTS / f"failed-{item.name}.png", full_page=True)
    return report
