import threading

import pytest
import redis

from bench.measure import publish_jobs_in, queue_fill
from config.celery import app
from harness.redis import RedisServer
from publishing.tasks import publish_jobs


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


def send(url: str, batches: list[list[int]], priority: int | None = None) -> None:
    with app.connection_for_write(url) as connection:
        for job_ids in batches:
            publish_jobs.apply_async(args=(job_ids,), connection=connection, priority=priority)


def test_filling_counts_the_jobs_each_message_carries_on_every_priority_level(broker):
    client = redis.Redis.from_url(broker.url)
    send(broker.url, [[1, 2, 3], [4, 5]], priority=5)
    # Messages that arrive while it watches count too.
    later = threading.Timer(0.2, send, args=(broker.url, [[6], [7, 8, 9, 10]]))
    later.start()
    fill = queue_fill(client, "publish", count=10, timeout=5, jobs_per_message=publish_jobs_in)
    later.join()
    assert (fill.count, fill.complete) == (10, True)
    assert fill.first_at <= fill.last_at


def test_filling_without_a_count_per_message_counts_messages_and_can_run_out(broker):
    client = redis.Redis.from_url(broker.url)
    client.flushdb()
    send(broker.url, [[1, 2, 3]])
    fill = queue_fill(client, "publish", count=2, timeout=0.2)
    assert (fill.count, fill.complete) == (1, False)
