"""Throttles with Mastodon's headers, and injected faults (fakex's rules) on the fake instance."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from fakemastodon.control import FakeMastodonProcess


@pytest.fixture
def alice(mastodon):
    return mastodon.control.create_connected_account(username="alice")


def post(mastodon, account, text="hi"):
    return requests.post(
        f"{mastodon.url}/api/v1/statuses",
        json={"status": text},
        headers=account.headers,
        timeout=5,
    )


def test_every_answer_reports_the_nearest_throttle_with_an_iso_reset(mastodon, alice):
    mastodon.control.set_rate_limit("statuses", limit=2, period_seconds=3 * 3600)
    response = post(mastodon, alice, "one")
    assert response.headers["x-ratelimit-limit"] == "2"
    assert response.headers["x-ratelimit-remaining"] == "1"
    assert datetime.fromisoformat(response.headers["x-ratelimit-reset"])
    post(mastodon, alice, "two")
    refused = post(mastodon, alice, "three")
    assert (refused.status_code, refused.json()) == (429, {"error": "Too many requests"})
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert mastodon.control.statuses_created(alice.id, "three") == 0


def test_an_injected_429_looks_like_a_spent_throttle(mastodon, alice):
    mastodon.control.add_fault("status", status=429, method="POST")
    refused = post(mastodon, alice)
    assert (refused.status_code, refused.headers["x-ratelimit-remaining"]) == (429, "0")


def test_an_injected_503_says_mastodons_words(mastodon, alice):
    mastodon.control.add_fault("status", status=503)
    response = post(mastodon, alice)
    assert response.status_code == 503
    assert "temporary problem" in response.json()["error"]


def test_accept_then_drop_makes_the_status_and_answers_nothing(mastodon, alice):
    mastodon.control.add_fault("accept_then_drop", method="POST", path_prefix="/api/v1/statuses")
    with pytest.raises(requests.ConnectionError):
        post(mastodon, alice, "dropped")
    assert mastodon.control.statuses_created(alice.id, "dropped") == 1


def test_latency_delays_the_answer(mastodon, alice):
    mastodon.control.add_fault("latency", latency_ms=200)
    response = post(mastodon, alice)
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.2


def test_the_process_announces_its_url_and_serves():
    with FakeMastodonProcess() as fake:
        alice = fake.control.create_connected_account(username="alice")
        assert post(fake, alice, "hi").status_code == 200
        assert fake.control.statuses_created(alice.id, "hi") == 1
