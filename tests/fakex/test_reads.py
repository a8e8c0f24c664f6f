"""Reads: a user's posts, post lookup with metrics, and the authenticated user."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from fakex.control import ConnectedUser, RunningFakeX


@pytest.fixture(autouse=True)
def fresh_fake(fake_x: RunningFakeX) -> None:
    fake_x.control.reset()


@pytest.fixture
def alice(fake_x: RunningFakeX) -> ConnectedUser:
    return fake_x.control.create_connected_user(
        username="alice", name="Alice A.", followers_count=42
    )


def post(fake_x: RunningFakeX, user: ConnectedUser, text: str) -> str:
    response = requests.post(
        f"{fake_x.url}/2/tweets", json={"text": text}, headers=user.headers, timeout=5
    )
    return response.json()["data"]["id"]


def timeline(fake_x: RunningFakeX, user: ConnectedUser, **params) -> requests.Response:
    return requests.get(
        f"{fake_x.url}/2/users/{user.id}/tweets", params=params, headers=user.headers, timeout=5
    )


def lookup(fake_x: RunningFakeX, user: ConnectedUser, **params) -> requests.Response:
    return requests.get(f"{fake_x.url}/2/tweets", params=params, headers=user.headers, timeout=5)


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_timeline_is_newest_first_with_meta(fake_x, alice):
    ids = [post(fake_x, alice, f"post {n}") for n in range(3)]

    body = timeline(fake_x, alice).json()

    assert [item["id"] for item in body["data"]] == ids[::-1]
    assert body["meta"] == {"result_count": 3, "newest_id": ids[2], "oldest_id": ids[0]}
    assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids"}


def test_an_empty_timeline_has_only_a_zero_count(fake_x, alice):
    assert timeline(fake_x, alice).json() == {"meta": {"result_count": 0}}


def test_timeline_pages_with_next_token(fake_x, alice):
    ids = [post(fake_x, alice, f"post {n}") for n in range(7)][::-1]

    first = timeline(fake_x, alice, max_results=5).json()
    second = timeline(
        fake_x, alice, max_results=5, pagination_token=first["meta"]["next_token"]
    ).json()

    assert [item["id"] for item in first["data"]] == ids[:5]
    assert [item["id"] for item in second["data"]] == ids[5:]
    assert "next_token" not in second["meta"]


def test_timeline_filters_by_since_id_and_time(fake_x, alice):
    early = post(fake_x, alice, "early")
    fake_x.control.advance_time(3600)
    late = post(fake_x, alice, "late")
    now = fake_x.control.advance_time(0)["now"]

    assert [item["id"] for item in timeline(fake_x, alice, since_id=early).json()["data"]] == [late]
    recent = timeline(fake_x, alice, start_time=iso(now - 600)).json()
    assert [item["id"] for item in recent["data"]] == [late]
    older = timeline(fake_x, alice, end_time=iso(now - 600)).json()
    assert [item["id"] for item in older["data"]] == [early]


def test_timeline_fields_on_request(fake_x, alice):
    post(fake_x, alice, "hello")

    item = timeline(
        fake_x, alice, **{"tweet.fields": "created_at,public_metrics,author_id"}
    ).json()["data"][0]

    assert item["author_id"] == alice.id
    assert item["created_at"].endswith("Z") and len(item["created_at"]) == 24
    assert set(item["public_metrics"]) == {
        "retweet_count",
        "reply_count",
        "like_count",
        "quote_count",
        "bookmark_count",
        "impression_count",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"max_results": "3"},
            "The `max_results` query parameter value [3] is not between 5 and 100",
        ),
        (
            {"max_results": "101"},
            "The `max_results` query parameter value [101] is not between 5 and 100",
        ),
        (
            {"since_id": "abc"},
            "The `since_id` query parameter value [abc] does not match ^[0-9]{1,19}$",
        ),
        ({"tweet.fields": "mood"}, "The `tweet.fields` query parameter value [mood] is not one of"),
        ({"start_time": "yesterday"}, "'start_time' must be a valid RFC 3339 date-time."),
        (
            {"pagination_token": "!!"},
            "The `pagination_token` query parameter value [!!] is not valid",
        ),
        ({"colour": "red"}, "The query parameter [colour] is not one of"),
    ],
)
def test_timeline_parameter_errors(fake_x, alice, params, message):
    response = timeline(fake_x, alice, **params)

    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]


def test_a_missing_user_timeline_is_a_200_with_errors(fake_x, alice):
    response = requests.get(f"{fake_x.url}/2/users/123/tweets", headers=alice.headers, timeout=5)

    assert response.status_code == 200
    assert response.json()["errors"][0]["title"] == "Not Found Error"


def test_lookup_reports_missing_ids_as_errors(fake_x, alice):
    found = post(fake_x, alice, "here")

    body = lookup(fake_x, alice, ids=f"{found},456").json()

    assert [item["id"] for item in body["data"]] == [found]
    assert body["errors"] == [
        {
            "value": "456",
            "detail": "Could not find tweet with id: [456].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "ids",
            "resource_id": "456",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ]


@pytest.mark.parametrize("ids", ["", ",".join(str(n) for n in range(1, 102)), "1,abc"])
def test_lookup_needs_1_to_100_numeric_ids(fake_x, alice, ids):
    assert lookup(fake_x, alice, ids=ids).status_code == 400


def test_owner_reads_non_public_and_organic_metrics(fake_x, alice):
    post_id = post(fake_x, alice, "mine")
    fields = "public_metrics,non_public_metrics,organic_metrics"

    body = lookup(fake_x, alice, ids=post_id, **{"tweet.fields": fields}).json()

    assert "errors" not in body
    item = body["data"][0]
    assert set(item["non_public_metrics"]) == {
        "impression_count",
        "url_link_clicks",
        "user_profile_clicks",
        "engagements",
    }
    assert "organic_metrics" in item


def test_non_public_metrics_of_another_users_post_are_a_field_error(fake_x, alice):
    bob = fake_x.control.create_connected_user(username="bob")
    post_id = post(fake_x, bob, "bob's")

    response = lookup(
        fake_x, alice, ids=post_id, **{"tweet.fields": "public_metrics,non_public_metrics"}
    )

    assert response.status_code == 200
    body = response.json()
    assert "non_public_metrics" not in body["data"][0]
    assert "public_metrics" in body["data"][0]
    assert body["errors"][0] == {
        "resource_type": "tweet",
        "field": "non_public_metrics.impression_count",
        "parameter": "id",
        "resource_id": post_id,
        "title": "Field Authorization Error",
        "section": "data",
        "detail": "Sorry, you are not authorized to access 'non_public_metrics.impression_count' "
        f"on the Tweet with id : [{post_id}].",
        "value": post_id,
        "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
    }


def test_non_public_metrics_stop_after_30_days(fake_x, alice):
    post_id = post(fake_x, alice, "old")
    fake_x.control.advance_time(30 * 86400 + 1)
    fresh = {"Authorization": f"Bearer {fake_x.control.issue_tokens(alice.id)['access_token']}"}

    response = requests.get(
        f"{fake_x.url}/2/tweets",
        params={"ids": post_id, "tweet.fields": "organic_metrics"},
        headers=fresh,
        timeout=5,
    )

    assert response.json()["errors"][0]["field"].startswith("organic_metrics.")


def test_metrics_grow_with_age_unless_pinned(fake_x, alice):
    post_id = post(fake_x, alice, "growing")

    def impressions() -> int:
        data = lookup(fake_x, alice, ids=post_id, **{"tweet.fields": "public_metrics"}).json()[
            "data"
        ]
        return data[0]["public_metrics"]["impression_count"]

    at_start = impressions()
    fake_x.control.advance_time(3600)
    an_hour_later = impressions()
    assert an_hour_later > at_start

    fake_x.control.set_post_metrics(
        post_id, public_metrics={"impression_count": 5, "like_count": 3}
    )
    data = lookup(fake_x, alice, ids=post_id, **{"tweet.fields": "public_metrics"}).json()["data"][
        0
    ]
    assert data["public_metrics"]["impression_count"] == 5
    assert data["public_metrics"]["like_count"] == 3


def test_me_answers_id_name_username(fake_x, alice):
    response = requests.get(f"{fake_x.url}/2/users/me", headers=alice.headers, timeout=5)

    assert response.json() == {"data": {"id": alice.id, "name": "Alice A.", "username": "alice"}}


def test_me_adds_requested_user_fields(fake_x, alice):
    fake_x.control.update_user(alice.id, subscription_type="Premium")
    post(fake_x, alice, "one")
    params = {"user.fields": "public_metrics,subscription_type,profile_image_url"}

    data = requests.get(
        f"{fake_x.url}/2/users/me", params=params, headers=alice.headers, timeout=5
    ).json()["data"]

    assert data["subscription_type"] == "Premium"
    assert data["public_metrics"]["followers_count"] == 42
    assert data["public_metrics"]["tweet_count"] == 1
    assert data["profile_image_url"].startswith("https://")


def test_me_rejects_unknown_user_fields(fake_x, alice):
    params = {"user.fields": "shoe_size"}

    assert (
        requests.get(
            f"{fake_x.url}/2/users/me", params=params, headers=alice.headers, timeout=5
        ).status_code
        == 400
    )
