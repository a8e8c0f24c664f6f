import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publishing import dispatch, heartbeats
from publishing.heartbeats import (
    heartbeat_tick_record,
    heartbeat_worker_forget,
    heartbeat_worker_record,
    tick_last_at,
    tick_stale_after,
    worker_heartbeat_start,
    worker_heartbeat_stop,
    worker_name,
    workers_seen,
)
from publishing.models import Heartbeat

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """As in a process that has not recorded a tick yet."""
    monkeypatch.setattr(heartbeats, "_tick_recorded_at", None)


def test_a_tick_records_its_time():
    dispatch.tick(now=NOON)
    assert tick_last_at() == NOON


def test_ticks_within_a_heartbeat_period_write_nothing(settings):
    settings.KAIROS_HEARTBEAT_SECONDS = 5
    assert heartbeat_tick_record(now=NOON)
    with CaptureQueriesContext(connection) as captured:
        dispatch.tick(now=NOON + timedelta(seconds=1))
    assert not [q for q in captured.captured_queries if "publishing_heartbeat" in q["sql"]]
    assert tick_last_at() == NOON


def test_a_tick_after_the_period_writes_again(settings, monkeypatch):
    settings.KAIROS_HEARTBEAT_SECONDS = 5
    assert heartbeat_tick_record(now=NOON)
    monkeypatch.setattr(heartbeats, "_tick_recorded_at", heartbeats._tick_recorded_at - 5)
    assert heartbeat_tick_record(now=NOON + timedelta(seconds=5))
    assert tick_last_at() == NOON + timedelta(seconds=5)
    assert Heartbeat.objects.count() == 1


def test_the_tick_counts_as_stalled_past_the_period_plus_five_ticks(settings):
    settings.KAIROS_HEARTBEAT_SECONDS = 5
    settings.KAIROS_TICK_SECONDS = 1
    assert tick_stale_after() == timedelta(seconds=10)


def test_a_worker_is_seen_until_three_periods_pass_without_a_heartbeat(settings):
    settings.KAIROS_HEARTBEAT_SECONDS = 5
    heartbeat_worker_record(name="host:1", now=NOON)
    heartbeat_worker_record(name="host:2", now=NOON + timedelta(seconds=10))
    assert [w.name for w in workers_seen(now=NOON + timedelta(seconds=15))] == ["host:2", "host:1"]
    assert [w.name for w in workers_seen(now=NOON + timedelta(seconds=16))] == ["host:2"]


def test_a_worker_recording_again_keeps_one_row():
    heartbeat_worker_record(name="host:1", now=NOON)
    heartbeat_worker_record(name="host:1", now=NOON + timedelta(seconds=5))
    assert Heartbeat.objects.get().seen_at == NOON + timedelta(seconds=5)


def test_a_worker_stopping_is_no_longer_seen():
    heartbeat_worker_record(name="host:1", now=NOON)
    heartbeat_worker_forget(name="host:1")
    assert workers_seen(now=NOON) == []


def test_rows_of_workers_gone_for_an_hour_are_deleted():
    heartbeat_worker_record(name="killed:1", now=NOON)
    heartbeat_worker_record(name="host:2", now=NOON + timedelta(hours=1, seconds=1))
    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["host:2"]


def test_the_idle_tick_with_the_clock_running_writes_once_a_period(settings):
    settings.KAIROS_HEARTBEAT_SECONDS = 5
    with time_machine.travel(NOON, tick=False):
        writes = [heartbeat_tick_record(now=NOON) for _ in range(3)]
    assert writes == [True, False, False]


@pytest.mark.django_db(transaction=True)
def test_a_worker_records_itself_from_a_thread_until_it_stops(settings):
    settings.KAIROS_HEARTBEAT_SECONDS = 0.05
    thread = worker_heartbeat_start()
    deadline = time.monotonic() + 10
    while not Heartbeat.objects.filter(name=worker_name()).exists():
        assert time.monotonic() < deadline, "the worker never recorded itself"
        time.sleep(0.02)
    first = Heartbeat.objects.get(name=worker_name()).seen_at
    while Heartbeat.objects.get(name=worker_name()).seen_at == first:
        assert time.monotonic() < deadline, "the worker recorded itself only once"
        time.sleep(0.02)
    worker_heartbeat_stop()
    assert not thread.is_alive()
    assert not Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).exists()
