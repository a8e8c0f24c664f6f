"""The Bluesky adapter over real HTTP, against the fake Bluesky (fakebluesky), with no
database: the account is plain data and what Bluesky reports is kept by a MemoryStore."""

import io
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    ErrorKind,
    MediaFile,
    MediaKind,
    PartContent,
    Presence,
    PublishError,
    PublishRequest,
    account_key,
)
from publishing.networks.bluesky import BlueskyAdapter
from publishing.networks.bluesky.adapter import part_rkey
from publishing.networks.bluesky.session import ACCESS_LIFETIME
from tests.networks import MemoryStore

KEY = "kairos-job-1"


def request_for(account, *parts, published=()):
    return PublishRequest(
        account=account,
        parts=tuple(PartContent(text=part) if isinstance(part, str) else part for part in parts),
        idempotency_key=KEY,
        published_part_ids=tuple(published),
    )


def publish(account, *parts, published=(), store=None):
    saved = []
    result = BlueskyAdapter().publish(
        request_for(account, *parts, published=published),
        store=store or MemoryStore(account),
        on_part_published=lambda index, external_id: saved.append((index, external_id)),
    )
    return result, saved


def failure(account, text="Hello", store=None):
    with pytest.raises(PublishError) as caught:
        publish(account, text, store=store)
    return caught.value


def records(bsky, account):
    return {post["rkey"]: post["value"] for post in bsky.control.posts(did=account.external_id)}


def image(asset_id=1, size=2048, **fields):
    data = b"\x89PNG" + bytes(size - 4)
    return MediaFile(
        asset_id=asset_id,
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        size_bytes=size,
        name=f"photo{asset_id}.png",
        open=lambda: io.BytesIO(data),
        **fields,
    )


def test_a_post_goes_out_at_its_own_key_with_its_link(bsky, account):
    result, saved = publish(account, "Hello from Kairos")
    rkey = part_rkey(KEY, 0)
    assert saved == [(0, rkey)]
    assert result.external_id == rkey
    assert result.url == f"https://bsky.app/profile/{account.external_id}/post/{rkey}"
    assert records(bsky, account)[rkey]["text"] == "Hello from Kairos"
    assert bsky.control.posts_created(account.external_id, "Hello from Kairos") == 1


