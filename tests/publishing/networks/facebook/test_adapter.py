"""The Facebook Pages adapter over real HTTP, against the fake Graph API (fakemeta), with
no database: the Page is plain data and what Meta reports is kept in memory."""

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
from publishing.networks.facebook import FacebookAdapter
from publishing.networks.graph import BUC_WINDOW


def request_for(account, *parts, published=(), uploads=None):
    return PublishRequest(
        account=account,
        parts=tuple(part if isinstance(part, PartContent) else PartContent(part) for part in parts),
        idempotency_key="kairos-job-1",
        published_part_ids=tuple(published),
        media_uploads=uploads or {},
    )


def publish(account, store, *parts, **options):
    saved, uploaded = [], []
    result = FacebookAdapter().publish(
        request_for(account, *parts, **options),
        store=store,
        on_part_published=lambda index, external_id: saved.append((index, external_id)),
        on_media_uploaded=lambda asset_id, media_id, expires_at: uploaded.append(
            (asset_id, media_id)
        ),
    )
    return result, saved, uploaded


def failure(account, store, text="Fresh bread at nine"):
    with pytest.raises(PublishError) as caught:
        publish(account, store, text)
    return caught.value


def test_a_text_post_goes_to_the_page_feed(meta, scene, account, store):
    result, saved, _ = publish(account, store, "Fresh bread at nine")

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (post["message"], post["kind"]) == ("Fresh bread at nine", "status")
    assert result.external_id == post["id"] and saved == [(0, post["id"])]
    assert result.url == f"https://www.facebook.com/{post['id']}"
    # The usage headers became readings: the Page's own allowance among them.
    assert store.window(account_key(account.id), BUC_WINDOW).limit == 100


def test_the_first_link_of_the_text_is_the_posts_link(meta, scene, account, store):
    publish(account, store, "Our menu: https://bakery.example/menu today")

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (post["link"], post["kind"]) == ("https://bakery.example/menu", "link")


def test_one_photo_is_fetched_from_its_address_and_posted_with_its_caption(
    meta, scene, account, store, host
):
    photo = host.media(11)
    result, _, _ = publish(account, store, PartContent("A loaf", media=(photo,)))

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (post["kind"], post["message"], post["media_urls"]) == ("photo", "A loaf", [photo.url])
    assert result.external_id == post["id"]
    assert host.fetches.count(photo.url.removeprefix(host.url)) == 1


def test_several_photos_are_uploaded_unpublished_then_attached_to_one_post(
    meta, scene, account, store, host
):
    photos = tuple(host.media(asset_id) for asset_id in (21, 22, 23))
    _, _, uploaded = publish(account, store, PartContent("Three loaves", media=photos))

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert post["kind"] == "album" and len(post["media_ids"]) == 3
    assert [asset_id for asset_id, _ in uploaded] == [21, 22, 23]
    assert post["media_ids"] == [media_id for _, media_id in uploaded]
    assert meta.control.posts_created(scene.page_id, "Three loaves") == 1


def test_a_retry_reuses_the_photos_an_earlier_attempt_uploaded(meta, scene, account, store, host):
    photos = (host.media(31), host.media(32))
    part = PartContent("Twice?", media=photos)
    meta.control.add_fault(
        kind="refuse_before_accept", refuse_mode="503", path_prefix=f"/{scene.page_id}/feed"
    )
    uploaded = []
    with pytest.raises(PublishError):
        FacebookAdapter().publish(
            request_for(account, part),
            store=store,
            on_part_published=lambda index, external_id: None,
            on_media_uploaded=lambda *upload: uploaded.append(upload),
        )
    kept = {asset_id: MediaUpload(media_id, until) for asset_id, media_id, until in uploaded}

    _, _, uploaded_again = publish(account, store, part, uploads=kept)

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert uploaded_again == []
    assert post["media_ids"] == [media_id for _, media_id, _ in uploaded]


def test_a_lapsed_upload_is_made_again(meta, scene, account, store, host):
    photos = (host.media(33), host.media(34))
    lapsed = {
        asset_id: MediaUpload("1", datetime.now(UTC) - timedelta(minutes=1))
        for asset_id in (33, 34)
    }
    _, _, uploaded = publish(account, store, PartContent("Again", media=photos), uploads=lapsed)

    assert [asset_id for asset_id, _ in uploaded] == [33, 34]


def test_a_video_is_fetched_by_meta_and_posted(meta, scene, account, store, host):
    video = host.media(41, kind=MediaKind.VIDEO, mime_type="video/mp4")
    result, _, _ = publish(account, store, PartContent("Watch us knead", media=(video,)))

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (post["kind"], post["message"]) == ("video", "Watch us knead")
    assert result.external_id == post["id"]


