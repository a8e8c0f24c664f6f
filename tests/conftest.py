import os
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from kombu import Connection

from config.celery import app as celery_app
from fakebluesky.control import fake_bluesky_server
from fakelinkedin.control import CLIENT_ID, CLIENT_SECRET, fake_linkedin_server
from fakemastodon.control import fake_mastodon_server
from fakemeta.control import APP_ID, APP_SECRET, fake_meta_server
from fakex.control import fake_x_server

REQUIRED = os.environ.get("KAIROS_REQUIRE_SERVICES") == "1"
# Browser tests (tests/browser/) drive Debian's Chromium; Playwright never downloads one.
CHROMIUM = Path("/usr/bin/chromium")

# Unit tests send their Celery messages to kombu's in-memory transport, a real
# broker in this process, so a test can read back exactly what was sent.
celery_app.conf.broker_url = "memory://"
celery_app.conf.broker_transport = None  # The folder broker's own (config/broker.py) is set by URL.
celery_app.conf.broker_transport_options = {}


@pytest.fixture(autouse=True)
def webhooks_to_local_receivers(settings):
    """Tests send webhooks to receivers on 127.0.0.1 (tests/webhook_receiver.py) and register
    endpoints at names that do not resolve here, so the public-address rule is off; its own
    tests (tests/publishing/test_webhook_addresses.py) turn it back on."""
    settings.KAIROS_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def broker_messages():
    """Reads the task messages sent to a queue since the test began, as (task, args),
    or (task, args, priority) with priorities=True."""

    def read(queue: str = "publish", *, priorities: bool = False) -> list[tuple]:
        received = []
        with Connection("memory://") as connection:
            simple = connection.SimpleQueue(queue)
            while True:
                try:
                    message = simple.get(block=False)
                except simple.Empty:
                    break
                record = (message.headers["task"], message.payload[0])
                if priorities:
                    record += (message.properties.get("priority"),)
                received.append(record)
                message.ack()
            simple.close()
        return received

    for queue in ("publish", "dispatch"):
        read(queue)
    return read


@pytest.fixture(scope="module")
def fake_x():
    """The fake X over real HTTP (fakex/), one server for a test module."""
    with fake_x_server() as server:
        yield server


@pytest.fixture
def x(fake_x, settings):
    """The module's fake X, reset to an empty world, with Kairos pointed at it."""
    fake_x.control.reset()
    settings.X_API_BASE_URL = fake_x.url
    return fake_x


@pytest.fixture(scope="module")
def fake_bluesky():
    """The fake Bluesky over real HTTP (fakebluesky/), one server for a test module."""
    with fake_bluesky_server() as server:
        yield server


@pytest.fixture(scope="module")
def fake_mastodon():
    """The fake Mastodon instance over real HTTP (fakemastodon/), one server for a test module."""
    with fake_mastodon_server() as server:
        yield server


@pytest.fixture
def bsky(fake_bluesky, settings):
    """The module's fake Bluesky, reset to an empty world, with Kairos pointed at it."""
    fake_bluesky.control.reset()
    settings.BLUESKY_PDS_URL = fake_bluesky.url
    settings.BLUESKY_APPVIEW_URL = fake_bluesky.url
    settings.BLUESKY_VIDEO_URL = fake_bluesky.url
    return fake_bluesky


@pytest.fixture
def mastodon(fake_mastodon):
    """The module's fake Mastodon, reset to an empty instance. Kairos needs no setting to
    reach it: a Mastodon account names its own instance."""
    fake_mastodon.control.reset()
    return fake_mastodon


@pytest.fixture(scope="module")
def fake_meta():
    """The fake Graph API over real HTTP (fakemeta/), one server for a test module."""
    with fake_meta_server() as server:
        yield server


@pytest.fixture
def meta(fake_meta, settings):
    """The module's fake Graph API, reset to an empty world, with Kairos's Meta app pointed
    at it (Facebook Pages and Instagram)."""
    fake_meta.control.reset()
    settings.META_GRAPH_URL = fake_meta.url
    settings.META_DIALOG_URL = fake_meta.url
    settings.META_APP_ID = APP_ID
    settings.META_APP_SECRET = APP_SECRET
    return fake_meta


@pytest.fixture(scope="module")
def fake_linkedin():
    """The fake LinkedIn over real HTTP (fakelinkedin/), one server for a test module."""
    with fake_linkedin_server() as server:
        yield server


@pytest.fixture
def linkedin(fake_linkedin, settings):
    """The module's fake LinkedIn, reset to an empty world, with Kairos's LinkedIn app
    pointed at it (the API and the sign-in pages alike)."""
    fake_linkedin.control.reset()
    # LinkedIn's versions as of the month of the one Kairos sends, so that these tests
    # do not start failing the month LinkedIn would retire it (kairos_status tells an
    # operator then); a test about a version's age sets its own.
    fake_linkedin.control.set_linkedin_settings(versions_as_of=settings.LINKEDIN_VERSION)
    settings.LINKEDIN_API_BASE_URL = fake_linkedin.url
    settings.LINKEDIN_OAUTH_URL = fake_linkedin.url
    settings.LINKEDIN_CLIENT_ID = CLIENT_ID
    settings.LINKEDIN_CLIENT_SECRET = CLIENT_SECRET
    return fake_linkedin


# Integration tests (marked `integration`, in any folder) run against real
# PostgreSQL and Redis. `make test` points DATABASE_URL and CELERY_BROKER_URL at
# them; without them the tests are skipped with the reason shown, and with
# KAIROS_REQUIRE_SERVICES=1 (as in CI) a missing server is a failure instead.
# Browser tests (marked `browser`) are treated the same way when Chromium is missing.


def _missing_services() -> list[str]:
    missing = []
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        missing.append("DATABASE_URL does not point at PostgreSQL")
    else:
        try:
            psycopg.connect(
                host=database["HOST"],
                port=database["PORT"] or 5432,
                user=database["USER"],
                password=database["PASSWORD"],
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.OperationalError as exc:
            missing.append(f"PostgreSQL is not reachable ({exc})")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        missing.append("CELERY_BROKER_URL does not point at Redis")
    else:
        try:
            redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=3).ping()
        except redis.RedisError as exc:
            missing.append(f"Redis is not reachable ({exc})")
    return missing


def _browser_missing() -> list[str]:
    if not CHROMIUM.exists():
        return [f"{CHROMIUM} is missing (Debian: apt-get install chromium)"]
    return []


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # trylast: after `-m` has deselected, so a unit-only run asks for no servers.
    _skip_or_require(
        [item for item in items if item.get_closest_marker("integration")],
        missing=_missing_services,
        needs="integration tests need PostgreSQL and Redis",
    )
    _skip_or_require(
        [item for item in items if item.get_closest_marker("browser")],
        missing=_browser_missing,
        needs="browser tests need Debian's Chromium",
    )


def _skip_or_require(items, *, missing, needs: str) -> None:
    """Skips `items`, saying why, when what they need is missing; with
    KAIROS_REQUIRE_SERVICES=1 (as in CI) stops the run instead."""
    if not items:
        return
    problems = missing()
    if not problems:
        return
    reason = f"{needs}: " + "; ".join(problems)
    if REQUIRED:
        raise pytest.UsageError(f"KAIROS_REQUIRE_SERVICES=1 but {reason}")
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))
