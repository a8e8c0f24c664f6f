"""Webhooks through real processes: a receiver that fails for a while still gets every
event, once per event id, signed."""

import json
import time
from collections import Counter

import pytest
from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook

from publishing.beat import beat_entries_ensure
from publishing.models import JobStatus
from publishing.webhooks import webhook_endpoint_create
from tests.factories import PostFactory, SandboxAccountFactory
from tests.integration.test_publish_end_to_end import schedule_seconds_ahead, wait_until_finished
from tests.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


KEY = Fernet.generate_key().decode()


@pytest.fixture
def celery_env(settings):
    # The worker reads the endpoint's secret with the key this process encrypts it with.
    settings.KAIROS_CREDENTIALS_KEYS = [KEY]
    settings.KAIROS_EVENTS_SWEEP_SECONDS = 2  # beat_entries_ensure here writes the entry.
    # Retries a second apart and a sweep every two seconds, so "later" fits in a test.
    return {
        "KAIROS_CREDENTIALS_KEYS": KEY,
        "KAIROS_WEBHOOK_RETRY_BASE_SECONDS": "1",
        "KAIROS_EVENTS_SWEEP_SECONDS": "2",
    }


def test_a_receiver_answering_500_for_a_while_gets_each_event_once_signed(celery_processes):
    with webhook_receiver() as receiver:
        beat_entries_ensure()
        account = SandboxAccountFactory(handle="hooked")
        new = webhook_endpoint_create(
            workspace=account.workspace,
            url=receiver.url,
            events=["post.scheduled", "post.published"],
            actor=None,
        )
        receiver.answers = [500, 500, 503]
        post = PostFactory(workspace=account.workspace, accounts=[account], texts=["Hooked"])
        schedule_seconds_ahead(post, seconds=3, zone_name="America/New_York")
        assert wait_until_finished(post, timeout=30).status == JobStatus.PUBLISHED

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with receiver.lock:
                types = [json.loads(r.body)["type"] for r in receiver.received]
            if (
                types.count("post.scheduled")
                and types.count("post.published")
                and (len(receiver.received) >= 5)
            ):
                break
            time.sleep(0.2)
        time.sleep(3)  # Long enough for a wrongful repeat (a sweep) to arrive.

        with receiver.lock:
            received = list(receiver.received)
    # Three refusals, then each event once: nothing answered 2xx was sent again.
    assert len(received) == 5, [r.headers["webhook-id"] for r in received]
    payloads = [Webhook(new.secret).verify(r.body, r.headers) for r in received]
    # The receiver refused the first three requests and took the rest (204).
    taken = Counter(r.headers["webhook-id"] for r in received[3:])
    assert len(taken) == 2 and set(taken.values()) == {1}
    by_type = {p["type"]: p for p in payloads}
    assert set(by_type) == {"post.scheduled", "post.published"}
    assert by_type["post.published"]["data"]["post"]["id"] == post.pk
    [job] = by_type["post.published"]["data"]["post"]["jobs"]
    assert job["url"] and job["status"] == "published"
    # Event ids follow the order of the changes: scheduled before published.
    assert int(by_type["post.scheduled"]["id"][4:]) < int(by_type["post.published"]["id"][4:])
