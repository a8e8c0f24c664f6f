from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from posts.models import Post
from publishing.models import JobStatus as S
from scheduling.models import Schedule
from tests.factories import MembershipFactory, PostFactory, PublishJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    membership = MembershipFactory()
    membership.user.is_superuser = True
    membership.user.save()
    client.force_login(membership.user)
    return membership


def doubtful_job(staff):
    return PublishJobFactory(
        post__workspace=staff.workspace,
        status=S.NEEDS_REVIEW,
        error_message="The attempt was cut short and X could not say whether it went out.",
    )


def test_a_job_in_review_offers_mark_as_published(client, staff):
    job = doubtful_job(staff)
    page = client.get(reverse("admin:publishing_publishjob_change", args=[job.pk]))
    assert "Mark as published…" in page.content.decode()
    other = PublishJobFactory(post__workspace=staff.workspace, status=S.FAILED)
    page = client.get(reverse("admin:publishing_publishjob_change", args=[other.pk]))
    assert "Mark as published…" not in page.content.decode()


def test_staff_record_the_link_they_found(client, staff):
    job = doubtful_job(staff)
    url = reverse("admin:publishing_publishjob_mark_published", args=[job.pk])
    page = client.get(url)
    assert "could not say whether it went out" in page.content.decode()
    response = client.post(url, {"url": "https://x.com/brand/status/1869000000000000001"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.external_id) == (S.PUBLISHED, "1869000000000000001")
    job.post.refresh_from_db()
    assert job.post.status == Post.Status.PUBLISHED
    event = AuditEvent.objects.get(action="job.marked_published")
    assert event.actor == staff.user


def test_a_job_no_longer_in_review_is_not_marked(client, staff):
    job = doubtful_job(staff)
    job.__class__.objects.filter(pk=job.pk).update(status=S.PENDING)
    client.post(
        reverse("admin:publishing_publishjob_mark_published", args=[job.pk]),
        {"url": "https://x.com/brand/status/1"},
    )
    job.refresh_from_db()
    assert job.status == S.PENDING


def test_cancel_and_retry_actions(client, staff):
    doubtful = doubtful_job(staff)
    running = PublishJobFactory(post__workspace=staff.workspace, status=S.RUNNING)
    changelist = reverse("admin:publishing_publishjob_changelist")
    response = client.post(
        changelist,
        {"action": "cancel", "_selected_action": [doubtful.pk, running.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert f"Job {doubtful.pk} is cancelled." in page
    assert f"Job {running.pk} is running; it can no longer be cancelled." in page
    failed = PublishJobFactory(post__workspace=staff.workspace, status=S.FAILED)
    client.post(changelist, {"action": "retry", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == S.PENDING


def test_jobs_of_other_workspaces_cannot_be_marked(client, staff):
    foreign = PublishJobFactory(status=S.NEEDS_REVIEW)
    staff.user.is_superuser = False
    staff.user.save()
    response = client.get(reverse("admin:publishing_publishjob_mark_published", args=[foreign.pk]))
    assert response.status_code == 404


def test_job_pages_show_instants_with_seconds_and_zone_and_how_late_it_went(client, staff):
    due = datetime(2026, 3, 12, 9, 0, 0, tzinfo=UTC)
    job = PublishJobFactory(
        post__workspace=staff.workspace,
        status=S.PUBLISHED,
        occurrence_at=due,
        due_at=due,
        published_at=due + timedelta(seconds=1, milliseconds=250),
    )
    listed = client.get(reverse("admin:publishing_publishjob_changelist")).content.decode()
    assert "2026-03-12 09:00:00 UTC" in listed
    assert "1.250 s" in listed
    page = client.get(reverse("admin:publishing_publishjob_change", args=[job.pk]))
    assert "2026-03-12 09:00:01 UTC" in page.content.decode()


def test_a_date_reads_back_as_it_was_typed(client, staff):
    post = PostFactory(workspace=staff.workspace)
    Schedule.objects.create(
        post=post, local_date=date(2026, 3, 12), local_time=time(9, 30), timezone="UTC"
    )
    page = client.get(reverse("admin:posts_post_change", args=[post.pk])).content.decode()
    assert 'value="2026-03-12"' in page
    assert "12/03/2026" not in page and "03/12/2026" not in page
