"""The X adapter over real HTTP, against the fake X server (fakex), with no database:
the account is plain data and what X reports is kept by an in-memory store."""

from datetime import timedelta

import pytest
from django.utils import timezone

from publishing.networks.base import (
    APP_KEY,
    Account,
    ErrorKind,
    PartContent,
    Presence,
    PublishError,
    PublishRequest,
    account_key,
)
from publishing.networks.x import XAdapter
from tests.networks import MemoryStore


@pytest.fixture
def account(x):
    """An X account of a user of the fake X, with a token that works."""
    user = x.control.create_connected_user(username="kairos_brand")
    return Account(
        id=1,
        network="x",
        handle="kairos_brand",
        external_id=user.id,
        name="@kairos_brand (X)",
        credentials={"access_token": user.access_token},
    )


@pytest.fixture
def store(account):
    return MemoryStore(account)


def request_for(account, *texts, published=()):
    return PublishRequest(
        account=account,
        parts=tuple(PartContent(text=text) for text in texts),
        idempotency_key="kairos-job-1",
        published_part_ids=tuple(published),
    )


def publish(account, *texts, published=(), store=None):
    saved = []
    result = XAdapter().publish(
        request_for(account, *texts, published=published),
        store=store or MemoryStore(account),
        on_part_published=lambda index, external_id: saved.append((index, external_id)),
    )
    return result, saved


def failure(account, text="Hello", store=None):
    with pytest.raises(PublishError) as caught:
        publish(account, text, store=store)
    return caught.value


def find(account, *texts, index=0, published=()):
    return XAdapter().find_part(
        request_for(account, *texts, published=published),
        index=index,
        since=timezone.now() - timedelta(minutes=1),
        store=MemoryStore(account),
    )


def test_a_post_goes_out_with_its_id_and_link(x, account):
    result, saved = publish(account, "Hello from Kairos")
    assert saved == [(0, result.external_id)]
    assert result.url == f"https://x.com/kairos_brand/status/{result.external_id}"
    assert x.control.posts_created(account.external_id, "Hello from Kairos") == 1


def test_a_thread_goes_out_in_order_each_part_replying_to_the_last(x, account):
    result, saved = publish(account, "1/3", "2/3", "3/3")
    posts = {post["id"]: post for post in x.control.posts(user_id=account.external_id)}
    ids = [external_id for _, external_id in saved]
    assert [posts[i]["text"] for i in ids] == ["1/3", "2/3", "3/3"]
    assert [posts[i].get("in_reply_to_tweet_id") for i in ids] == [None, ids[0], ids[1]]
    assert result.part_ids == tuple(ids)


def test_a_thread_resumes_after_the_parts_already_posted(x, account):
    first, _ = publish(account, "1/2")
    result, saved = publish(account, "1/2", "2/2", published=[first.external_id])
    assert [index for index, _ in saved] == [1]
    assert x.control.posts_created(account.external_id, "1/2") == 1
    assert result.external_id == first.external_id


def test_rate_limit_headers_are_reported_to_the_store(x, account, store):
    publish(account, "Counting", store=store)
    windows = {(r.key, r.window): (r.limit, r.remaining) for r in store.readings}
    assert windows[(account_key(account.id), "15m")] == (100, 99)
    assert (account_key(account.id), "24h") in windows
    assert (APP_KEY, "24h") in windows
    assert {r.endpoint for r in store.readings} == {"post"}


def test_a_spent_24_hour_window_waits_for_its_reset(x, account, store):
    x.control.set_rate_limit("create_post_per_user_24h", limit=1)
    publish(account, "one", store=store)
    error = failure(account, "two", store=store)
    assert (error.kind, error.http_status) == (ErrorKind.RATE_LIMITED, 429)
    assert error.retry_at > timezone.now() + timedelta(hours=23)
    spent = store.window(account_key(account.id), "24h")
    assert (spent.remaining, spent.resets_at) == (0, error.retry_at)


@pytest.mark.parametrize(
    ("setup", "kind", "words"),
    [
        (lambda c, a: c.revoke_user_tokens(a.external_id), ErrorKind.AUTH_EXPIRED, "reconnect"),
        (lambda c, a: c.set_credits_depleted(True), ErrorKind.BILLING, "billing"),
        (lambda c, a: c.set_usage_capped(True), ErrorKind.BILLING, "usage cap"),
    ],
)
def test_refusals_map_to_their_kind(x, account, store, setup, kind, words):
    setup(x.control, account)
    error = failure(account, store=store)
    assert error.kind == kind
    assert words in error.message
    assert not error.maybe_accepted
    # A billing refusal is noted for staff; nothing else is.
    assert store.billing == ({account.id: error.message} if kind == ErrorKind.BILLING else {})


def test_duplicate_content_is_its_own_kind(x, account):
    publish(account, "Same words")
    error = failure(account, "Same words")
    assert (error.kind, error.http_status) == (ErrorKind.DUPLICATE, 403)
    assert "edit the text or cancel" in error.message


def test_text_x_finds_too_long_is_a_validation_error(x, account):
    error = failure(account, "é" * 281)
    assert (error.kind, error.http_status) == (ErrorKind.VALIDATION, 400)
    assert "too long" in error.message


def test_a_server_error_may_have_published_so_it_is_uncertain(x, account):
    x.control.add_fault("status", status=503, method="POST", path_prefix="/2/tweets")
    error = failure(account)
    assert (error.kind, error.http_status, error.maybe_accepted) == (ErrorKind.SERVER, 503, True)


def test_an_answer_dropped_after_the_post_was_made_is_uncertain(x, account):
    x.control.add_fault("accept_then_drop", method="POST", path_prefix="/2/tweets")
    error = failure(account, "Dropped")
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, True)
    assert x.control.posts_created(account.external_id, "Dropped") == 1


def test_a_request_that_never_left_is_not_uncertain(account, settings):
    settings.X_API_BASE_URL = "http://127.0.0.1:1"
    error = failure(account)
    assert (error.kind, error.maybe_accepted) == (ErrorKind.NETWORK, False)


def test_validation_counts_weighted_length_before_sending(account):
    adapter = XAdapter()
    ok = "a" * 256 + " https://example.com/a/very/long/path/indeed"  # 256 + 1 + 23
    assert adapter.validate(account=account, parts=(PartContent(text=ok),)) == []
    problems = adapter.validate(account=account, parts=(PartContent(text="字" * 141),))
    assert problems == [
        "Part 1 counts 282 of X's 280 characters (links count 23, emoji and CJK count 2); "
        "shorten it by 2 or split it into a thread."
    ]


def test_find_part_finds_our_post_even_with_its_link_rewritten(x, account):
    text = "Read https://example.com/launch & more"
    result, _ = publish(account, text)
    lookup = find(account, text)
    assert (lookup.presence, lookup.external_id) == (Presence.FOUND, result.external_id)


def test_find_part_says_absent_when_the_text_is_not_there(x, account):
    publish(account, "Something else")
    lookup = find(account, "Ours")
    assert lookup.presence == Presence.ABSENT


def test_find_part_matches_a_reply_only_under_the_part_before_it(x, account):
    first, _ = publish(account, "1/2")
    publish(account, "2/2")  # the same text, but not a reply to our first part
    lookup = find(account, "1/2", "2/2", index=1, published=[first.external_id])
    assert lookup.presence == Presence.ABSENT


def test_find_part_is_unknown_when_x_cannot_answer(x, account):
    x.control.add_fault("status", status=500, method="GET", count=1)
    lookup = find(account, "Ours")
    assert lookup.presence == Presence.UNKNOWN
    assert "X answered" in lookup.reason
