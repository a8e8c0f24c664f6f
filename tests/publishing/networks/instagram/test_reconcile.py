"""Instagram jobs end to end through job_execute, with the account and its photo in the
database and Kairos serving the photo at its signed address (a live server): Meta's
fake downloads it from there, as Meta does. A dropped answer is settled by
reconciliation into exactly one post; a revoked sign-in makes the job wait."""

import pytest

from accounts.services import social_account_connect
from posts.media import media_asset_create
from posts.models import PartMedia, PostPart
from publishing.execution import job_execute, job_reconcile
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory
from tests.media_files import image_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stored_account(meta, scene, settings, live_server, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KAIROS_PUBLIC_URL = live_server.url
    return social_account_connect(
        network="instagram",
        workspace=WorkspaceFactory(),
        external_id=scene.instagram_id,
        handle="kairos.bakery",
        credentials={"access_token": scene.page_token, "page_id": scene.page_id},
    )


def job_with_photo(account, text):
    post = PostFactory(workspace=account.workspace, texts=[text])
    photo = media_asset_create(
        workspace=account.workspace, file=image_upload("photo.jpg", image_format="JPEG"), actor=None
    )
    PartMedia.objects.create(part=PostPart.objects.get(post=post), asset=photo)
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)


def test_a_photo_is_fetched_from_kairos_and_published(meta, scene, stored_account, live_server):
    job = job_with_photo(stored_account, "From the library")

    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    [media] = meta.control.graph_posts(owner_id=scene.instagram_id)
    assert job.external_id == media["id"]
    assert media["media_urls"][0].startswith(f"{live_server.url}/library/signed/")


def test_a_dropped_publish_is_reconciled_into_one_post(meta, scene, stored_account):
    job = job_with_photo(stored_account, "Exactly once")
    meta.control.add_fault("accept_then_drop", path_prefix=f"/{scene.instagram_id}/media_publish")
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)

    assert job_reconcile(job_id=job.pk, token=job.claim_token + 2) == S.PUBLISHED
    job.refresh_from_db()
    assert meta.control.posts_created(scene.instagram_id, "Exactly once") == 1
    assert job.attempts.get().outcome == PublishAttempt.Outcome.SUCCESS


def test_a_revoked_sign_in_makes_the_job_wait_for_reconnecting(meta, scene, stored_account):
    job = job_with_photo(stored_account, "Waits")
    meta.control.revoke_tokens(scene.user_id)

    job_execute(job_id=job.pk)

    stored_account.refresh_from_db()
    job.refresh_from_db()
    assert stored_account.status == stored_account.Status.NEEDS_REAUTH
    assert job.status != S.FAILED
    assert meta.control.posts_created(scene.instagram_id, "Waits") == 0