def test_links_mentions_and_tags_become_facets_at_byte_offsets(bsky, account):
    friend = bsky.control.create_account(handle="friend.bsky.social")
    text = "Café ✨ with @friend.bsky.social and @nobody.example: https://example.com/x. #launch"
    publish(account, text)
    [record] = records(bsky, account).values()
    encoded = text.encode()
    found = {
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    assert found == {
        "@friend.bsky.social": {
            "$type": "app.bsky.richtext.facet#mention",
            "did": friend["did"],
        },
        "https://example.com/x": {
            "$type": "app.bsky.richtext.facet#link",
            "uri": "https://example.com/x",
        },
        "#launch": {"$type": "app.bsky.richtext.facet#tag", "tag": "launch"},
    }


def test_images_go_up_as_blobs_and_into_the_post(bsky, account):
    photo = image(alt_text="Our new shop", width=1200, height=800)
    publish(account, PartContent(text="Open!", media=(photo, image(2))))
    [record] = records(bsky, account).values()
    first, second = record["embed"]["images"]
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert first["alt"] == "Our new shop"
    assert first["aspectRatio"] == {"width": 1200, "height": 800}
    assert first["image"]["mimeType"] == "image/png" and first["image"]["size"] == 2048
    assert "aspectRatio" not in second
    assert len(bsky.control.blobs()) == 1  # the same bytes are the same blob


def video(**fields):
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
    return MediaFile(
        asset_id=9,
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=len(data),
        name="clip.mp4",
        open=lambda: io.BytesIO(data),
        **fields,
    )


def test_a_video_goes_through_the_video_service_and_into_the_post(bsky, account):
    bsky.control.update_account(account.external_id, email="brand@example.com")
    bsky.control.set_video_processing(seconds=0.5)
    publish(account, PartContent(text="Watch", media=(video(alt_text="Our launch"),)))
    [record] = records(bsky, account).values()
    embed = record["embed"]
    assert (embed["$type"], embed["alt"]) == ("app.bsky.embed.video", "Our launch")
    assert embed["video"]["mimeType"] == "video/mp4"
    requests = bsky.control.stats()["requests"]
    assert requests["GET /xrpc/app.bsky.video.getJobStatus"] == {"200": 1}


def test_a_video_bluesky_cannot_process_is_a_validation_error(bsky, account):
    bsky.control.update_account(account.external_id, email="brand@example.com")
    bsky.control.set_video_processing(outcome="failed")
    with pytest.raises(PublishError) as caught:
        publish(account, PartContent(text="Watch", media=(video(),)))
    assert caught.value.kind == ErrorKind.VALIDATION
    assert "encoding_failure" in caught.value.message
    assert records(bsky, account) == {}


def test_video_without_a_confirmed_email_is_forbidden_saying_what_to_do(bsky, account):
    with pytest.raises(PublishError) as caught:
        publish(account, PartContent(text="Watch", media=(video(),)))
    assert (caught.value.kind, caught.value.http_status) == (ErrorKind.FORBIDDEN, 403)
    assert "Confirm your email address" in caught.value.message


def test_a_thread_replies_to_its_root_and_to_the_part_before(bsky, account):
    result, saved = publish(account, "1/3", "2/3", "3/3")
    keys = [part_rkey(KEY, index) for index in range(3)]
    assert saved == list(enumerate(keys))
    assert result.part_ids == tuple(keys)
    posted = records(bsky, account)
    uri = f"at://{account.external_id}/app.bsky.feed.post/"
    assert "reply" not in posted[keys[0]]
    assert posted[keys[1]]["reply"]["root"]["uri"] == uri + keys[0]
    assert posted[keys[1]]["reply"]["parent"]["uri"] == uri + keys[0]
    assert posted[keys[2]]["reply"]["root"]["uri"] == uri + keys[0]
    assert posted[keys[2]]["reply"]["parent"]["uri"] == uri + keys[1]


def test_a_thread_resumes_after_the_parts_already_posted(bsky, account):
    first, _ = publish(account, "1/2")
    _, saved = publish(account, "1/2", "2/2", published=[first.external_id])
    assert saved == [(1, part_rkey(KEY, 1))]
    reply = records(bsky, account)[part_rkey(KEY, 1)]["reply"]
    assert reply["root"] == reply["parent"]
    assert reply["root"]["uri"].endswith(first.external_id)
    assert bsky.control.posts_created(account.external_id, "1/2") == 1


def test_the_same_job_published_again_makes_no_second_post(bsky, account):
    first, _ = publish(account, "Exactly once")
    again, _ = publish(account, "Exactly once")
    assert again == first
    assert bsky.control.posts_created(account.external_id, "Exactly once") == 1
    assert bsky.control.existing_record_refusals(account.external_id, "Exactly once") == 1


def test_an_answer_dropped_after_the_post_was_made_is_settled_by_its_key(bsky, account):
    bsky.control.add_fault("accept_then_drop", path_prefix="/xrpc/com.atproto.repo.createRecord")
    result, _ = publish(account, "Dropped")
    assert result.external_id == part_rkey(KEY, 0)
    assert bsky.control.posts_created(account.external_id, "Dropped") == 1


def test_a_dropped_answer_stays_uncertain_when_the_key_cannot_be_read(bsky, account):
    bsky.control.add_fault("accept_then_drop", path_prefix="/xrpc/com.atproto.repo.createRecord")
    bsky.control.add_fault("status", status=502, path_prefix="/xrpc/com.atproto.repo.getRecord")
    error = failure(account, "Dropped")
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, True)


def test_a_server_error_with_nothing_at_the_key_is_uncertain(bsky, account):
    bsky.control.add_fault("status", status=503, path_prefix="/xrpc/com.atproto.repo.createRecord")
    error = failure(account)
    assert (error.kind, error.http_status, error.maybe_accepted) == (ErrorKind.SERVER, 503, True)


def test_a_request_that_never_left_is_not_uncertain(account):
    unreachable = replace(account, credentials={**account.credentials, "pds": "http://127.0.0.1:1"})
    error = failure(unreachable)
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, False)


def test_rate_limit_headers_are_reported_to_the_store(bsky, account, store):
    publish(account, "Counting", store=store)
    window = store.window(account_key(account.id), "1h")
    assert (window.endpoint, window.limit, window.remaining) == ("post", 5000, 4997)


def test_a_spent_window_waits_for_its_reset(bsky, account, store):
    bsky.control.set_rate_limit("repo_write_hour", limit=3)
    publish(account, "one", store=store)
    error = failure(account, "two", store=store)
    assert (error.kind, error.http_status) == (ErrorKind.RATE_LIMITED, 429)
    assert error.retry_at > timezone.now() + timedelta(minutes=59)
    spent = store.window(account_key(account.id), "1h")
    assert (spent.remaining, spent.resets_at) == (0, error.retry_at)


def test_text_bluesky_finds_too_long_is_a_validation_error(bsky, account):
    error = failure(account, "é" * 301)
    assert (error.kind, error.http_status) == (ErrorKind.VALIDATION, 400)
    assert "300 graphemes" in error.message


@pytest.mark.parametrize(
    ("status", "words"), [("takendown", "appeal"), ("deactivated", "reactivates")]
)
def test_an_account_bluesky_has_stopped_is_forbidden_and_says_what_to_do(
    bsky, account, status, words
):
    bsky.control.update_account(account.external_id, status=status)
    error = failure(account)
    assert (error.kind, error.http_status) == (ErrorKind.FORBIDDEN, 401)
    assert words in error.message