def test_a_large_video_goes_up_in_resumable_chunks_and_is_posted(
    meta, scene, account, store, host, settings
):
    settings.FACEBOOK_RESUMABLE_VIDEO_BYTES = 1000
    meta.control.set_meta_settings(video_chunk_bytes=1000)
    data = bytes(range(256)) * 10
    video = replace(
        host.media(42, kind=MediaKind.VIDEO, mime_type="video/mp4", data=data, served=False),
        url="",
    )

    result, _, _ = publish(account, store, PartContent("The whole bake", media=(video,)))

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (post["kind"], post["message"]) == ("video", "The whole bake")
    assert result.external_id == post["id"]
    stats = meta.control.stats()
    # 2,560 bytes in chunks of at most 1,000; Meta fetched nothing itself.
    assert stats["video_chunks_received"] == 3 and stats["media_fetches"] == {}


def test_a_file_meta_cannot_fetch_is_a_validation_error(meta, account, store, host):
    missing = host.media(51, served=False)
    with pytest.raises(PublishError) as caught:
        publish(account, store, PartContent("Gone", media=(missing,)))

    assert caught.value.kind is ErrorKind.VALIDATION


def test_a_file_without_a_public_address_is_refused_before_calling(meta, account, store, host):
    photo = replace(host.media(52), url="")
    with pytest.raises(PublishError) as caught:
        publish(account, store, PartContent("Nowhere", media=(photo,)))

    assert caught.value.kind is ErrorKind.VALIDATION
    assert "KAIROS_PUBLIC_URL" in caught.value.message


def test_a_part_already_published_is_not_sent_again(meta, scene, account, store):
    result, saved, _ = publish(account, store, "Once", published=("123_456",))

    assert result.external_id == "123_456" and saved == []
    assert meta.control.graph_posts(owner_id=scene.page_id) == []


# --- Errors ----------------------------------------------------------------------------


def test_the_same_message_again_is_a_duplicate(meta, account, store):
    publish(account, store, "Same words")

    assert failure(account, store, "Same words").kind is ErrorKind.DUPLICATE


def test_an_expired_token_sends_the_account_to_reconnecting(meta, scene, account, store):
    meta.control.expire_tokens(scene.user_id)
    error = failure(account, store)

    assert error.kind is ErrorKind.AUTH_EXPIRED and error.details[ACCOUNT_NEEDS_REAUTH]
    assert store.accounts[account.id].needs_reauth
    assert "reconnect" in error.message


def test_a_token_replaced_by_a_reconnect_meanwhile_is_tried_once_more(meta, scene, account, store):
    meta.control.revoke_tokens(scene.user_id)
    fresh = meta.control.issue_token(scene.user_id, page_id=scene.page_id)
    store.accounts[account.id] = replace(account, credentials={"access_token": fresh})

    result, _, _ = publish(account, store, "After a reconnect")

    assert result.external_id


def test_a_known_expiry_in_the_past_waits_without_calling(meta, scene, account, store):
    lapsed = replace(account, token_expires_at=datetime.now(UTC) - timedelta(minutes=1))
    error = failure(lapsed, store)

    assert error.kind is ErrorKind.AUTH_EXPIRED and error.details[ACCOUNT_NEEDS_REAUTH]
    assert meta.control.stats()["requests"] == {}


def test_a_missing_permission_is_forbidden_and_names_what_to_grant(meta, account, store):
    scene = meta.control.create_page_scene(scopes=["pages_show_list", "pages_read_engagement"])
    account = replace(
        account, external_id=scene.page_id, credentials={"access_token": scene.page_token}
    )
    error = failure(account, store)

    assert error.kind is ErrorKind.FORBIDDEN
    assert "pages_manage_posts" in error.message


def test_a_spent_page_allowance_is_rate_limited_until_meta_says(meta, account, store):
    meta.control.set_meta_settings(object_calls_per_hour=1)
    publish(account, store, "First")
    error = failure(account, store, "Second")

    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_at > datetime.now(UTC) + timedelta(minutes=30)
    reading = store.window(account_key(account.id), BUC_WINDOW)
    assert reading.remaining == 0


@pytest.mark.parametrize(("status", "kind"), [(500, ErrorKind.SERVER), (503, ErrorKind.SERVER)])
def test_a_server_error_on_a_write_may_have_been_accepted(meta, account, store, status, kind):
    meta.control.add_fault(kind="status", status=status, method="POST")
    error = failure(account, store)

    assert error.kind is kind and error.maybe_accepted


