"""Media to X over real HTTP against the fake X: chunked upload, processing, alt text,
threads with images, and uploads kept across retries. The clock moves; nothing sleeps."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from posts.models import MediaAsset, PartMedia
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from publishing.networks.base import ErrorKind, MediaUpload, PartContent, PublishRequest
from publishing.networks.x import XAdapter
from publishing.networks.x.media import PROCESSING_WAIT_SECONDS
from publishing.stores import media_file
from tests.factories import PostFactory, PublishJobFactory
from tests.networks import adapter_args

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def x(fake_x, settings, tmp_path, clock):
    fake_x.control.reset()
    fake_x.control.set_media_processing(seconds=0)
    settings.X_API_BASE_URL = fake_x.url
    settings.MEDIA_ROOT = tmp_path
    return fake_x


@pytest.fixture
def slept(monkeypatch, clock):
    """Waits the uploader asked for; each one moves the clock instead of sleeping."""
    waits = []

    def wait(seconds):
        waits.append(seconds)
        clock.shift(seconds)

    monkeypatch.setattr("publishing.networks.x.media.sleep", wait)
    return waits


def media(account, name, *, size=1000, kind=MediaAsset.Kind.IMAGE, mime="image/png", alt=""):
    asset = MediaAsset(
        workspace=account.workspace, kind=kind, mime_type=mime, size_bytes=size, alt_text=alt
    )
    asset.file.save(name, ContentFile(b"\x89" * size))
    return asset


def video(account, name="clip.mp4", *, size=1000):
    return media(account, name, size=size, kind=MediaAsset.Kind.VIDEO, mime="video/mp4")


def job_with(account, *parts: tuple[str, list[MediaAsset]]) -> PublishJob:
    post = PostFactory(workspace=account.workspace, texts=[text for text, _ in parts])
    for part, (_, assets) in zip(post.parts.all(), parts, strict=True):
        for position, asset in enumerate(assets):
            PartMedia.objects.create(part=part, asset=asset, position=position)
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)


def publish(account, *parts: PartContent, kept=None):
    uploads = []
    snapshot, store = adapter_args(account)
    result = XAdapter().publish(
        PublishRequest(
            account=snapshot,
            # The files as adapters take them (these tests hand MediaAsset rows).
            parts=tuple(
                PartContent(text=part.text, media=tuple(media_file(a) for a in part.media))
                for part in parts
            ),
            idempotency_key="kairos-job-1",
            media_uploads=kept or {},
        ),
        store=store,
        on_part_published=lambda index, external_id: None,
        on_media_uploaded=lambda *upload: uploads.append(upload),
    )
    return result, uploads


def posted(x, account):
    return {post["id"]: post for post in x.control.posts(user_id=account.external_id)}


def test_images_go_up_with_their_alt_text_and_are_attached(x, account):
    cat = media(account, "cat.png", alt="A cat asleep on a keyboard")
    dog = media(account, "dog.png")

    result, uploads = publish(account, PartContent(text="Pets", media=(cat, dog)))

    uploaded = x.control.media(user_id=account.external_id)
    assert [(item["media_category"], item["alt_text"]) for item in uploaded] == [
        ("tweet_image", "A cat asleep on a keyboard"),
        ("tweet_image", ""),
    ]
    post = posted(x, account)[result.external_id]
    assert post["media_keys"] == [item["media_key"] for item in uploaded]
    assert [(asset_id, media_id) for asset_id, media_id, _ in uploads] == [
        (cat.pk, uploaded[0]["id"]),
        (dog.pk, uploaded[1]["id"]),
    ]
    # Finalized media lives a day on X; the job keeps that expiry.
    assert {expires_at for *_, expires_at in uploads} == {timezone.now() + timedelta(days=1)}


def test_a_big_file_goes_in_4_mib_segments(x, account):
    clip = video(account, size=9 * MIB)

    publish(account, PartContent(text="Watch", media=(clip,)))

    assert x.control.stats()["media"]["segments_appended"] == 3
    assert x.control.media()[0]["total_bytes"] == 9 * MIB


def test_processing_is_awaited_at_the_pace_x_asks(x, account, slept):
    x.control.set_media_processing(seconds=8)

    result, _ = publish(account, PartContent(text="Watch", media=(video(account),)))

    # pending (check after 1 s) twice, then in progress with 6 s to go, then succeeded.
    assert slept == [1, 1, 6]
    assert posted(x, account)[result.external_id]["media_keys"]


def test_a_file_x_cannot_process_fails_the_job_with_xs_reason(x, account):
    x.control.set_media_processing(seconds=0, outcome="failed")
    gif = media(account, "dance.gif", kind=MediaAsset.Kind.GIF, mime="image/gif")
    job = job_with(account, ("Dance", [gif]))

    assert job_execute(job_id=job.pk) == S.FAILED

    job.refresh_from_db()
    assert job.error_kind == ErrorKind.VALIDATION
    assert job.error_message.startswith("X could not process media/2026/03/dance")
    assert "(Unsupported video format); replace the file and publish again." in job.error_message
    assert posted(x, account) == {}


def test_processing_waits_are_bounded_and_the_next_attempt_reuses_the_upload(
    x, account, slept, clock
):
    x.control.set_media_processing(seconds=300)
    job = job_with(account, ("Long video", [video(account)]))

    assert job_execute(job_id=job.pk) == S.PENDING

    job.refresh_from_db()
    assert sum(slept) <= PROCESSING_WAIT_SECONDS
    assert job.error_kind == ErrorKind.SERVER
    assert "still processing" in job.error_message
    assert list(job.media_uploads) == [str(job.post.parts.get().media.get().pk)]

    clock.shift(job.next_attempt_at - timezone.now() + timedelta(minutes=5))
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    assert x.control.stats()["media"]["initialized"] == 1


def test_a_thread_with_images_goes_out_in_order_each_part_with_its_own(x, account):
    first, second, third = (media(account, f"{n}.png") for n in ("one", "two", "three"))
    job = job_with(account, ("1/3", [first]), ("2/3", [second, third]), ("3/3 no picture", []))

    assert job_execute(job_id=job.pk) == S.PUBLISHED

    job.refresh_from_db()
    posts = posted(x, account)
    parts = [posts[post_id] for post_id in job.part_external_ids]
    keys = {item["id"]: item["media_key"] for item in x.control.media()}
    uploads = {int(asset_id): kept["media_id"] for asset_id, kept in job.media_uploads.items()}
    assert [part["text"] for part in parts] == ["1/3", "2/3", "3/3 no picture"]
    assert [part["in_reply_to_tweet_id"] for part in parts] == [
        None,
        job.part_external_ids[0],
        job.part_external_ids[1],
    ]
    assert [part["media_keys"] for part in parts] == [
        [keys[uploads[first.pk]]],
        [keys[uploads[second.pk]], keys[uploads[third.pk]]],
        [],
    ]


def test_a_retry_uses_the_files_already_uploaded(x, account, clock):
    one, two = media(account, "one.png", alt="First"), media(account, "two.png")
    job = job_with(account, ("1/2", [one]), ("2/2", [two]))
    x.control.add_fault("status", status=429, method="POST", path_prefix="/2/tweets")

    assert job_execute(job_id=job.pk) == S.PENDING
    job.refresh_from_db()
    assert set(job.media_uploads) == {str(one.pk), str(two.pk)}

    clock.shift(job.next_attempt_at - timezone.now() + timedelta(seconds=1))
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED

    assert x.control.stats()["media"]["initialized"] == 2
    assert [item["alt_text"] for item in x.control.media()] == ["First", ""]
    job.refresh_from_db()
    assert all(posted(x, account)[post_id]["media_keys"] for post_id in job.part_external_ids)


def test_an_upload_about_to_expire_is_sent_again(x, account):
    image = media(account, "soon.png")
    publish(account, PartContent(text="First", media=(image,)))
    media_id = x.control.media()[0]["id"]
    expiring = {image.pk: MediaUpload(media_id, timezone.now() + timedelta(minutes=5))}

    publish(account, PartContent(text="Second", media=(image,)), kept=expiring)

    assert x.control.stats()["media"]["initialized"] == 2


def test_an_upload_x_no_longer_knows_is_sent_again(x, account):
    image = media(account, "lost.png")
    forgotten = {image.pk: MediaUpload("1234567890123456789", timezone.now() + timedelta(days=1))}

    result, uploads = publish(account, PartContent(text="Again", media=(image,)), kept=forgotten)

    assert len(uploads) == 1
    assert posted(x, account)[result.external_id]["media_keys"]


def test_a_media_call_cut_short_is_retried_not_reconciled(x, account):
    x.control.add_fault("status", status=503, method="POST", path_prefix="/2/media/upload")
    job = job_with(account, ("Hello", [media(account, "a.png")]))

    assert job_execute(job_id=job.pk) == S.PENDING

    job.refresh_from_db()
    assert job.error_kind == ErrorKind.SERVER
    assert job.attempts.get().outcome == "retry"
