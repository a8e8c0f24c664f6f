"""Idempotency-Key: the first answer kept a day per caller and key, replayed for the same
request, refused for another; one still in progress is a 409 (accounts/idempotency.py)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.idempotency import idempotency_forget_expired
from accounts.models import IdempotentRequest
from posts.models import Post
from publishing.models import PublishJob
from tests.api.conftest import key_client
from tests.factories import PostFactory, SandboxAccountFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return SandboxAccountFactory(workspace=WorkspaceFactory())


def body(account, text="Hello"):
    return {"parts": [{"text": text}], "targets": [{"account": account.pk}]}


def test_the_same_request_twice_makes_one_post_and_gets_the_same_answer(account):
    client = key_client(account.workspace, "write")
    first = client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Post.objects.count() == 1


def test_another_request_with_the_same_key_is_refused(account):
    client = key_client(account.workspace, "write")
    client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    other = client.post(
        "/api/v1/posts/", body(account, "Bye"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert other.status_code == 422
    assert "another request" in other.json()["detail"]
    assert Post.objects.count() == 1


def test_keys_are_per_caller(account):
    first = key_client(account.workspace, "write")
    second = key_client(account.workspace, "write")
    for client in (first, second):
        answer = client.post(
            "/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="shared"
        )
        assert answer.status_code == 201
    assert Post.objects.count() == 2


def test_a_request_still_in_progress_is_a_conflict(account):
    client = key_client(account.workspace, "write")
    client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="busy")
    # As if the first request were still being done.
    IdempotentRequest.objects.filter(key="busy").update(
        status=IdempotentRequest.Status.IN_PROGRESS, response_status=None, response_body=None
    )
    answer = client.post(
        "/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert answer.status_code == 409
    assert "still being done" in answer.json()["detail"]
    assert Post.objects.count() == 1


def test_a_refusal_is_kept_and_an_answer_to_try_again_is_not(account):
    post = PostFactory(workspace=account.workspace, accounts=[account])
    job = PublishJob.objects.create(
        post=post,
        account=account,
        occurrence_at=timezone.now(),
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        status="published",
    )
    client = key_client(account.workspace, "publish")
    url = f"/api/v1/jobs/{job.pk}/retry/"
    assert client.post(url, HTTP_IDEMPOTENCY_KEY="r").status_code == 409
    assert not IdempotentRequest.objects.filter(key="r").exists()
    refused = client.post(
        "/api/v1/posts/", {"parts": []}, format="json", HTTP_IDEMPOTENCY_KEY="empty"
    )
    assert refused.status_code == 403
    assert IdempotentRequest.objects.get(key="empty").response_status == 403


def test_answers_are_kept_a_day(account):
    client = key_client(account.workspace, "write")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="d")
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="d")
        assert Post.objects.count() == 1
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        client.post("/api/v1/posts/", body(account), format="json", HTTP_IDEMPOTENCY_KEY="d")
        assert Post.objects.count() == 2
        assert idempotency_forget_expired() == 0
    with time_machine.travel(start + timedelta(hours=50), tick=False):
        assert idempotency_forget_expired() == 1
