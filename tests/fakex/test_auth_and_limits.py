"""Authentication, scopes, rate-limit windows, billing refusals and the headers on every answer."""

from __future__ import annotations

import pytest
import requests

from fakex.control import ConnectedUser, FakeXControlError, RunningFakeX

RATE_LIMIT_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
DAILY_HEADERS = tuple(
    f"x-{who}-limit-24hour-{part}"
    for who in ("user", "app")
    for part in ("limit", "remaining", "reset")
)
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY_REQUESTS = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}


@pytest.fixture(autouse=True)
def fresh_fake(fake_x: RunningFakeX) -> None:
    fake_x.control.reset()


@pytest.fixture
def alice(fake_x: RunningFakeX) -> ConnectedUser:
    return fake_x.control.create_connected_user(username="alice")


def post(fake_x: RunningFakeX, headers: dict[str, str], text: str) -> requests.Response:
    return requests.post(f"{fake_x.url}/2/tweets", json={"text": text}, headers=headers, timeout=5)


def test_every_answer_carries_x_headers(fake_x, alice):
    session = requests.Session()
    url = fake_x.url
    answers = [
        session.post(f"{url}/2/tweets", json={"text": "hi"}, headers=alice.headers),
        session.post(f"{url}/2/tweets", json={"text": "hi"}, headers=alice.headers),
        session.post(f"{url}/2/tweets", json={"text": "hi"}),
        session.get(f"{url}/2/users/me", headers=alice.headers),
        session.get(f"{url}/2/tweets", params={"ids": "1"}, headers=alice.headers),
        session.get(f"{url}/2/users/{alice.id}/tweets", headers=alice.headers),
        session.delete(f"{url}/2/tweets/1", headers=alice.headers),
        session.get(
            f"{url}/2/media/upload",
            params={"command": "STATUS", "media_id": "1"},
            headers=alice.headers,
        ),
        session.post(f"{url}/2/oauth2/token", data={"grant_type": "refresh_token"}),
        session.get(f"{url}/i/oauth2/authorize", allow_redirects=False),
        session.get(f"{url}/2/nowhere"),
        session.get(f"{url}/_fake/stats"),
    ]

    for answer in answers:
        assert answer.headers["content-type"] == "application/json; charset=utf-8", answer.url
        for name in (*RATE_LIMIT_HEADERS, "x-transaction-id", "api-version", "x-response-time"):
            assert answer.headers[name], (answer.url, name)
        assert int(answer.headers["x-rate-limit-reset"]) > 1_700_000_000
    assert answers[0].status_code == 201
    assert answers[1].status_code == 403
    assert answers[2].status_code == 401
    for created in answers[:2]:
        assert all(created.headers[name] for name in DAILY_HEADERS)


def test_each_post_counts_down_the_15_minute_window(fake_x, alice):
    first = post(fake_x, alice.headers, "one")
    second = post(fake_x, alice.headers, "two")

    assert first.headers["x-rate-limit-limit"] == "100"
    assert first.headers["x-rate-limit-remaining"] == "99"
    assert second.headers["x-rate-limit-remaining"] == "98"
    assert second.headers["x-user-limit-24hour-remaining"] == "9998"
    assert second.headers["x-app-limit-24hour-remaining"] == "9998"
    assert first.headers["x-rate-limit-reset"] == second.headers["x-rate-limit-reset"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}],
)
def test_a_missing_or_unknown_token_is_unauthorized(fake_x, headers):
    response = post(fake_x, headers, "hi")

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_an_access_token_expires_after_two_hours(fake_x, alice):
    fake_x.control.advance_time(7199)
    assert (
        requests.get(f"{fake_x.url}/2/users/me", headers=alice.headers, timeout=5).status_code
        == 200
    )

    fake_x.control.advance_time(2)

    response = requests.get(f"{fake_x.url}/2/users/me", headers=alice.headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_the_clock_offset_can_be_set_back(fake_x, alice):
    fake_x.control.set_time_offset(7201)
    assert post(fake_x, alice.headers, "too late").status_code == 401

    fake_x.control.set_time_offset(0)

    assert post(fake_x, alice.headers, "in time").status_code == 201


def test_revoked_access_is_unauthorized(fake_x, alice):
    fake_x.control.revoke_user_tokens(alice.id)

    assert post(fake_x, alice.headers, "hi").status_code == 401


def test_a_token_without_the_scope_gets_the_problem_json_403(fake_x, alice):
    token = fake_x.control.issue_tokens(alice.id, scopes=["tweet.read", "users.read"])
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    response = post(fake_x, headers, "hi")

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "title": "Forbidden",
        "type": "about:blank",
        "status": 403,
        "detail": "Forbidden",
    }


