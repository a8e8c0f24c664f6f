"""Statuses on the fake instance: create, replay by Idempotency-Key, refuse, read, delete."""

from __future__ import annotations

import pytest
import requests

from fakemastodon.control import ConnectedAccount, RunningFakeMastodon


@pytest.fixture
def alice(mastodon: RunningFakeMastodon) -> ConnectedAccount:
    return mastodon.control.create_connected_account(username="alice")


def post(mastodon, account, text, *, key=None, **fields) -> requests.Response:
    headers = dict(account.headers)
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(
        f"{mastodon.url}/api/v1/statuses",
        json={"status": text, **fields},
        headers=headers,
        timeout=5,
    )


def test_a_status_is_created_with_its_id_url_and_html_content(mastodon, alice):
    response = post(mastodon, alice, "Hello & <welcome>\nsecond line")
    status = response.json()
    assert response.status_code == 200
    assert status["url"] == f"https://mastodon.example/@alice/{status['id']}"
    assert status["content"] == "<p>Hello &amp; &lt;welcome&gt;<br />second line</p>"
    assert status["account"]["id"] == alice.id
    assert mastodon.control.statuses_created(alice.id, "Hello & <welcome>\nsecond line") == 1


def test_the_same_idempotency_key_answers_the_same_status(mastodon, alice):
    first = post(mastodon, alice, "Once", key="job-1:0").json()
    again = post(mastodon, alice, "Once", key="job-1:0").json()
    assert again["id"] == first["id"]
    assert mastodon.control.statuses_created(alice.id, "Once") == 1
    assert mastodon.control.idempotent_replays(alice.id, "Once") == 1


def test_a_key_is_forgotten_after_an_hour(mastodon, alice):
    first = post(mastodon, alice, "Once", key="job-1:0").json()
    mastodon.control.advance_time(3601)
    assert post(mastodon, alice, "Once", key="job-1:0").json()["id"] != first["id"]


def test_a_reply_names_its_parent_and_a_missing_parent_is_not_found(mastodon, alice):
    parent = post(mastodon, alice, "1/2").json()
    reply = post(mastodon, alice, "2/2", in_reply_to_id=parent["id"]).json()
    assert reply["in_reply_to_id"] == parent["id"]
    missing = post(mastodon, alice, "3/2", in_reply_to_id="1")
    assert (missing.status_code, missing.json()) == (404, {"error": "Record not found"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Validation failed: Text can't be blank"),
        ("é" * 501, "Validation failed: Text character limit of 500 exceeded"),
    ],
)
def test_refusals_are_422_with_mastodons_words(mastodon, alice, text, message):
    response = post(mastodon, alice, text)
    assert (response.status_code, response.json()) == (422, {"error": message})


def test_a_link_counts_as_23_characters_and_graphemes_count_once(mastodon, alice):
    link = "https://example.com/" + "a" * 100
    assert post(mastodon, alice, "a" * 476 + " " + link).status_code == 200
    assert post(mastodon, alice, "👩‍👩‍👧‍👦" * 500).status_code == 200
    mastodon.control.set_configuration(max_characters=10)
    assert post(mastodon, alice, "a" * 11).status_code == 422


def test_delete_answers_the_status_with_its_source_then_not_found(mastodon, alice):
    status = post(mastodon, alice, "Bye").json()
    url = f"{mastodon.url}/api/v1/statuses/{status['id']}"
    deleted = requests.delete(url, headers=alice.headers, timeout=5)
    assert (deleted.status_code, deleted.json()["text"]) == (200, "Bye")
    again = requests.delete(url, headers=alice.headers, timeout=5)
    assert (again.status_code, again.json()) == (404, {"error": "Record not found"})


def test_the_account_timeline_is_newest_first_and_pages_by_id(mastodon, alice):
    ids = [post(mastodon, alice, f"n{number}").json()["id"] for number in range(5)]
    url = f"{mastodon.url}/api/v1/accounts/{alice.id}/statuses"
    page = requests.get(url, params={"limit": 2, "since_id": ids[0]}, timeout=5)
    assert [status["id"] for status in page.json()] == [ids[4], ids[3]]
    assert f"max_id={ids[3]}" in page.headers["link"]
    older = requests.get(url, params={"limit": 2, "max_id": ids[3], "since_id": ids[0]}, timeout=5)
    assert [status["id"] for status in older.json()] == [ids[2], ids[1]]


def test_statuses_are_read_one_by_one_or_several_at_once(mastodon, alice):
    one, two = (post(mastodon, alice, text).json()["id"] for text in ("one", "two"))
    mastodon.control.set_status_counts(one, favourites_count=7)
    single = requests.get(f"{mastodon.url}/api/v1/statuses/{one}", timeout=5).json()
    assert single["favourites_count"] == 7
    several = requests.get(
        f"{mastodon.url}/api/v1/statuses", params=[("id[]", one), ("id[]", "1"), ("id[]", two)]
    ).json()
    assert [status["id"] for status in several] == [one, two]
