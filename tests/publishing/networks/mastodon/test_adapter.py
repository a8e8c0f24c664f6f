"""The Mastodon adapter over real HTTP, against the fake instance (fakemastodon), with no
database: the account is plain data and what the instance reports is kept in memory."""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    ErrorKind,
    MediaFile,
    MediaKind,
    MediaUpload,
    PartContent,
    Presence,
    PublishError,
    PublishRequest,
    account_key,
)
from publishing.networks.mastodon import MastodonAdapter
from tests.networks import MemoryStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def media_file(asset_id, data, *, kind=MediaKind.IMAGE, mime_type="image/png", alt_text=""):
    @contextmanager
    def opened():
        yield io.BytesIO(data)

    return MediaFile(
        asset_id=asset_id,
        kind=kind,
        mime_type=mime_type,
        size_bytes=len(data),
        name=f"file{asset_id}",
        alt_text=alt_text,
        open=opened,
    )


def request_for(account, *parts, published=(), uploads=None, key="kairos-job-1"):
    return PublishRequest(
        account=account,
        parts=tuple(
            part if isinstance(part, PartContent) else PartContent(text=part) for part in parts
        ),
        idempotency_key=key,
        published_part_ids=tuple(published),
        media_uploads=uploads or {},
    )


def with_credentials(account, **changes):
    return replace(account, credentials={**account.credentials, **changes})


def publish(account, *parts, store=None, **options):
    saved, uploaded = [], []
    result = MastodonAdapter().publish(
        request_for(account, *parts, **options),
        store=store or MemoryStore(account),
        on_part_published=lambda index, external_id: saved.append((index, external_id)),
        on_media_uploaded=lambda asset_id, media_id, expires_at: uploaded.append(
            (asset_id, media_id, expires_at)
        ),
    )
    return result, saved, uploaded


def failure(account, text="Hello", store=None, **options):
    with pytest.raises(PublishError) as caught:
        publish(account, text, store=store, **options)
    return caught.value


def find(account, *texts, index=0, published=(), since=None, store=None):
    return MastodonAdapter().find_part(
        request_for(account, *texts, published=published),
        index=index,
        since=since or datetime.now(UTC) - timedelta(minutes=1),
        store=store or MemoryStore(account),
    )


# --- Publishing -----------------------------------------------------------------------


def test_a_post_goes_out_with_its_id_and_link(mastodon, account):
    result, saved, _ = publish(account, "Hello from Kairos")
    assert saved == [(0, result.external_id)]
    assert result.url == f"{mastodon.url}/@kairos_brand/{result.external_id}"
    assert mastodon.control.statuses_created(account.external_id, "Hello from Kairos") == 1
    (status,) = mastodon.control.statuses(account_id=account.external_id)
    assert status["visibility"] == "public"


def test_an_attempt_sent_again_is_answered_with_the_same_post(mastodon, account):
    first, _, _ = publish(account, "Exactly once")
    again, _, _ = publish(account, "Exactly once")
    assert again.external_id == first.external_id
    assert mastodon.control.statuses_created(account.external_id, "Exactly once") == 1
    assert mastodon.control.idempotent_replays(account.external_id, "Exactly once") == 1


def test_a_thread_goes_out_in_order_each_part_replying_to_the_last(mastodon, account):
    result, saved, _ = publish(account, "1/3", "2/3", "3/3")
    statuses = {s["id"]: s for s in mastodon.control.statuses(account_id=account.external_id)}
    ids = [external_id for _, external_id in saved]
    assert [index for index, _ in saved] == [0, 1, 2]
    assert [statuses[i]["text"] for i in ids] == ["1/3", "2/3", "3/3"]
    assert [statuses[i]["in_reply_to_id"] for i in ids] == [None, ids[0], ids[1]]
    assert result.part_ids == tuple(ids)


