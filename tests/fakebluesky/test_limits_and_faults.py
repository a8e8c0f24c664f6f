"""Rate-limit headers and refusals, injected faults, and the fake as a subprocess."""

import pytest
import requests

from fakebluesky.control import FakeBlueskyProcess


def test_writes_spend_points_of_the_hourly_window(xrpc, alice):
    answer = xrpc.create_post(alice)
    assert answer.headers["RateLimit-Limit"] == "5000"
    assert answer.headers["RateLimit-Remaining"] == "4997"
    assert answer.headers["RateLimit-Policy"] == "5000;w=3600"


def test_a_spent_window_refuses_with_its_reset(bsky, xrpc, alice):
    bsky.control.set_rate_limit("repo_write_hour", limit=3)
    xrpc.create_post(alice, "one")
    refused = xrpc.create_post(alice, "two")
    assert refused.status_code == 429
    assert refused.json() == {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["RateLimit-Reset"]) > 0
    assert bsky.control.posts_created(alice.did, "two") == 0


@pytest.mark.parametrize(
    ("status", "error"), [(500, "InternalServerError"), (503, "NotEnoughResources")]
)
def test_an_injected_server_error_makes_nothing(bsky, xrpc, alice, status, error):
    bsky.control.add_fault("status", status=status, path_prefix="/xrpc/com.atproto.repo")
    answer = xrpc.create_post(alice, "Lost")
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert bsky.control.posts_created(alice.did, "Lost") == 0


def test_an_injected_429_says_when_to_come_back(bsky, xrpc, alice):
    bsky.control.add_fault("status", status=429, user_id=alice.did)
    answer = xrpc.create_post(alice)
    assert (answer.status_code, answer.headers["RateLimit-Remaining"]) == (429, "0")


def test_accept_then_drop_makes_the_post_and_answers_nothing(bsky, xrpc, alice):
    bsky.control.add_fault("accept_then_drop", method="POST")
    with pytest.raises(requests.ConnectionError):
        xrpc.create_post(alice, "Made")
    assert bsky.control.posts_created(alice.did, "Made") == 1


def test_latency_delays_the_answer(bsky, xrpc, alice):
    bsky.control.add_fault("latency", latency_ms=300)
    answer = xrpc.create_post(alice)
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.3


def test_an_unknown_method_is_not_implemented(xrpc):
    answer = xrpc.get("app.bsky.feed.getTimeline")
    assert (answer.status_code, answer.json()["error"]) == (501, "MethodNotImplemented")


def test_the_process_announces_its_url_and_serves():
    with FakeBlueskyProcess() as bsky:
        alice = bsky.control.create_signed_in_account(handle="alice.bsky.social")
        answer = requests.post(
            f"{bsky.url}/xrpc/com.atproto.repo.uploadBlob",
            data=b"png",
            headers={**alice.headers, "Content-Type": "image/png"},
            timeout=5,
        )
        assert answer.status_code == 200
        assert len(bsky.control.blobs()) == 1
