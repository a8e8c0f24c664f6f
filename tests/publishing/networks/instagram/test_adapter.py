"""The Instagram adapter over real HTTP, against the fake Graph API (fakemeta), with no
database: containers made, polled and published, the quota respected, errors mapped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    ErrorKind,
    MediaKind,
    MediaUpload,
    PartContent,
    Presence,
    PublishError,
    PublishRequest,
    account_key,
)
from publishing.networks.instagram import InstagramAdapter
from publishing.networks.instagram.adapter import QUOTA_WINDOW


def request_for(account, part, *, published=(), uploads=None):
    return PublishRequest(
        account=account,
        parts=(part,),
        idempotency_key="kairos-job-1",
        published_part_ids=tuple(published),
        media_uploads=uploads or {},
    )


def publish(account, store, part, **options):
    saved, uploaded = [], []
    result = InstagramAdapter().publish(
        request_for(account, part, **options),
        store=store,
        on_part_published=lambda index, external_id: saved.append((index, external_id)),
        on_media_uploaded=lambda *upload: uploaded.append(upload),
    )
    return result, saved, uploaded


def failure(account, store, part):
    with pytest.raises(PublishError) as caught:
        publish(account, store, part)
    return caught.value


def test_a_photo_goes_through_a_container_and_is_published(meta, scene, account, store, host):
    photo = host.media(1)
    result, saved, uploaded = publish(account, store, PartContent("Sourdough", media=(photo,)))

    [media] = meta.control.graph_posts(owner_id=scene.instagram_id)
    assert (media["kind"], media["message"], media["media_urls"]) == (
        "IMAGE",
        "Sourdough",
        [photo.url],
    )
    assert result.external_id == media["id"] and saved == [(0, media["id"])]
    assert result.url == f"https://www.instagram.com/p/{media['id']}/"
    [container] = meta.control.containers()
    assert container["status_code"] == "PUBLISHED"
    assert [(asset_id, media_id) for asset_id, media_id, _ in uploaded] == [(1, container["id"])]


def test_a_carousel_has_a_child_per_file_and_the_caption_on_the_parent(
    meta, scene, account, store, host
):
    files = (
        host.media(2),
        host.media(3, kind=MediaKind.VIDEO, mime_type="video/mp4"),
        host.media(4),
    )
    publish(account, store, PartContent("Three ways", media=files))

    [media] = meta.control.graph_posts(owner_id=scene.instagram_id)
    assert media["kind"] == "CAROUSEL_ALBUM" and len(media["media_urls"]) == 3
    containers = meta.control.containers()
    children = [c for c in containers if c["is_carousel_item"]]
    [parent] = [c for c in containers if c["media_type"] == "CAROUSEL"]
    assert len(children) == 3 and all(child["caption"] == "" for child in children)
    assert parent["caption"] == "Three ways" and parent["children"] == [c["id"] for c in children]


def test_a_video_is_a_reel_published_once_its_container_is_finished(
    meta, scene, account, store, host
):
    video = host.media(5, kind=MediaKind.VIDEO, mime_type="video/mp4")
    publish(account, store, PartContent("Kneading", media=(video,)))

    [container] = meta.control.containers()
    assert container["media_type"] == "REELS" and container["status_code"] == "PUBLISHED"
    requests = meta.control.stats()["requests"]
    # Asked at least twice: IN_PROGRESS, then FINISHED.
    assert requests["GET /{id}"]["200"] >= 2


def test_a_container_still_preparing_after_the_wait_is_retried_later(
    meta, scene, account, store, host, settings
):
    meta.control.set_meta_settings(video_processing_seconds=60)
    settings.INSTAGRAM_CONTAINER_TIMEOUT = 0.2
    video = host.media(6, kind=MediaKind.VIDEO, mime_type="video/mp4")
    error = failure(account, store, PartContent("Slow", media=(video,)))

    assert error.kind is ErrorKind.SERVER and not error.maybe_accepted
    assert meta.control.graph_posts(owner_id=scene.instagram_id) == []


def test_a_retry_reuses_a_container_that_is_ready(meta, scene, account, store, host):
    photo = host.media(7)
    meta.control.add_fault(
        kind="refuse_before_accept",
        refuse_mode="503",
        path_prefix=f"/{scene.instagram_id}/media_publish",
    )
    uploaded = []
    with pytest.raises(PublishError):
        InstagramAdapter().publish(
            request_for(account, PartContent("Again", media=(photo,))),
            store=store,
            on_part_published=lambda index, external_id: None,
            on_media_uploaded=lambda *upload: uploaded.append(upload),
        )
    kept = {asset_id: MediaUpload(media_id, until) for asset_id, media_id, until in uploaded}

    _, _, uploaded_again = publish(
        account, store, PartContent("Again", media=(photo,)), uploads=kept
    )

    assert uploaded_again == [] and len(meta.control.containers()) == 1


def test_a_kept_container_already_published_is_reconciled_not_published_again(
    meta, scene, account, store, host
):
    photo = host.media(8)
    _, _, uploaded = publish(account, store, PartContent("Once", media=(photo,)))
    kept = {asset_id: MediaUpload(media_id, until) for asset_id, media_id, until in uploaded}

    with pytest.raises(PublishError) as caught:
        publish(account, store, PartContent("Once", media=(photo,)), uploads=kept)

    assert caught.value.maybe_accepted
    assert meta.control.posts_created(scene.instagram_id, "Once") == 1


# --- The quota and errors ----------------------------------------------------------------


def test_a_spent_publishing_quota_waits_before_making_anything(meta, scene, account, store, host):
    meta.control.set_meta_settings(quota_total=1)
    publish(account, store, PartContent("First", media=(host.media(9),)))
    error = failure(account, store, PartContent("Second", media=(host.media(10),)))

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at > datetime.now(UTC) + timedelta(minutes=30)
    assert len(meta.control.containers()) == 1
    reading = store.window(account_key(account.id), QUOTA_WINDOW)
    assert (reading.limit, reading.remaining) == (1, 0)


def test_a_file_meta_cannot_download_is_tried_again_as_nothing_was_made(meta, account, store, host):
    error = failure(account, store, PartContent("404", media=(host.media(11, served=False),)))

    assert error.kind is ErrorKind.SERVER and not error.maybe_accepted
    assert "KAIROS_PUBLIC_URL" in error.message
    assert meta.control.stats()["posts_created_total"] == 0


def test_a_revoked_sign_in_sends_the_account_to_reconnecting(meta, scene, account, store, host):
    meta.control.revoke_tokens(scene.user_id)
    error = failure(account, store, PartContent("Hello", media=(host.media(12),)))

    assert error.kind is ErrorKind.AUTH_EXPIRED and error.details[ACCOUNT_NEEDS_REAUTH]
    assert store.accounts[account.id].needs_reauth


def test_a_missing_publishing_permission_is_forbidden(meta, account, store, host):
    scene = meta.control.create_page_scene(
        instagram_username="limited", scopes=["instagram_basic", "pages_show_list"]
    )
    account = replace(
        account, external_id=scene.instagram_id, credentials={"access_token": scene.page_token}
    )
    error = failure(account, store, PartContent("Hello", media=(host.media(13),)))

    assert error.kind is ErrorKind.FORBIDDEN and "instagram_content_publish" in error.message


def test_a_spent_account_allowance_is_rate_limited(meta, account, store, host):
    meta.control.set_meta_settings(object_calls_per_hour=2)
    error = failure(account, store, PartContent("Busy", media=(host.media(14),)))

    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_at > datetime.now(UTC)


def test_a_server_error_on_publish_may_have_been_accepted(meta, scene, account, store, host):
    meta.control.add_fault(
        kind="status", status=500, path_prefix=f"/{scene.instagram_id}/media_publish"
    )
    error = failure(account, store, PartContent("Maybe", media=(host.media(15),)))

    assert error.kind is ErrorKind.SERVER and error.maybe_accepted


# --- Reconciliation, metrics, delete, profile ---------------------------------------------


def test_media_published_by_an_interrupted_attempt_is_found(meta, scene, account, store, host):
    since = datetime.now(UTC)
    meta.control.add_fault(
        kind="accept_then_drop", path_prefix=f"/{scene.instagram_id}/media_publish"
    )
    part = PartContent("Did it go?", media=(host.media(16),))
    failure(account, store, part)

    lookup = InstagramAdapter().find_part(
        request_for(account, part), index=0, since=since, store=store
    )

    [media] = meta.control.graph_posts(owner_id=scene.instagram_id)
    assert (lookup.presence, lookup.external_id) == (Presence.FOUND, media["id"])


def test_media_that_never_arrived_is_surely_absent(meta, account, store, host):
    part = PartContent("Never", media=(host.media(17),))
    lookup = InstagramAdapter().find_part(
        request_for(account, part), index=0, since=datetime.now(UTC), store=store
    )

    assert lookup.presence is Presence.ABSENT


def test_metrics_come_from_insights_and_deleted_media_is_gone(meta, account, store, host):
    kept, _, _ = publish(account, store, PartContent("Counted", media=(host.media(18),)))
    deleted, _, _ = publish(account, store, PartContent("Deleted", media=(host.media(19),)))
    meta.control.set_counts(kept.external_id, likes=9, comments=4, shares=1, views=300, saved=2)
    InstagramAdapter().delete(account=account, external_id=deleted.external_id, store=store)

    reading = InstagramAdapter().metrics_fetch(
        account=account, external_ids=[kept.external_id, deleted.external_id], store=store
    )

    numbers = reading.metrics[kept.external_id]
    assert (numbers.likes, numbers.replies, numbers.reposts, numbers.impressions) == (9, 4, 1, 300)
    assert numbers.bookmarks == 2
    assert reading.gone == {deleted.external_id}
    # One multi-ID read of both (failed whole, #803), then each on its own.
    assert meta.control.stats()["requests"]["GET /insights"] == {"404": 2, "200": 1}


def test_the_profile_is_the_instagram_accounts(meta, scene, account, store):
    profile = InstagramAdapter().profile_fetch(account=account, store=store)

    assert (profile.external_id, profile.handle) == (scene.instagram_id, "kairos.bakery")
