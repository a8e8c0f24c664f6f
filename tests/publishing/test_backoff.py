import random
from datetime import UTC, datetime, timedelta

import pytest

from publishing.backoff import BackoffSchedule

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_delays_double_up_to_the_cap_without_jitter():
    schedule = BackoffSchedule(
        base=timedelta(seconds=60), factor=2, cap=timedelta(minutes=5), jitter=0, max_attempts=9
    )
    delays = [schedule.delay(attempt=n).total_seconds() for n in range(1, 6)]
    assert delays == [60, 120, 240, 300, 300]


def test_jitter_only_ever_lengthens_and_stays_within_its_fraction():
    schedule = BackoffSchedule(base=timedelta(seconds=100), jitter=0.1)
    rng = random.Random(7)
    delays = {schedule.delay(attempt=1, rng=rng).total_seconds() for _ in range(200)}
    assert min(delays) >= 100
    assert max(delays) <= 110
    assert len(delays) > 100


def test_no_next_attempt_once_the_attempts_are_spent():
    schedule = BackoffSchedule(max_attempts=3)
    assert schedule.next_attempt_at(attempt=2, now=NOW) is not None
    assert schedule.next_attempt_at(attempt=3, now=NOW) is None


def test_a_later_time_named_by_the_network_wins():
    schedule = BackoffSchedule(base=timedelta(seconds=60), jitter=0)
    reset = NOW + timedelta(minutes=15)
    assert schedule.next_attempt_at(attempt=1, now=NOW, not_before=reset) == reset
    early = NOW + timedelta(seconds=5)
    assert schedule.next_attempt_at(attempt=1, now=NOW, not_before=early) == NOW + timedelta(
        seconds=60
    )


def test_attempts_are_numbered_from_one():
    with pytest.raises(ValueError, match="from 1"):
        BackoffSchedule().delay(attempt=0)
