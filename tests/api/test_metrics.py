"""Metric snapshots per job through the API: read only, in the caller's workspaces,
narrowed by job, account and time."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import MetricsSnapshot
from tests.api.conftest import key_client
from tests.factories import PublishJobFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def snapshots(job, hours):
    for hour in hours:
        at = T0 + timedelta(hours=hour)
        MetricsSnapshot.objects.create(job=job, due_at=at, collected_at=at, likes=hour)


def test_snapshots_are_listed_newest_first_by_job_account_and_time():
    job = PublishJobFactory()
    sibling = PublishJobFactory(post=job.post)
    snapshots(job, [1, 6, 24])
    snapshots(sibling, [1])
    client = key_client(job.post.workspace, "read")
    everything = client.get("/api/v1/metrics/").json()["results"]
    assert len(everything) == 4 and everything[0]["likes"] == 24
    assert everything[0]["post"] == job.post_id and everything[0]["account"] == job.account_id
    by_job = client.get(f"/api/v1/metrics/?job={job.pk}").json()["results"]
    assert [row["likes"] for row in by_job] == [24, 6, 1]
    by_account = client.get(f"/api/v1/metrics/?account={sibling.account_id}").json()["results"]
    assert [row["job"] for row in by_account] == [sibling.pk]
    window = client.get(
        "/api/v1/metrics/",
        {
            "job": job.pk,
            "collected_after": "2026-10-01T15:00:00Z",
            "collected_before": "2026-10-02T00:00:00Z",
        },
    ).json()["results"]
    assert [row["likes"] for row in window] == [6]
    paged = client.get(f"/api/v1/metrics/?job={job.pk}&page_size=2").json()
    assert len(paged["results"]) == 2 and paged["next"]


def test_snapshots_of_another_workspace_are_not_found_and_none_is_written():
    job = PublishJobFactory()
    snapshots(job, [1])
    snapshot = MetricsSnapshot.objects.get()
    other = key_client(PublishJobFactory().post.workspace, "read", "write", "publish", "admin")
    assert other.get("/api/v1/metrics/").json()["results"] == []
    assert other.get(f"/api/v1/metrics/?job={job.pk}").json()["results"] == []
    assert other.get(f"/api/v1/metrics/{snapshot.pk}/").status_code == 404
    mine = key_client(job.post.workspace, "write")
    assert mine.get(f"/api/v1/metrics/{snapshot.pk}/").json()["likes"] == 1
    assert mine.post("/api/v1/metrics/", {"job": job.pk}, format="json").status_code == 405
    assert mine.delete(f"/api/v1/metrics/{snapshot.pk}/").status_code == 405
