"""The integrator's path over real HTTP, through real Celery processes: a key with write
and publish uploads an image, composes a thread for a sandbox and a (fake) X account,
scheduled in a non-UTC zone, sending its Idempotency-Key twice; one post exists and it
goes out once, on time, on both networks.

Webhooks (issue 13, item 4) are another helper's: their receiver is to join this test.
"""

import time
from datetime import timedelta

import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.keys import api_key_create
from accounts.timezones import utc_to_wall, zone_get
from posts.models import Post
from publishing.beat import beat_entries_ensure
from publishing.models import JobStatus, PublishJob, SandboxPost
from tests.factories import MembershipFactory, SandboxAccountFactory
from tests.media_files import image_upload
from tests.x_oauth import x_account_with_fresh_tokens, x_app_configure

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ZONE = "America/Sao_Paulo"
# No warm-up post: the first task pays for the worker's start, hence more than 2 s.
ON_TIME_SECONDS = 8.0


@pytest.fixture
def celery_env(x):
    # The worker talks to the fake X and reads credentials with this process's key.
    return {"X_API_BASE_URL": x.url, "DJANGO_SECRET_KEY": django_settings.SECRET_KEY}


def wait_until_finished(post_id: int, *, count: int, timeout: float) -> list[PublishJob]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = list(PublishJob.objects.filter(post_id=post_id))
        waiting = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
        if len(jobs) == count and all(job.status not in waiting for job in jobs):
            return jobs
        time.sleep(0.05)
    raise AssertionError(f"post {post_id} was not published within {timeout}s")


def test_a_key_composes_schedules_and_publishes_a_thread_once(
    live_server, celery_processes, x, settings, monkeypatch, tmp_path
):
    x_app_configure(x, settings, monkeypatch)
    settings.MEDIA_ROOT = tmp_path / "media"  # where the worker (KAIROS_DATA_DIR) reads
    beat_entries_ensure()
    owner = MembershipFactory()
    workspace = owner.workspace
    sandbox = SandboxAccountFactory(workspace=workspace, handle="api-sandbox")
    on_x = x_account_with_fresh_tokens(x, workspace=workspace, username="api_x")
    _, secret = api_key_create(
        workspace=workspace, name="integration", scopes=["write", "publish"], actor=owner.user
    )
    api = requests.Session()
    api.headers["Authorization"] = f"Api-Key {secret}"
    base = f"{live_server.url}/api/v1"

    uploaded = api.post(
        f"{base}/media/", files={"file": image_upload()}, data={"alt_text": "A chart"}
    )
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()["id"]

    due = (timezone.now() + timedelta(seconds=8)).replace(microsecond=0)
    local = utc_to_wall(due, zone_get(ZONE))
    body = {
        "parts": [
            {"text": "Our launch, in two parts.", "media": [image]},
            {"text": "And the details."},
        ],
        "targets": [{"account": sandbox.pk}, {"account": on_x.pk}],
        "schedule": {
            "kind": "once",
            "local_date": local.date().isoformat(),
            "local_time": local.time().replace(tzinfo=None).isoformat(),
            "timezone": ZONE,
        },
    }
    headers = {"Idempotency-Key": "launch-thread-1"}
    first = api.post(f"{base}/posts/", json=body, headers=headers)
    again = api.post(f"{base}/posts/", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Post.objects.count() == 1
    assert first.json()["schedule"]["next_occurrence_at"] == due.isoformat().replace("+00:00", "Z")

    jobs = wait_until_finished(first.json()["id"], count=2, timeout=60)
    assert {job.status for job in jobs} == {JobStatus.PUBLISHED}, [j.error_message for j in jobs]
    for job in jobs:
        assert 0 <= (job.published_at - due).total_seconds() < ON_TIME_SECONDS
    assert SandboxPost.objects.filter(account=sandbox).count() == 2
    x_posts = x.control.posts(user_id=on_x.external_id)
    assert [post["text"] for post in x_posts] == [
        "Our launch, in two parts.",
        "And the details.",
    ] or sorted(post["text"] for post in x_posts) == [
        "And the details.",
        "Our launch, in two parts.",
    ]
    assert len(x.control.media(user_id=on_x.external_id)) == 1

    read = api.get(f"{base}/posts/{first.json()['id']}/").json()
    assert read["status"] == "published"
    assert all(job["external_url"] for job in read["jobs"])
