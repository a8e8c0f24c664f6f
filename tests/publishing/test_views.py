import pytest
from django.utils import timezone

from publishing.execution import job_execute
from publishing.heartbeats import heartbeat_worker_record
from publishing.models import Heartbeat, SandboxPost
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_published_sandbox_thread_has_a_page_a_person_can_open(client):
    account = SandboxAccountFactory(handle="brand", display_name="The Brand")
    post = PostFactory(workspace=account.workspace, texts=["First <b>part</b>", "Second part"])
    job = PublishJobFactory(post=post, account=account, status="queued")
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    second = SandboxPost.objects.get(pk=job.part_external_ids[1])
    response = client.get(f"/sandbox/brand/{second.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The Brand" in page
    assert "First &lt;b&gt;part&lt;/b&gt;" in page
    assert page.index("First") < page.index("Second part")
    assert f"reply to {job.external_id}" in page


def test_a_post_of_another_handle_is_not_found(client):
    account = SandboxAccountFactory(handle="brand")
    job = PublishJobFactory(account=account, status="queued")
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert client.get(f"/sandbox/other/{job.external_id}/").status_code == 404


def test_health_answers_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_health_asks_nothing_of_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_ready_answers_200_with_every_check_when_kairos_can_publish(client):
    now = timezone.now()
    Heartbeat.objects.create(kind=Heartbeat.Kind.TICK, name="dispatch", seen_at=now)
    heartbeat_worker_record(name="host:1", now=now)
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "tick", "workers", "backlog"}
    assert body["checks"]["workers"] == {"ok": True, "seen": 1}
    assert "host:1" not in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_ready_answers_503_naming_what_fails(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["tick"]["ok"] is False
    assert body["checks"]["tick"]["last_tick_at"] is None


def test_info_is_json_with_version_settings_and_counts_for_a_superuser(client):
    client.force_login(UserFactory(is_superuser=True))
    body = client.get("/info").json()
    assert set(body) == {"version", "commit", "settings", "counts"}
    assert body["settings"]["database"] == "sqlite"


def test_info_answers_the_metrics_token_and_no_one_else(client, settings):
    settings.KAIROS_METRICS_TOKEN = "s3cret"
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}):
        refused = client.get("/info", **headers)
        assert refused.status_code == 401 and "superuser" in refused.json()["detail"]
    owner = MembershipFactory(role="owner").user  # staff, a workspace's owner, not the operator
    client.force_login(owner)
    assert client.get("/info").status_code == 401
    client.logout()
    assert client.get("/info", HTTP_AUTHORIZATION="Bearer s3cret").json()["version"]


def test_probes_and_metrics_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 404  # off, not redirected
    assert client.get("/admin/").status_code == 301