def test_a_thread_resumes_after_the_parts_already_posted(mastodon, account):
    first, _, _ = publish(account, "1/2")
    result, saved, _ = publish(account, "1/2", "2/2", published=[first.external_id])
    assert [index for index, _ in saved] == [1]
    assert mastodon.control.statuses_created(account.external_id, "1/2") == 1
    assert result.external_id == first.external_id


def test_images_go_up_with_their_alt_text_and_are_reported_to_the_job(mastodon, account):
    part = PartContent(
        text="Look", media=(media_file(7, PNG, alt_text="A chart"), media_file(8, PNG))
    )
    _, _, uploaded = publish(account, part)
    (status,) = mastodon.control.statuses(account_id=account.external_id)
    assert [asset_id for asset_id, _, _ in uploaded] == [7, 8]
    assert list(status["media_ids"]) == [media_id for _, media_id, _ in uploaded]
    descriptions = {m["id"]: m["description"] for m in mastodon.control.media_uploads()}
    assert descriptions[uploaded[0][1]] == "A chart"
    assert uploaded[0][2] > datetime.now(UTC) + timedelta(hours=23)


def test_a_video_is_waited_for_until_processed(mastodon, account):
    mastodon.control.set_media_processing(seconds=1)
    video = media_file(9, MP4, kind=MediaKind.VIDEO, mime_type="video/mp4")
    result, saved, _ = publish(account, PartContent(text="Clip", media=(video,)))
    assert saved == [(0, result.external_id)]


def test_a_video_still_processing_after_the_wait_is_retried_with_its_upload(
    mastodon, account, monkeypatch
):
    monkeypatch.setattr("publishing.networks.mastodon.media.PROCESSING_WAIT_SECONDS", 0)
    mastodon.control.set_media_processing(seconds=30)
    video = media_file(9, MP4, kind=MediaKind.VIDEO, mime_type="video/mp4")
    uploaded = []
    with pytest.raises(PublishError) as caught:
        MastodonAdapter().publish(
            request_for(account, PartContent(text="Clip", media=(video,))),
            store=MemoryStore(account),
            on_part_published=lambda index, external_id: None,
            on_media_uploaded=lambda *upload: uploaded.append(upload),
        )
    assert (caught.value.kind, caught.value.maybe_accepted) == (ErrorKind.SERVER, False)
    assert "tries again later with the same upload" in caught.value.message
    assert [asset_id for asset_id, _, _ in uploaded] == [9]


def test_a_thread_whose_last_part_was_deleted_cannot_go_on(mastodon, account, store):
    first, _, _ = publish(account, "1/2")
    MastodonAdapter().delete(account=account, external_id=first.external_id, store=store)
    with pytest.raises(PublishError) as caught:
        publish(account, "1/2", "2/2", published=[first.external_id])
    error = caught.value
    assert (error.kind, error.http_status) == (ErrorKind.VALIDATION, 404)
    assert "no longer on Mastodon" in error.message


def test_a_video_the_instance_cannot_process_is_a_validation_error(mastodon, account):
    mastodon.control.set_media_processing(seconds=1, outcome="failed")
    video = media_file(9, MP4, kind=MediaKind.VIDEO, mime_type="video/mp4")
    with pytest.raises(PublishError) as caught:
        publish(account, PartContent(text="Clip", media=(video,)))
    assert caught.value.kind == ErrorKind.VALIDATION
    assert "replace the file" in caught.value.message
    assert not caught.value.maybe_accepted


def test_an_upload_kept_from_an_earlier_attempt_is_used_again(mastodon, account):
    mastodon.control.add_fault("status", status=503, method="POST", path_prefix="/api/v1/statuses")
    part = PartContent(text="Again", media=(media_file(7, PNG),))
    with pytest.raises(PublishError):
        publish(account, part)
    (upload,) = mastodon.control.media_uploads()
    kept = {7: MediaUpload(media_id=upload["id"], expires_at=datetime.now(UTC) + timedelta(days=1))}
    _, saved, uploaded = publish(account, part, uploads=kept)
    assert (len(saved), uploaded) == (1, [])
    assert len(mastodon.control.media_uploads()) == 1