def test_an_expired_access_jwt_is_renewed_once_and_the_post_goes_out(bsky, account, store):
    bsky.control.advance_time(ACCESS_LIFETIME.total_seconds() + 60)
    publish(account, "After a while", store=store)
    assert store.renewals == 1
    assert store.accounts[account.id].credentials["access_jwt"] != account.credentials["access_jwt"]
    assert bsky.control.posts_created(account.external_id, "After a while") == 1


def test_a_renewal_whose_answer_was_lost_is_asked_for_again(bsky, account, store):
    bsky.control.advance_time(ACCESS_LIFETIME.total_seconds() + 60)
    expiring = replace(account, token_expires_at=timezone.now())
    store.accounts[account.id] = expiring
    bsky.control.add_fault("accept_then_drop", path_prefix="/xrpc/com.atproto.server.refresh")
    error = failure(expiring, store=store)
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, False)
    assert not store.accounts[account.id].needs_reauth
    # The refresh JWT Kairos still holds works for two hours after its first use.
    publish(expiring, "Renewed", store=store)
    assert bsky.control.posts_created(account.external_id, "Renewed") == 1


def test_a_revoked_app_password_waits_for_reconnecting(bsky, account, store):
    bsky.control.end_sessions(account.external_id)
    error = failure(account, store=store)
    assert error.kind == ErrorKind.AUTH_EXPIRED
    assert error.details[ACCOUNT_NEEDS_REAUTH] is True
    assert "new app password" in error.message
    assert store.accounts[account.id].needs_reauth


def test_credentials_are_renewed_only_when_they_expire_soon(bsky, account, store):
    adapter = BlueskyAdapter()
    adapter.credentials_fresh(account=account, store=store)
    assert store.renewals == 0
    soon = replace(account, token_expires_at=timezone.now() + timedelta(minutes=5))
    store.accounts[account.id] = soon
    adapter.credentials_fresh(account=soon, store=store)
    assert store.renewals == 1
    assert store.accounts[account.id].token_expires_at > timezone.now() + timedelta(hours=1)


def find(account, *texts, index=0):
    return BlueskyAdapter().find_part(
        request_for(account, *texts),
        index=index,
        since=timezone.now() - timedelta(minutes=1),
        store=MemoryStore(account),
    )


def test_find_part_finds_the_part_at_its_key(bsky, account):
    publish(account, "1/2", "2/2")
    lookup = find(account, "1/2", "2/2", index=1)
    assert (lookup.presence, lookup.external_id) == (Presence.FOUND, part_rkey(KEY, 1))


def test_find_part_is_certain_of_absence(bsky, account):
    publish(account, "Ours")  # job 1's post is never taken for another job's
    other_job = replace(request_for(account, "Ours"), idempotency_key="kairos-job-2")
    lookup = BlueskyAdapter().find_part(
        other_job, index=0, since=timezone.now(), store=MemoryStore(account)
    )
    assert lookup.presence == Presence.ABSENT


def test_find_part_is_unknown_when_bluesky_cannot_answer(bsky, account):
    bsky.control.add_fault("status", status=500, method="GET")
    lookup = find(account, "Ours")
    assert lookup.presence == Presence.UNKNOWN
    assert "Bluesky answered" in lookup.reason


def test_delete_takes_the_post_off_and_a_second_delete_is_fine(bsky, account):
    result, _ = publish(account, "Short-lived")
    adapter = BlueskyAdapter()
    for _ in range(2):
        adapter.delete(account=account, external_id=result.external_id, store=MemoryStore(account))
    assert records(bsky, account) == {}


def test_metrics_come_per_post_and_a_deleted_post_is_gone(bsky, account, store):
    result, _ = publish(account, "1/2", "2/2")
    first, second = result.part_ids
    bsky.control.set_post_metrics(
        f"at://{account.external_id}/app.bsky.feed.post/{first}", likeCount=5, repostCount=1
    )
    adapter = BlueskyAdapter()
    adapter.delete(account=account, external_id=second, store=store)
    reading = adapter.metrics_fetch(account=account, external_ids=[first, second], store=store)
    metrics = reading.metrics[first]
    assert (metrics.likes, metrics.reposts, metrics.replies, metrics.impressions) == (5, 1, 0, None)
    assert reading.gone == frozenset({second})


def test_a_post_the_app_view_does_not_show_yet_is_not_gone(bsky, account, store):
    result, _ = publish(account, "Fresh")
    uri = f"at://{account.external_id}/app.bsky.feed.post/{result.external_id}"
    bsky.control.set_post_unlisted(uri)
    reading = BlueskyAdapter().metrics_fetch(
        account=account, external_ids=[result.external_id], store=store
    )
    assert (dict(reading.metrics), reading.gone) == ({}, frozenset())


def test_the_profile_comes_from_the_app_view(bsky, account, store):
    bsky.control.update_account(account.external_id, display_name="Brand", followers_count=42)
    profile = BlueskyAdapter().profile_fetch(account=account, store=store)
    assert (profile.external_id, profile.handle) == (account.external_id, account.handle)
    assert (profile.display_name, profile.followers_count) == ("Brand", 42)
