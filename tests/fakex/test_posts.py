"""POST /2/tweets and DELETE /2/tweets/:id over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from twitter_text import parse_tweet

from fakex.control import ConnectedUser, RunningFakeX
from fakex.posts import weighted_length
from fakex.problems import (
    DUPLICATE_CONTENT_DETAIL,
    REPLY_NOT_SUMMONED_DETAIL,
    TEXT_TOO_LONG_MESSAGE,
)


@pytest.fixture(autouse=True)
def fresh_fake(fake_x: RunningFakeX) -> None:
    fake_x.control.reset()


@pytest.fixture
def alice(fake_x: RunningFakeX) -> ConnectedUser:
    return fake_x.control.create_connected_user(username="alice")


@pytest.fixture
def bob(fake_x: RunningFakeX) -> ConnectedUser:
    return fake_x.control.create_connected_user(username="bob")


def post(fake_x: RunningFakeX, user: ConnectedUser, body: dict) -> requests.Response:
    return requests.post(f"{fake_x.url}/2/tweets", json=body, headers=user.headers, timeout=5)


def test_created_post_has_x_body_and_increasing_snowflake_ids(fake_x, alice):
    first = post(fake_x, alice, {"text": "first"})
    second = post(fake_x, alice, {"text": "second"})

    assert first.status_code == 201
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    data = first.json()["data"]
    assert list(data) == ["edit_history_tweet_ids", "id", "text"]
    assert data["text"] == "first"
    assert data["edit_history_tweet_ids"] == [data["id"]]
    second_id = second.json()["data"]["id"]
    assert len(data["id"]) == 19 and data["id"].isdigit()
    assert int(second_id) > int(data["id"])
    assert fake_x.control.posts_created(alice.id, "first") == 1


def test_links_come_back_shortened_to_t_co(fake_x, alice):
    response = post(fake_x, alice, {"text": "read https://example.com/a?b=1 now"})

    text = response.json()["data"]["text"]
    assert text.startswith("read https://t.co/")
    assert text.endswith(" now")
    assert fake_x.control.posts_created(alice.id, "read https://example.com/a?b=1 now") == 1


def test_link_shortening_can_be_switched_off(fake_x, alice):
    fake_x.control.set_tco_links(False)

    response = post(fake_x, alice, {"text": "read https://example.com"})

    assert response.json()["data"]["text"] == "read https://example.com"


def test_unknown_field_is_an_invalid_request(fake_x, alice):
    response = post(fake_x, alice, {"text": "hi", "colour": "red"})

    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid Request"
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert body["errors"] == [
        {
            "parameters": {"colour": ["red"]},
            "message": "$.colour: is not defined in the schema and the schema does not allow "
            "additional properties",
        }
    ]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"text": 5}, "text"),
        ({"text": "hi", "reply": {"in_reply_to_tweet_id": "abc"}}, "reply.in_reply_to_tweet_id"),
        ({"media": {"media_ids": ["1", "2", "3", "4", "5"]}}, "media.media_ids"),
        ({"media": {"media_ids": []}}, "media.media_ids"),
        ({"text": "hi", "poll": {"options": ["one"], "duration_minutes": 60}}, "poll.options"),
        ({"text": "hi", "reply_settings": "everyone"}, "reply_settings"),
        ({}, "text"),
        ({"text": ""}, "text"),
    ],
)
def test_schema_violations_name_the_parameter(fake_x, alice, body, parameter):
    response = post(fake_x, alice, body)

    assert response.status_code == 400
    assert parameter in response.json()["errors"][0]["parameters"]


def test_media_poll_quote_and_card_are_mutually_exclusive(fake_x, alice):
    body = {
        "text": "hi",
        "quote_tweet_id": "1",
        "poll": {"options": ["a", "b"], "duration_minutes": 5},
    }

    response = post(fake_x, alice, body)

    assert response.status_code == 400


def test_weighted_length_counts_urls_as_23_and_cjk_as_2(fake_x, alice):
    fits = "https://example.com/x " + "a" * 199 + " " + "字" * 28  # 23 + 1 + 199 + 1 + 56
    too_long = fits + "a"

    assert post(fake_x, alice, {"text": fits}).status_code == 201
    refused = post(fake_x, alice, {"text": too_long})

    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"message": TEXT_TOO_LONG_MESSAGE}]
    assert fake_x.control.posts_created(alice.id, too_long) == 0


@pytest.mark.parametrize(
    ("subscription", "created"), [("Premium", 201), ("PremiumPlus", 201), ("Basic", 400)]
)
def test_long_posts_need_a_premium_subscription(fake_x, subscription, created):
    user = fake_x.control.create_connected_user(username="writer", subscription_type=subscription)

    assert post(fake_x, user, {"text": "a" * 25_000}).status_code == created
    assert post(fake_x, user, {"text": "b" * 25_001}).status_code == 400


def test_duplicate_text_is_refused_with_the_observed_403(fake_x, alice):
    post(fake_x, alice, {"text": "same"})

    response = post(fake_x, alice, {"text": "same"})

    assert response.status_code == 403
    assert response.json() == {
        "detail": DUPLICATE_CONTENT_DETAIL,
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    assert fake_x.control.posts_created(alice.id, "same") == 1
    assert fake_x.control.duplicate_refusals(alice.id, "same") == 1


def test_duplicates_are_per_user(fake_x, alice, bob):
    post(fake_x, alice, {"text": "same"})

    assert post(fake_x, bob, {"text": "same"}).status_code == 201


def test_duplicate_window_ends(fake_x, alice):
    fake_x.control.set_duplicate_detection(True, window_seconds=600)
    post(fake_x, alice, {"text": "same"})
    fake_x.control.advance_time(601)

    assert post(fake_x, alice, {"text": "same"}).status_code == 201


def test_duplicate_detection_can_be_switched_off(fake_x, alice):
    fake_x.control.set_duplicate_detection(False)
    post(fake_x, alice, {"text": "same"})

    assert post(fake_x, alice, {"text": "same"}).status_code == 201
    assert fake_x.control.posts_created(alice.id, "same") == 2


def test_a_deleted_post_no_longer_counts_as_duplicate(fake_x, alice):
    post_id = post(fake_x, alice, {"text": "same"}).json()["data"]["id"]
    requests.delete(f"{fake_x.url}/2/tweets/{post_id}", headers=alice.headers, timeout=5)

    assert post(fake_x, alice, {"text": "same"}).status_code == 201


def test_a_thread_replies_to_its_own_posts(fake_x, alice):
    first = post(fake_x, alice, {"text": "1/2"}).json()["data"]["id"]

    second = post(fake_x, alice, {"text": "2/2", "reply": {"in_reply_to_tweet_id": first}})

    assert second.status_code == 201


def test_replying_to_someone_who_did_not_mention_you_is_forbidden(fake_x, alice, bob):
    bobs = post(fake_x, bob, {"text": "hello world"}).json()["data"]["id"]

    response = post(fake_x, alice, {"text": "hi bob", "reply": {"in_reply_to_tweet_id": bobs}})

    assert response.status_code == 403
    assert response.json()["detail"] == REPLY_NOT_SUMMONED_DETAIL
    assert fake_x.control.posts_created(alice.id, "hi bob") == 0


def test_replying_when_mentioned_is_allowed(fake_x, alice, bob):
    bobs = post(fake_x, bob, {"text": "what do you think @Alice?"}).json()["data"]["id"]

    response = post(fake_x, alice, {"text": "agreed", "reply": {"in_reply_to_tweet_id": bobs}})

    assert response.status_code == 201


def test_replying_to_a_missing_post_is_forbidden(fake_x, alice):
    response = post(fake_x, alice, {"text": "hi", "reply": {"in_reply_to_tweet_id": "123"}})

    assert response.status_code == 403


def test_the_author_deletes_a_post(fake_x, alice):
    post_id = post(fake_x, alice, {"text": "bye"}).json()["data"]["id"]

    response = requests.delete(f"{fake_x.url}/2/tweets/{post_id}", headers=alice.headers, timeout=5)

    assert response.status_code == 200
    assert response.json() == {"data": {"deleted": True}}
    assert fake_x.control.posts(user_id=alice.id) == []


def test_deleting_someone_elses_post_is_forbidden(fake_x, alice, bob):
    post_id = post(fake_x, bob, {"text": "mine"}).json()["data"]["id"]

    response = requests.delete(f"{fake_x.url}/2/tweets/{post_id}", headers=alice.headers, timeout=5)

    assert response.status_code == 403
    assert response.json()["title"] == "Forbidden"
    assert len(fake_x.control.posts(user_id=bob.id)) == 1


@pytest.mark.parametrize(("post_id", "status"), [("123", 404), ("abc", 400)])
def test_deleting_a_missing_or_malformed_id(fake_x, alice, post_id, status):
    response = requests.delete(f"{fake_x.url}/2/tweets/{post_id}", headers=alice.headers, timeout=5)

    assert response.status_code == status


def test_deleting_twice_finds_nothing_the_second_time(fake_x, alice):
    post_id = post(fake_x, alice, {"text": "bye"}).json()["data"]["id"]
    url = f"{fake_x.url}/2/tweets/{post_id}"
    requests.delete(url, headers=alice.headers, timeout=5)

    assert requests.delete(url, headers=alice.headers, timeout=5).status_code == 404


def test_concurrent_posts_are_each_created_exactly_once(fake_x):
    users = [fake_x.control.create_connected_user(username=f"user{n}") for n in range(4)]

    def post_many(user: ConnectedUser) -> list[int]:
        session = requests.Session()
        return [
            session.post(
                f"{fake_x.url}/2/tweets", json={"text": f"n{n}"}, headers=user.headers, timeout=5
            ).status_code
            for n in range(25)
        ]

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        statuses = [status for result in pool.map(post_many, users) for status in result]

    assert statuses == [201] * 100
    stats = fake_x.control.stats()
    assert stats["posts_created_total"] == 100
    assert all(entry["count"] == 1 for entry in stats["posts_created"])
    ids = [post["id"] for post in fake_x.control.posts()]
    assert len(set(ids)) == 100


@pytest.mark.parametrize(
    "text",
    [
        "plain words",
        "line\r\nbreaks\rand\nmore",
        "see https://example.com/a?b=1 and example.org/x, then http://t.co/abc",
        "a" * 300,
        'tabs\tand ~!@#$%^&*()_+{}|:"<>? symbols',
        "café naïve",
        "字 and 😷👾 and 🙋🏽👨‍🎤",
    ],
)
def test_weighted_length_agrees_with_twitter_text(text):
    assert weighted_length(text) == parse_tweet(text).weightedLength