# --- What the instance says -----------------------------------------------------------


def test_rate_limit_headers_are_reported_to_the_store(mastodon, account, store):
    publish(account, "Counting", store=store)
    reading = store.readings[-1]
    assert (reading.key, reading.endpoint) == (account_key(account.id), "post")
    assert (reading.limit, reading.remaining) == (300, 299)
    assert reading.resets_at > datetime.now(UTC)


def test_a_spent_throttle_waits_for_its_reset(mastodon, account, store):
    mastodon.control.set_rate_limit("statuses", limit=1, period_seconds=3 * 3600)
    publish(account, "one", store=store)
    error = failure(account, "two", store=store)
    assert (error.kind, error.http_status) == (ErrorKind.RATE_LIMITED, 429)
    assert error.retry_at > datetime.now(UTC)
    assert store.readings[-1].remaining == 0
    assert store.readings[-1].resets_at == error.retry_at


def test_a_revoked_sign_in_sends_the_account_to_reconnecting(mastodon, account, store):
    mastodon.control.revoke_tokens(account.external_id)
    error = failure(account, store=store)
    assert (error.kind, error.details) == (ErrorKind.AUTH_EXPIRED, {ACCOUNT_NEEDS_REAUTH: True})
    assert "reconnect the account" in error.message
    assert store.accounts[account.id].needs_reauth


def test_a_sign_in_reconnected_meanwhile_is_used_at_once(mastodon, account, store):
    mastodon.control.revoke_tokens(account.external_id)
    fresh = mastodon.control.issue_token(account.external_id)["access_token"]
    store.accounts[account.id] = with_credentials(account, access_token=fresh)
    result, _, _ = publish(account, "After reconnecting", store=store)
    assert result.external_id
    assert not store.accounts[account.id].needs_reauth


def test_a_missing_permission_says_what_to_allow(mastodon, account):
    reader = mastodon.control.issue_token(account.external_id, scopes=["read"])["access_token"]
    limited = with_credentials(account, access_token=reader)
    error = failure(limited)
    assert (error.kind, error.http_status) == (ErrorKind.FORBIDDEN, 403)
    assert "allow Kairos to publish posts (write:statuses)" in error.message


def test_a_login_disabled_by_the_instance_is_forbidden(mastodon, account):
    mastodon.control.update_account(account.external_id, disabled=True)
    error = failure(account)
    assert error.kind == ErrorKind.FORBIDDEN
    assert "Your login is currently disabled" in error.message


def test_text_the_instance_finds_too_long_is_a_validation_error(mastodon, account):
    error = failure(account, "é" * 501)
    assert (error.kind, error.http_status) == (ErrorKind.VALIDATION, 422)
    assert "character limit of 500" in error.message


def test_a_server_error_may_have_published_so_it_is_uncertain(mastodon, account):
    mastodon.control.add_fault("status", status=503, method="POST", path_prefix="/api/v1/statuses")
    error = failure(account)
    assert (error.kind, error.http_status, error.maybe_accepted) == (ErrorKind.SERVER, 503, True)


def test_a_server_error_on_an_upload_is_retried_not_reconciled(mastodon, account):
    mastodon.control.add_fault("status", status=502, method="POST", path_prefix="/api/v2/media")
    with pytest.raises(PublishError) as caught:
        publish(account, PartContent(text="x", media=(media_file(1, PNG),)))
    assert (caught.value.kind, caught.value.maybe_accepted) == (ErrorKind.SERVER, False)


def test_an_answer_dropped_after_the_post_was_made_is_uncertain(mastodon, account):
    mastodon.control.add_fault("accept_then_drop", method="POST", path_prefix="/api/v1/statuses")
    error = failure(account, "Dropped")
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, True)
    assert mastodon.control.statuses_created(account.external_id, "Dropped") == 1
    # The retry carries the same Idempotency-Key: the instance answers the post it made.
    publish(account, "Dropped")
    assert mastodon.control.statuses_created(account.external_id, "Dropped") == 1


