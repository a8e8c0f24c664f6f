"""Concurrent requests with one Idempotency-Key, on PostgreSQL over real HTTP: the work
is done once; every other request gets the first answer or 409 (accounts/idempotency.py)."""

import threading

import pytest
import requests

from accounts.keys import api_key_create
from posts.models import Post
from tests.factories import MembershipFactory, SandboxAccountFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONTENDERS = 8


def test_concurrent_requests_with_one_key_create_one_post(live_server):
    owner = MembershipFactory()
    account = SandboxAccountFactory(workspace=owner.workspace)
    _, secret = api_key_create(
        workspace=owner.workspace, name="race", scopes=["write"], actor=owner.user
    )
    body = {"parts": [{"text": "Once only"}], "targets": [{"account": account.pk}]}
    headers = {"Authorization": f"Api-Key {secret}", "Idempotency-Key": "race-1"}
    start = threading.Barrier(CONTENDERS)
    answers = []

    def send() -> None:
        start.wait()
        answer = requests.post(f"{live_server.url}/api/v1/posts/", json=body, headers=headers)
        answers.append((answer.status_code, answer.json()))

    threads = [threading.Thread(target=send) for _ in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Post.objects.count() == 1
    codes = sorted(code for code, _ in answers)
    assert len(codes) == CONTENDERS
    assert set(codes) <= {201, 409}, answers
    created = [answer for code, answer in answers if code == 201]
    assert all(answer["id"] == Post.objects.get().pk for answer in created)
