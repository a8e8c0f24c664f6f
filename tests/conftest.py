import pytest
from kombu import Connection

from config.celery import app as celery_app

# Unit tests send their Celery messages to kombu's in-memory transport, a real
# broker in this process, so a test can read back exactly what was sent.
celery_app.conf.broker_url = "memory://"
celery_app.conf.broker_transport_options = {}


@pytest.fixture
def broker_messages():
    """Reads the task messages sent to a queue since the test began, as (task, args)."""

    def read(queue: str = "publish") -> list[tuple[str, list]]:
        received = []
        with Connection("memory://") as connection:
            simple = connection.SimpleQueue(queue)
            while True:
                try:
                    message = simple.get(block=False)
                except simple.Empty:
                    break
                received.append((message.headers["task"], message.payload[0]))
                message.ack()
            simple.close()
        return received

    for queue in ("publish", "dispatch"):
        read(queue)
    return read