def test_a_request_that_never_left_is_not_uncertain(account):
    nowhere = with_credentials(account, instance_url="http://127.0.0.1:1")
    error = failure(nowhere)
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, False)


# --- Reconciliation -------------------------------------------------------------------


def test_find_part_finds_our_post_with_its_link_and_lines(mastodon, account):
    text = "Read https://example.com/a/rather/long/path/to/the/launch & more\n\nBye"
    result, _, _ = publish(account, text)
    lookup = find(account, text)
    assert (lookup.presence, lookup.external_id) == (Presence.FOUND, result.external_id)


def test_find_part_says_absent_when_the_text_is_not_there(mastodon, account):
    publish(account, "Something else")
    assert find(account, "Ours").presence == Presence.ABSENT
    assert mastodon.control.statuses_created(account.external_id, "Ours") == 0


def test_find_part_matches_a_reply_only_under_the_part_before_it(mastodon, account):
    first, _, _ = publish(account, "1/2", key="one")
    publish(account, "2/2", key="two")  # the same words, but not a reply to our first part
    lookup = find(account, "1/2", "2/2", index=1, published=[first.external_id])
    assert lookup.presence == Presence.ABSENT


def test_find_part_only_looks_and_never_sends_again_when_the_timeline_cannot_answer(
    mastodon, account
):
    publish(account, "Ours")
    mastodon.control.add_fault("status", status=500, method="GET")
    lookup = find(account, "Ours")
    assert lookup.presence == Presence.UNKNOWN
    assert mastodon.control.statuses_created(account.external_id, "Ours") == 1


def test_find_part_is_unknown_when_the_instance_cannot_answer_at_all(mastodon, account):
    mastodon.control.add_fault("status", status=500, count=2)
    lookup = find(account, "Ours")
    assert lookup.presence == Presence.UNKNOWN
    assert "Mastodon answered" in lookup.reason


# --- Delete, metrics, profile ---------------------------------------------------------


def test_delete_takes_the_post_off_and_a_gone_one_counts_as_deleted(mastodon, account, store):
    result, _, _ = publish(account, "Bye")
    adapter = MastodonAdapter()
    adapter.delete(account=account, external_id=result.external_id, store=store)
    assert mastodon.control.statuses(account_id=account.external_id) == []
    adapter.delete(account=account, external_id=result.external_id, store=store)


def test_metrics_are_the_instances_counts_and_a_deleted_post_is_gone(mastodon, account, store):
    kept, _, _ = publish(account, "Kept", key="kept")
    deleted, _, _ = publish(account, "Deleted", key="deleted")
    mastodon.control.set_status_counts(
        kept.external_id, favourites_count=5, reblogs_count=2, replies_count=1, quotes_count=0
    )
    MastodonAdapter().delete(account=account, external_id=deleted.external_id, store=store)
    reading = MastodonAdapter().metrics_fetch(
        account=account, external_ids=[kept.external_id, deleted.external_id], store=store
    )
    numbers = reading.metrics[kept.external_id]
    assert (numbers.likes, numbers.reposts, numbers.replies, numbers.quotes) == (5, 2, 1, 0)
    assert numbers.impressions is None
    assert reading.gone == {deleted.external_id}


def test_the_profile_comes_with_the_instances_limits_kept(mastodon, account, store):
    mastodon.control.update_account(account.external_id, display_name="Brand", followers_count=12)
    mastodon.control.set_configuration(max_characters=1000)
    profile = MastodonAdapter().profile_fetch(account=account, store=store)
    assert (profile.external_id, profile.handle) == (account.external_id, "kairos_brand@127.0.0.1")
    assert (profile.display_name, profile.followers_count) == ("Brand", 12)
    kept = store.accounts[account.id]
    assert kept.credentials["access_token"] == account.credentials["access_token"]
    parts = (PartContent(text="a" * 900),)
    assert MastodonAdapter().validate(account=account, parts=parts)
    assert MastodonAdapter().validate(account=kept, parts=parts) == []
