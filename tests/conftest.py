import pytest
from kombu import Connection

from config.celery import app as celery_app

# Unit tests send their Celery messages to kombu's in-memory transport, a real
# broker in this process, so a test can read back exactly what was sent.
celery_app.conf.broker_url = "memory://"
celery_app.conf.broker_transport_options = {}


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