def test_an_injected_throttle_is_rate_limited(meta, account, store):
    meta.control.add_fault(kind="status", status=429, method="POST")

    assert failure(account, store).kind is ErrorKind.RATE_LIMITED


def test_a_dropped_answer_is_a_network_error_that_may_have_been_accepted(
    meta, scene, account, store
):
    meta.control.add_fault(kind="accept_then_drop", method="POST")
    error = failure(account, store, "Dropped")

    assert error.kind is ErrorKind.NETWORK and error.maybe_accepted
    assert meta.control.posts_created(scene.page_id, "Dropped") == 1


# --- Reconciliation, metrics, delete, profile ---------------------------------------------


def test_a_post_made_by_an_interrupted_attempt_is_found(meta, scene, account, store):
    since = datetime.now(UTC)
    meta.control.add_fault(kind="accept_then_drop", method="POST")
    failure(account, store, "Did it go?")

    lookup = FacebookAdapter().find_part(
        request_for(account, "Did it go?"), index=0, since=since, store=store
    )

    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (lookup.presence, lookup.external_id) == (Presence.FOUND, post["id"])


def test_a_post_that_never_arrived_is_surely_absent(meta, account, store):
    publish(account, store, "Something else")
    lookup = FacebookAdapter().find_part(
        request_for(account, "Did it go?"), index=0, since=datetime.now(UTC), store=store
    )

    assert lookup.presence is Presence.ABSENT


def test_a_post_from_before_the_attempt_does_not_count(meta, account, store):
    publish(account, store, "Did it go?")
    meta.control.advance_time(3600)
    later = datetime.now(UTC) + timedelta(hours=1)

    lookup = FacebookAdapter().find_part(
        request_for(account, "Did it go?"), index=0, since=later, store=store
    )

    assert lookup.presence is Presence.ABSENT


def test_a_lookup_meta_cannot_answer_is_unknown(meta, account, store):
    meta.control.add_fault(kind="status", status=503, method="GET")
    lookup = FacebookAdapter().find_part(
        request_for(account, "Did it go?"), index=0, since=datetime.now(UTC), store=store
    )

    assert lookup.presence is Presence.UNKNOWN and "Facebook answered" in lookup.reason


def test_metrics_are_read_and_a_deleted_post_is_gone(meta, account, store):
    kept, _, _ = publish(account, store, "Counted")
    deleted, _, _ = publish(account, store, "Deleted")
    meta.control.set_counts(kept.external_id, likes=7, comments=3, shares=2, views=120)
    FacebookAdapter().delete(account=account, external_id=deleted.external_id, store=store)

    reading = FacebookAdapter().metrics_fetch(
        account=account, external_ids=[kept.external_id, deleted.external_id], store=store
    )

    numbers = reading.metrics[kept.external_id]
    assert (numbers.likes, numbers.replies, numbers.reposts, numbers.impressions) == (7, 3, 2, 120)
    assert reading.gone == {deleted.external_id}
    # The pair's read failed whole (#803); each post was read again on its own.
    assert meta.control.stats()["requests"]["GET /"] == {"404": 2, "200": 1}


def test_metrics_are_read_fifty_posts_a_call(meta, account, store):
    made = [publish(account, store, f"Loaf number {n}")[0].external_id for n in range(51)]
    meta.control.set_counts(made[50], likes=4, comments=1, views=30)

    reading = FacebookAdapter().metrics_fetch(account=account, external_ids=made, store=store)

    assert set(reading.metrics) == set(made) and not reading.gone
    last = reading.metrics[made[50]]
    assert (last.likes, last.replies, last.impressions) == (4, 1, 30)
    requests = meta.control.stats()["requests"]
    assert (requests["GET /"], requests["GET /insights"]) == ({"200": 2}, {"200": 2})


def test_delete_takes_the_post_off_and_a_second_delete_is_fine(meta, scene, account, store):
    result, _, _ = publish(account, store, "Short-lived")
    adapter = FacebookAdapter()
    adapter.delete(account=account, external_id=result.external_id, store=store)
    adapter.delete(account=account, external_id=result.external_id, store=store)

    assert meta.control.graph_posts(owner_id=scene.page_id) == []


def test_the_profile_is_the_pages(meta, scene, account, store):
    profile = FacebookAdapter().profile_fetch(account=account, store=store)

    assert (profile.external_id, profile.display_name) == (scene.page_id, "Kairos Bakery")
