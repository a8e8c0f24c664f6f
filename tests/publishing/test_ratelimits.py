from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from publishing.models import RateLimitWindow
from publishing.ratelimits import (
    APP_KEY,
    WindowReading,
    account_key,
    rate_limited_until_by_account,
    rate_limits_deferred,
    rate_limits_record,
)

pytestmark = pytest.mark.django_db


def reading(key: str, remaining: int, resets_at, window: str = "15m") -> WindowReading:
    return WindowReading(key, "post", window, 100, remaining, resets_at)


def test_readings_in_a_deferred_block_are_written_once_as_it_ends_the_latest_winning():
    now = timezone.now()
    reset = now + timedelta(minutes=15)
    with CaptureQueriesContext(connection) as captured, rate_limits_deferred():
        for remaining in (3, 2, 1):
            rate_limits_record(
                network="x",
                readings=[reading(account_key(1), remaining, reset), reading(APP_KEY, 50, reset)],
                now=now,
            )
        assert not RateLimitWindow.objects.exists()
    assert len(captured) == 2  # the look-up above, then one upsert
    assert dict(RateLimitWindow.objects.values_list("key", "remaining")) == {
        account_key(1): 1,
        APP_KEY: 50,
    }


def test_readings_are_written_even_when_the_block_fails():
    reset = timezone.now() + timedelta(minutes=15)
    with pytest.raises(RuntimeError), rate_limits_deferred():
        rate_limits_record(
            network="x", readings=[reading(account_key(1), 0, reset)], now=timezone.now()
        )
        raise RuntimeError("the batch was cut short")
    assert RateLimitWindow.objects.get().remaining == 0


def test_outside_a_deferred_block_readings_are_written_at_once():
    reset = timezone.now() + timedelta(minutes=15)
    rate_limits_record(network="x", readings=[reading(account_key(1), 7, reset)], now=reset)
    assert RateLimitWindow.objects.get().remaining == 7


def test_accounts_held_back_each_wait_for_their_own_or_the_apps_latest_reset():
    now = timezone.now()
    soon, later = now + timedelta(minutes=5), now + timedelta(hours=2)
    rate_limits_record(
        network="x",
        readings=[
            reading(account_key(1), 0, soon),
            reading(account_key(2), 0, later, window="24h"),
            reading(account_key(3), 12, later),
        ],
        now=now,
    )
    assert rate_limited_until_by_account(
        network="x", account_ids=[1, 2, 3], endpoint="post", now=now
    ) == {1: soon, 2: later}
    # The app's spent window holds every account of the network back.
    rate_limits_record(network="x", readings=[reading(APP_KEY, 0, later, "24h")], now=now)
    assert rate_limited_until_by_account(
        network="x", account_ids=[1, 3], endpoint="post", now=now
    ) == {1: later, 3: later}
    assert not rate_limited_until_by_account(
        network="sandbox", account_ids=[1, 3], endpoint="post", now=now
    )
