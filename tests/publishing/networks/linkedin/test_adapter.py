"""The LinkedIn adapter over real HTTP, against the fake LinkedIn (fakelinkedin), with no
database: the account is plain data and what LinkedIn reports is kept in memory."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    WAITS_FOR_OPERATOR,
    ErrorKind,
    MediaFile,
    MediaKind,
    MediaUpload,
    PartContent,
    Presence,
    PublishError,
    PublishRequest,
)
from publishing.networks.linkedin import LinkedInAdapter
from publishing.networks.linkedin.client import DUPLICATE_OF
from tests.media_files import mp4_bytes
from tests.networks import MemoryStore
from tests.publishing.networks.linkedin.conftest import account_for


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
    result = LinkedInAdapter().publish(
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


def image(n, alt=""):
    data = b"\x89PNG\r\n\x1a\n" + bytes([n]) * 64
    return MediaFile(
        asset_id=n,
        kind=MediaKind.IMAGE,
        mime_type="image/png",
        size_bytes=len(data),
        alt_text=alt,
        open=lambda: io.BytesIO(data),
    )


def test_a_member_text_post_names_the_urn_of_x_restli_id(linkedin, scene, member, store):
    result, saved, _ = publish(member, store, "Fresh bread at nine (really) #bakery")

    [post] = linkedin.control.linkedin_posts(author=scene.member_urn)
    # Escaped, so LinkedIn keeps every word: nothing was cut at the parenthesis.
    assert post["commentary"] == r"Fresh bread at nine \(really\) #bakery"
    assert linkedin.control.stats()["truncated_posts"] == 0
    assert result.external_id == post["urn"] and saved == [(0, post["urn"])]
    assert result.url == f"https://www.linkedin.com/feed/update/{post['urn']}/"


def test_an_organization_post_with_one_image(linkedin, scene, organization, store):
    _, _, uploaded = publish(
        organization, store, PartContent("Our loaves", (image(1, alt="Two loaves"),))
    )

    [post] = linkedin.control.linkedin_posts(author=scene.organization_urn)
    assert post["content"]["media"]["altText"] == "Two loaves"
    assert uploaded == [(1, post["content"]["media"]["id"])]
    assert linkedin.control.stats()["images_uploaded"] == 1


def test_several_images_make_a_multi_image_post_and_a_retry_reuses_uploads(
    linkedin, scene, member, store
):
    kept = publish(member, store, PartContent("first", (image(1),)))[2][0][1]
    uploads = {1: MediaUpload(media_id=kept, expires_at=datetime.now(UTC) + timedelta(hours=1))}

    publish(member, store, PartContent("Three", (image(1), image(2), image(3))), uploads=uploads)

    posts = linkedin.control.linkedin_posts(author=scene.member_urn)
    images = [entry["id"] for entry in posts[-1]["content"]["multiImage"]["images"]]
    assert len(images) == 3 and images[0] == kept
    assert linkedin.control.stats()["images_uploaded"] == 3


def video(n=7, size=250_000):
    data = mp4_bytes(seconds=12.0)
    data += b"\0" * (size - len(data))
    return MediaFile(
        asset_id=n,
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=len(data),
        duration_ms=12_000,
        open=lambda: io.BytesIO(data),
    )


def test_a_video_goes_up_in_parts_and_is_posted_once_available(linkedin, scene, member, store):
    linkedin.control.set_linkedin_settings(video_part_bytes=100_000)

    result, _, uploaded = publish(member, store, PartContent("Our oven", (video(),)))

    [post] = linkedin.control.linkedin_posts(author=scene.member_urn)
    [(asset_id, urn)] = uploaded
    assert asset_id == 7 and urn.startswith("urn:li:video:")
    assert post["content"] == {"media": {"id": urn}} and result.external_id == post["urn"]
    stats = linkedin.control.stats()
    assert (stats["videos_uploaded"], stats["video_parts_uploaded"]) == (1, 3)


def test_a_video_still_processing_is_retried_later_without_uploading_again(
    linkedin, scene, organization, store, settings
):
    settings.LINKEDIN_VIDEO_TIMEOUT = 0
    linkedin.control.set_linkedin_settings(video_processing_seconds=600)
    uploaded = []
    with pytest.raises(PublishError) as caught:
        LinkedInAdapter().publish(
            request_for(organization, PartContent("Slow oven", (video(),))),
            store=store,
            on_part_published=lambda index, external_id: None,
            on_media_uploaded=lambda asset_id, media_id, expires_at: uploaded.append(
                (asset_id, MediaUpload(media_id, expires_at))
            ),
        )
    assert caught.value.kind is ErrorKind.SERVER and "processing" in caught.value.message
    assert linkedin.control.linkedin_posts(author=scene.organization_urn) == []
    linkedin.control.advance_time(600)

    publish(organization, store, PartContent("Slow oven", (video(),)), uploads=dict(uploaded))

    [post] = linkedin.control.linkedin_posts(author=scene.organization_urn)
    assert post["content"]["media"]["id"] == uploaded[0][1].media_id
    assert linkedin.control.stats()["videos_uploaded"] == 1


def test_a_part_already_published_is_not_sent_again(linkedin, member, store):
    result, saved, _ = publish(member, store, "again", published=("urn:li:share:1",))

    assert result.external_id == "urn:li:share:1" and saved == []
    assert linkedin.control.stats()["posts_created_total"] == 0


# --- Errors -------------------------------------------------------------------------


def test_an_expired_token_without_refresh_sends_the_account_to_reconnecting(
    linkedin, scene, member, store
):
    linkedin.control.expire_tokens(scene.member_id)

    error = failure(member, store)

    assert error.kind is ErrorKind.AUTH_EXPIRED and error.details[ACCOUNT_NEEDS_REAUTH]
    assert store.accounts[member.id].needs_reauth


def test_a_lapsed_sign_in_waits_without_calling_linkedin(linkedin, member, store):
    lapsed = replace(member, token_expires_at=datetime.now(UTC) - timedelta(minutes=1))

    error = failure(lapsed, store)

    assert error.kind is ErrorKind.AUTH_EXPIRED and error.details[ACCOUNT_NEEDS_REAUTH]
    assert "reconnect" in error.message
    assert linkedin.control.stats()["requests"] == {}


def test_a_revoked_token_is_auth_expired_too(linkedin, scene, member, store):
    linkedin.control.revoke_tokens(scene.member_id)

    error = failure(member, store)

    assert error.kind is ErrorKind.AUTH_EXPIRED and error.http_status == 401


def test_a_partner_token_is_refreshed_and_the_post_goes_out(linkedin):
    linkedin.control.set_linkedin_settings(refresh_tokens=True)
    partner = linkedin.control.create_scene(name="Grace Hopper")
    account = account_for(partner, organization=False)
    store = MemoryStore(account)
    linkedin.control.expire_tokens(partner.member_id)

    publish(account, store, "Refreshed")

    assert store.renewals == 1
    assert store.accounts[account.id].credentials["access_token"] != partner.access_token
    assert linkedin.control.posts_created(partner.member_urn, "Refreshed") == 1


def test_a_partner_token_is_renewed_a_week_before_it_lapses(linkedin):
    linkedin.control.set_linkedin_settings(refresh_tokens=True)
    partner = linkedin.control.create_scene(name="Grace Hopper")
    soon = datetime.now(UTC) + timedelta(days=6)
    account = account_for(partner, organization=False, token_expires_at=soon)
    store = MemoryStore(account)

    LinkedInAdapter().credentials_fresh(account=account, store=store)

    assert store.accounts[account.id].token_expires_at > soon + timedelta(days=50)


def test_access_denied_is_forbidden_naming_the_scope(linkedin, store):
    scene = linkedin.control.create_scene(name="Reader", scopes=["openid", "profile"])

    error = failure(account_for(scene, organization=False), store)

    assert error.kind is ErrorKind.FORBIDDEN and "w_member_social" in error.message


def test_a_sunset_version_is_a_configuration_error_naming_the_setting(
    linkedin, member, store, settings
):
    linkedin.control.set_linkedin_settings(versions_as_of="202607")
    settings.LINKEDIN_VERSION = "202401"  # retired in January 2025

    error = failure(member, store)

    assert error.http_status == 426 and not error.kind.retryable
    assert error.details[WAITS_FOR_OPERATOR] and not error.maybe_accepted
    assert "LINKEDIN_VERSION" in error.message and "waits" in error.message


def test_429_waits_until_midnight_utc_or_an_hour(linkedin, member, store):
    linkedin.control.add_fault("status", status=429, path_prefix="/rest/posts")

    with time_machine.travel(datetime(2026, 12, 3, 23, 30, tzinfo=UTC), tick=False):
        late = failure(member, store)
    linkedin.control.add_fault("status", status=429, path_prefix="/rest/posts")
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False):
        early = failure(member, store)

    assert late.kind is ErrorKind.RATE_LIMITED
    assert late.retry_at == datetime(2026, 12, 4, tzinfo=UTC)
    assert early.retry_at == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_a_duplicate_names_the_post_it_repeats(linkedin, member, store):
    first, _, _ = publish(member, store, "Same words")

    error = failure(member, store, "Same words")

    assert error.kind is ErrorKind.DUPLICATE and error.details[DUPLICATE_OF] == first.external_id


def test_a_5xx_may_have_published_and_is_reconciled(linkedin, member, store):
    linkedin.control.add_fault("status", status=503, path_prefix="/rest/posts")

    error = failure(member, store)

    assert error.kind is ErrorKind.SERVER and error.maybe_accepted


def test_a_dropped_answer_may_have_published(linkedin, scene, member, store):
    linkedin.control.add_fault("accept_then_drop", path_prefix="/rest/posts")

    error = failure(member, store)

    assert error.kind is ErrorKind.NETWORK and error.maybe_accepted
    assert linkedin.control.posts_created(scene.member_urn, "Fresh bread at nine") == 1


def test_too_long_for_linkedin_is_a_validation_error(linkedin, member, store):
    error = failure(member, store, "x" * 3001)

    assert error.kind is ErrorKind.VALIDATION and "3000" in error.message


# --- Reconciliation ------------------------------------------------------------------


def lookup(account, store, text, since):
    return LinkedInAdapter().find_part(
        request_for(account, text), index=0, since=since, store=store
    )


def test_an_organization_post_made_by_a_dropped_attempt_is_found(
    linkedin, scene, organization, store
):
    since = datetime.now(UTC)
    linkedin.control.add_fault("accept_then_drop", path_prefix="/rest/posts")
    with pytest.raises(PublishError):
        publish(organization, store, "Lost answer (but posted)")

    found = lookup(organization, store, "Lost answer (but posted)", since)

    [post] = linkedin.control.linkedin_posts(author=scene.organization_urn)
    assert (found.presence, found.external_id) == (Presence.FOUND, post["urn"])


def test_an_organization_post_refused_before_acceptance_is_absent(linkedin, organization, store):
    since = datetime.now(UTC)
    linkedin.control.add_fault("refuse_before_accept", path_prefix="/rest/posts")
    with pytest.raises(PublishError):
        publish(organization, store, "Never made")
    publish(organization, store, "Something else")

    assert lookup(organization, store, "Never made", since).presence is Presence.ABSENT


def test_an_older_post_with_the_same_words_is_not_this_attempt(linkedin, organization, store):
    publish(organization, store, "Daily special")
    linkedin.control.advance_time(3600)

    later = datetime.now(UTC) + timedelta(hours=1)
    assert lookup(organization, store, "Daily special", later).presence is Presence.ABSENT


@pytest.fixture
def probe(settings):
    """The operator's opt-in to reconciling a member's post by sending it again."""
    settings.LINKEDIN_MEMBER_DUPLICATE_PROBE = True


def test_a_member_post_is_left_to_staff_without_the_operators_opt_in(linkedin, member, store):
    linkedin.control.add_fault("accept_then_drop", path_prefix="/rest/posts")
    with pytest.raises(PublishError):
        publish(member, store, "Not sent twice")

    found = lookup(member, store, "Not sent twice", datetime.now(UTC) - timedelta(seconds=5))

    assert found.presence is Presence.UNKNOWN
    assert "LINKEDIN_MEMBER_DUPLICATE_PROBE" in found.reason
    assert linkedin.control.stats()["posts_created_total"] == 1


@pytest.mark.usefixtures("probe")
@pytest.mark.parametrize(
    ("fault", "refusals"),
    # Made and its answer lost: LinkedIn names it as the repeated post. Never made: the
    # probe makes it. Either way, one post, found.
    [("accept_then_drop", 1), ("refuse_before_accept", 0)],
)
def test_a_member_post_is_found_once_by_sending_it_again(
    linkedin, scene, member, store, fault, refusals
):
    since = datetime.now(UTC)
    linkedin.control.add_fault(fault, path_prefix="/rest/posts")
    with pytest.raises(PublishError):
        publish(member, store, "Lost (or not)")

    found = lookup(member, store, "Lost (or not)", since)

    [post] = linkedin.control.linkedin_posts(author=scene.member_urn)
    assert (found.presence, found.external_id) == (Presence.FOUND, post["urn"])
    assert len(linkedin.control.stats()["duplicate_refusals"]) == refusals


@pytest.mark.usefixtures("probe")
def test_a_member_post_repeating_one_from_before_the_attempt_is_absent(
    linkedin, scene, member, store
):
    publish(member, store, "Daily special")

    later = datetime.now(UTC) + timedelta(minutes=30)
    with time_machine.travel(later + timedelta(seconds=1)):
        found = lookup(member, store, "Daily special", later)

    assert found.presence is Presence.ABSENT
    assert linkedin.control.posts_created(scene.member_urn, "Daily special") == 1


@pytest.mark.usefixtures("probe")
def test_what_a_member_lookup_cannot_settle_stays_unknown_without_posting(
    linkedin, scene, member, store
):
    wordless = lookup(member, store, "", datetime.now(UTC))
    late = lookup(member, store, "Hours ago", datetime.now(UTC) - timedelta(hours=2))
    linkedin.control.add_fault("status", status=503, path_prefix="/rest/posts")
    unanswered = lookup(member, store, "Busy", datetime.now(UTC))

    assert [found.presence for found in (wordless, late, unanswered)] == [Presence.UNKNOWN] * 3
    assert "of words" in wordless.reason and "too long" in late.reason
    assert "r_member_social" in unanswered.reason
    assert linkedin.control.stats()["posts_created_total"] == 0


# --- Metrics, delete, profile --------------------------------------------------------


def test_metrics_of_an_organization_post_and_a_deleted_one_gone(
    linkedin, scene, organization, store
):
    kept, _, _ = publish(organization, store, "Counted")
    removed, _, _ = publish(organization, store, "Removed")
    linkedin.control.set_counts(kept.external_id, likes=7, comments=3, impressions=120, shares=2)
    LinkedInAdapter().delete(account=organization, external_id=removed.external_id, store=store)

    reading = LinkedInAdapter().metrics_fetch(
        account=organization,
        external_ids=[kept.external_id, removed.external_id],
        store=store,
    )

    numbers = reading.metrics[kept.external_id]
    assert (numbers.likes, numbers.replies, numbers.impressions, numbers.reposts) == (7, 3, 120, 2)
    assert reading.gone == {removed.external_id}


def member_numbers(account, store, urn):
    reading = LinkedInAdapter().metrics_fetch(account=account, external_ids=[urn], store=store)
    return reading.metrics[urn]


def test_metrics_of_a_member_post_with_its_post_analytics(linkedin, member, store):
    made, _, _ = publish(member, store, "Mine")
    linkedin.control.set_counts(
        made.external_id, likes=2, comments=1, impressions=50, members_reached=40, shares=3
    )

    numbers = member_numbers(member, store, made.external_id)

    assert (numbers.likes, numbers.replies, numbers.impressions, numbers.reposts) == (2, 1, 50, 3)
    assert numbers.raw["share_statistics"]["uniqueImpressionsCount"] == 40
    requests_made = linkedin.control.stats()["requests"]
    assert requests_made["GET /rest/memberCreatorPostAnalytics"] == {"200": 3}


def test_a_member_sign_in_without_post_analytics_gives_likes_and_comments(linkedin, scene, store):
    token = linkedin.control.issue_token(
        scene.member_id, scopes=["openid", "profile", "w_member_social"]
    )["access_token"]
    member = replace(
        account_for(scene, organization=False),
        credentials={"access_token": token, "author": scene.member_urn},
    )
    made, _, _ = publish(member, store, "Mine")
    linkedin.control.set_counts(made.external_id, likes=2, comments=1, impressions=50)

    numbers = member_numbers(member, store, made.external_id)

    assert (numbers.likes, numbers.replies, numbers.impressions) == (2, 1, None)


def test_delete_takes_the_post_off_and_a_second_delete_is_fine(linkedin, scene, member, store):
    made, _, _ = publish(member, store, "Short-lived")

    LinkedInAdapter().delete(account=member, external_id=made.external_id, store=store)
    LinkedInAdapter().delete(account=member, external_id=made.external_id, store=store)

    assert linkedin.control.linkedin_posts(author=scene.member_urn) == []


def test_profiles_of_the_member_and_the_organization(linkedin, member, organization, store):
    adapter = LinkedInAdapter()

    assert adapter.profile_fetch(account=member, store=store).display_name == "Ada Lovelace"
    assert adapter.profile_fetch(account=organization, store=store).display_name == (
        "Kairos Bakery"
    )
