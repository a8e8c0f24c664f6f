"""LinkedIn jobs end to end through job_execute, with the account in the database: a post
goes out, a dropped answer is settled by reconciliation into exactly one post (an
organization's posts listed, a member's found by LinkedIn's duplicate answer; left to
staff when that cannot be asked), and a lapsed sign-in makes the job wait
for reconnecting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import social_account_connect
from posts.media import media_asset_create
from publishing.execution import job_execute, job_reconcile
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory
from tests.media_files import video_upload

pytestmark = pytest.mark.django_db


def stored(scene, *, organization: bool, expires_in=timedelta(days=60)) -> SocialAccount:
    author = scene.organization_urn if organization else scene.member_urn
    return social_account_connect(
        network="linkedin",
        workspace=WorkspaceFactory(),
        external_id=author,
        handle="Kairos Bakery" if organization else "Ada Lovelace",
        credentials={"access_token": scene.access_token, "author": author},
        expires_at=timezone.now() + expires_in,
    )


def job_for(account, text):
    post = PostFactory(workspace=account.workspace, texts=[text])
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)


def dropped(linkedin, job):
    """Execute the job with LinkedIn's answer lost after it acted; hand the job to the
    sweeper's reconciliation as its lease would."""
    linkedin.control.add_fault("accept_then_drop", method="POST", path_prefix="/rest/posts")
    assert job_execute(job_id=job.pk) == S.RUNNING
    job.refresh_from_db()
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)
    return job_reconcile(job_id=job.pk, token=job.claim_token + 2)


def test_a_post_is_published_with_its_urn_and_link(linkedin, scene):
    job = job_for(stored(scene, organization=True), "Fresh bread (warm)")

    assert job_execute(job_id=job.pk) == S.PUBLISHED

    job.refresh_from_db()
    [post] = linkedin.control.linkedin_posts(author=scene.organization_urn)
    assert post["commentary"] == r"Fresh bread \(warm\)"
    assert (job.external_id, job.external_url) == (
        post["urn"],
        f"https://www.linkedin.com/feed/update/{post['urn']}/",
    )


def test_a_library_video_is_uploaded_in_parts_and_posted(linkedin, scene, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    linkedin.control.set_linkedin_settings(video_part_bytes=50_000)
    account = stored(scene, organization=False)
    job = job_for(account, "Our oven, filmed")
    clip = video_upload(seconds=20.0, mdat_bytes=120_000)
    asset = media_asset_create(workspace=account.workspace, file=clip, actor=None)
    job.post.parts.get().media.add(asset)

    assert job_execute(job_id=job.pk) == S.PUBLISHED

    job.refresh_from_db()
    [post] = linkedin.control.linkedin_posts(author=scene.member_urn)
    assert post["content"]["media"]["id"] == job.media_uploads[str(asset.pk)]["media_id"]
    assert linkedin.control.stats()["video_parts_uploaded"] == 3


def test_an_organizations_dropped_answer_is_reconciled_into_one_post(linkedin, scene):
    job = job_for(stored(scene, organization=True), "Exactly once")

    assert dropped(linkedin, job) == S.PUBLISHED

    job.refresh_from_db()
    assert linkedin.control.posts_created(scene.organization_urn, "Exactly once") == 1
    assert job.attempts.get().outcome == PublishAttempt.Outcome.SUCCESS


def test_a_members_dropped_answer_is_reconciled_by_linkedins_duplicate_answer(
    linkedin, scene, settings
):
    settings.LINKEDIN_MEMBER_DUPLICATE_PROBE = True
    job = job_for(stored(scene, organization=False), "Exactly once, as a member")

    assert dropped(linkedin, job) == S.PUBLISHED

    job.refresh_from_db()
    [post] = linkedin.control.linkedin_posts(author=scene.member_urn)
    assert job.external_id == post["urn"]
    assert linkedin.control.posts_created(scene.member_urn, "Exactly once, as a member") == 1


def test_a_members_dropped_answer_long_unsettled_is_left_to_staff_with_the_reason(
    linkedin, scene, settings
):
    settings.LINKEDIN_MEMBER_DUPLICATE_PROBE = True
    job = job_for(stored(scene, organization=False), "Cannot be listed")
    linkedin.control.add_fault("accept_then_drop", method="POST", path_prefix="/rest/posts")
    assert job_execute(job_id=job.pk) == S.RUNNING
    job.attempts.update(started_at=timezone.now() - timedelta(hours=2))

    settled = S.RUNNING
    while settled == S.RUNNING:
        job.refresh_from_db()
        PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)
        settled = job_reconcile(job_id=job.pk, token=job.claim_token + 2)

    job.refresh_from_db()
    # Neither published nor sent again: LinkedIn cannot say, so Kairos does not guess.
    assert settled == S.NEEDS_REVIEW and job.external_id == ""
    assert "r_member_social" in job.error_message and "too long" in job.error_message
    assert linkedin.control.posts_created(scene.member_urn, "Cannot be listed") == 1


def test_a_lapsed_sign_in_makes_the_job_wait_for_reconnecting(linkedin, scene):
    account = stored(scene, organization=False, expires_in=timedelta(seconds=-1))
    job = job_for(account, "Waits")

    job_execute(job_id=job.pk)

    account.refresh_from_db()
    job.refresh_from_db()
    assert account.status == SocialAccount.Status.NEEDS_REAUTH
    assert job.status != S.FAILED
    assert linkedin.control.stats()["posts_created_total"] == 0


def test_a_retired_version_holds_the_job_until_an_operator_moves_it_on(linkedin, scene, settings):
    linkedin.control.set_linkedin_settings(versions_as_of="202607")
    settings.LINKEDIN_VERSION = "202401"  # retired in January 2025
    job = job_for(stored(scene, organization=True), "Opening hours")

    assert job_execute(job_id=job.pk) == S.PENDING

    job.refresh_from_db()
    assert job.next_attempt_at > timezone.now() + timedelta(minutes=14)
    assert "LINKEDIN_VERSION" in job.error_message
    assert linkedin.control.linkedin_posts(author=scene.organization_urn) == []
    # The operator sets a current version; the job, queued again, goes out once.
    settings.LINKEDIN_VERSION = "202607"
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    assert len(linkedin.control.linkedin_posts(author=scene.organization_urn)) == 1