def test_the_15_minute_window_refuses_then_resets(fake_x, alice):
    fake_x.control.set_rate_limit("create_post_per_user_15min", limit=2)
    post(fake_x, alice.headers, "one")
    post(fake_x, alice.headers, "two")

    refused = post(fake_x, alice.headers, "three")

    assert refused.status_code == 429
    assert refused.json() == TOO_MANY_REQUESTS
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert fake_x.control.posts_created(alice.id, "three") == 0

    fake_x.control.advance_time(15 * 60)
    assert post(fake_x, alice.headers, "three").status_code == 201


def test_a_spent_daily_window_refuses_while_15_minute_remaining_is_positive(fake_x, alice):
    fake_x.control.set_rate_limit("create_post_per_user_24h", limit=2)
    first = post(fake_x, alice.headers, "one")
    post(fake_x, alice.headers, "two")

    refused = post(fake_x, alice.headers, "three")

    assert refused.status_code == 429
    assert int(refused.headers["x-rate-limit-remaining"]) > 0
    assert refused.headers["x-user-limit-24hour-remaining"] == "0"
    # The retry time is the daily reset, not the 15-minute one.
    daily_reset = int(refused.headers["x-user-limit-24hour-reset"])
    assert daily_reset == int(first.headers["x-user-limit-24hour-reset"])
    assert daily_reset > int(refused.headers["x-rate-limit-reset"])


def test_the_app_window_is_shared_by_the_apps_users(fake_x, alice):
    bob = fake_x.control.create_connected_user(username="bob")
    fake_x.control.set_rate_limit("create_post_per_app_24h", limit=1)
    post(fake_x, alice.headers, "one")

    refused = post(fake_x, bob.headers, "two")

    assert refused.status_code == 429
    assert refused.headers["x-app-limit-24hour-remaining"] == "0"
    assert refused.headers["x-user-limit-24hour-remaining"] != "0"


def test_the_basic_profile_allows_100_posts_a_day(fake_x, alice):
    fake_x.control.set_rate_limit_profile("basic")

    response = post(fake_x, alice.headers, "one")

    assert response.headers["x-user-limit-24hour-limit"] == "100"
    assert response.headers["x-app-limit-24hour-limit"] == "1667"


def test_other_endpoints_have_their_own_window(fake_x, alice):
    fake_x.control.set_rate_limit("me_per_user_15min", limit=1)
    url = f"{fake_x.url}/2/users/me"

    first = requests.get(url, headers=alice.headers, timeout=5)
    second = requests.get(url, headers=alice.headers, timeout=5)

    assert first.headers["x-rate-limit-limit"] == "1"
    assert second.status_code == 429
    assert post(fake_x, alice.headers, "still fine").status_code == 201


def test_usage_cap_answers_the_usage_capped_429(fake_x, alice):
    fake_x.control.set_usage_capped(True)

    response = post(fake_x, alice.headers, "hi")

    assert response.status_code == 429
    assert response.json() == {
        "title": "UsageCapExceeded",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
        "period": "Monthly",
        "scope": "Product",
    }
    assert fake_x.control.posts_created(alice.id, "hi") == 0


def test_depleted_credits_answer_402(fake_x, alice):
    fake_x.control.set_credits_depleted(True)

    response = post(fake_x, alice.headers, "hi")

    assert response.status_code == 402
    body = response.json()
    assert body["title"] == "CreditsDepleted"
    assert body["type"] == "https://api.twitter.com/2/problems/credits"
    assert f"[{body['account_id']}]" in body["detail"]


def test_problem_types_can_use_the_x_host(fake_x, alice):
    fake_x.control.set_problem_host("api.x.com")

    response = post(fake_x, alice.headers, "a" * 281)

    assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"


def test_unknown_routes_are_404(fake_x):
    response = requests.get(f"{fake_x.url}/2/spaces", timeout=5)

    assert response.status_code == 404
    assert fake_x.control.stats()["requests"]["unmatched"] == {"404": 1}


def test_stats_count_requests_per_endpoint_and_status(fake_x, alice):
    post(fake_x, alice.headers, "one")
    post(fake_x, alice.headers, "one")
    post(fake_x, {}, "one")

    assert fake_x.control.stats()["requests"]["POST /2/tweets"] == {"201": 1, "403": 1, "401": 1}


def test_control_reports_limits_and_settings(fake_x):
    fake_x.control.set_rate_limit("delete_post_per_user_15min", limit=7, period_seconds=60)

    limits = fake_x.control.rate_limits()

    assert limits["profile"] == "pro"
    assert limits["limits"]["delete_post_per_user_15min"] == {
        "limit": 7,
        "period_seconds": 60,
        "per": "user",
    }
    assert fake_x.control.settings()["duplicate_window_seconds"] == 24 * 60 * 60


@pytest.mark.parametrize(
    ("call", "arguments"),
    [
        ("set_rate_limit_profile", ("enterprise",)),
        ("set_usage_capped", ("yes",)),
        ("issue_tokens", ("404",)),
        ("log_in", ("404",)),
    ],
)
def test_control_refuses_what_it_cannot_do(fake_x, call, arguments):
    with pytest.raises(FakeXControlError):
        getattr(fake_x.control, call)(*arguments)
